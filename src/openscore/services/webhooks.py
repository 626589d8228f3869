"""Delivering partner events: the SSRF guard on endpoint URLs, the signature, and the
deliverer that drains the registry's outbox.

**Signature** (as Stripe's): each POST carries
``Openscore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; a
receiver recomputes it over the raw body, compares in constant time, and refuses a ``t``
older than a few minutes (replays). :func:`sign` / :func:`verify_signature` do both ends.

**Delivery**: :func:`deliver_due` takes the due events (claiming each, so that two
deliverers never send one twice at the same time), POSTs them with a short timeout and
**no redirects followed**, and records the outcome: a 2xx is delivered; anything else
(timeout, refused connection, 3xx, 4xx, 5xx) is tried again after 10 s, 20 s, 40 s ...
(at most an hour apart, with jitter) until 24 h after the event, then given up. Delivery
is at least once: a receiver deduplicates by ``Openscore-Event-Id``. :func:`deliver_forever`
is the server's background loop around it (a plain function, so a housekeeping worker
can call :func:`deliver_due` instead).

**SSRF guard** (:func:`check_url`): http(s) only, no credentials in the URL, and every
address the host resolves to must be public — no loopback, private, link-local, shared,
multicast or reserved address — unless it lies in a network the operator allows
(``OPENSCORE_API_WEBHOOK_ALLOW_NETWORKS``, e.g. ``127.0.0.1/32`` in tests). It is
checked when the URL is registered, and again **at connect time** on every attempt:
:func:`guarded_client`'s transport resolves the host once per connection, checks every
address it got, and connects to a checked address — never to a second answer of the
resolver, so a name that answers a public address to the check and 127.0.0.1 to the
connection (DNS rebinding) reaches nothing. The request keeps the URL's host in its
``Host`` header, and HTTPS sends it as SNI and verifies the certificate against it.
No proxy from the environment is used (it would do its own resolving), and no redirect
is followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from sqlalchemy.engine import Engine

from openscore.errors import InputError
from openscore.registry import utc_now
from openscore.registry import webhooks as outbox

log = logging.getLogger("openscore.webhooks")

SIGNATURE_HEADER = "Openscore-Signature"
RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
#: How long a claimed event is left to its deliverer before it is due again.
CLAIM = timedelta(minutes=2)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: Iterable[str] | str) -> tuple[Network, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(ipaddress.ip_network(i.strip(), strict=False) for i in items if i.strip())


#: host, port -> the addresses it resolves to (``socket.getaddrinfo`` by default)
Resolver = Callable[[str, int], list[str]]


def _host_and_port(url: str) -> tuple[str, int]:
    """The checks that need no resolver: scheme, credentials, a host."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InputError(f"not a valid URL ({exc})", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise InputError("must be an http or https URL", field="url")
    if parts.username or parts.password:
        raise InputError("must not carry a user name or password", field="url")
    host = parts.hostname
    if not host:
        raise InputError("has no host", field="url")
    return host, port


def checked_addresses(
    host: str, port: int, *, allow: Sequence[Network] = (), resolve: Resolver | None = None
) -> list[str]:
    """Resolve ``host`` once and return its addresses if every one may be sent to;
    :class:`InputError` (field ``url``) if any may not, or if it does not resolve."""
    try:
        addresses = (resolve or _resolve)(host, port)
    except (OSError, UnicodeError):  # "https://.x": an empty label fails in the IDNA codec
        raise InputError(f"the host {host!r} does not resolve", field="url") from None
    if not addresses:
        raise InputError(f"the host {host!r} does not resolve", field="url")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if any(address in network for network in allow):
            continue
        if not address.is_global or address.is_multicast:
            raise InputError(
                f"{host!r} is a private, loopback or reserved address ({address}): "
                "openscore sends events only to public addresses",
                field="url",
            )
    return list(addresses)


def check_url(
    url: str,
    *,
    allow: Sequence[Network] = (),
    resolve: Resolver | None = None,
) -> str:
    """``url`` if openscore may POST to it; :class:`InputError` (field ``url``) says why not."""
    host, port = _host_and_port(url)
    checked_addresses(host, port, allow=allow, resolve=resolve)
    return url


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, but a TCP connection goes only to an address that was
    checked: the host is resolved once here, every address checked, and the socket
    opened to the checked address itself (so the system resolver is not asked again)."""

    def __init__(self, allow: Sequence[Network], resolve: Resolver | None) -> None:
        self.allow = tuple(allow)
        self.resolve = resolve
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        *others, last = checked_addresses(host, port, allow=self.allow, resolve=self.resolve)
        for address in others:  # like socket.create_connection: the next on failure
            try:
                return self._connect(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        return self._connect(last, port, timeout, local_address, socket_options)

    def _connect(
        self,
        address: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.NetworkStream:
        return self._sockets.connect_tcp(
            address.split("%")[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise InputError("webhooks are sent over TCP only", field="url")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(
        self,
        *,
        allow: Sequence[Network],
        resolve: Resolver | None,
        verify: Any = True,
    ) -> None:
        super().__init__(verify=verify, trust_env=False)
        # The pool httpx builds, over the guarded backend. httpcore wraps the socket in
        # TLS with ``server_hostname`` = the URL's host, so SNI and the certificate check
        # are for the name, while the socket goes to the checked address.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allow, resolve),
        )


def guarded_client(
    *,
    allow: Sequence[Network] = (),
    timeout: float = 5.0,
    resolve: Resolver | None = None,
    verify: Any = True,
) -> httpx.Client:
    """An HTTP client for sending to partner-given URLs: connects only to addresses that
    pass the SSRF guard at connect time, follows no redirect, ignores proxy settings of
    the environment. A refused address raises :class:`InputError` from the request.

    ``verify``: httpx's TLS verification (an ``ssl.SSLContext`` in tests)."""
    return httpx.Client(
        transport=_GuardedTransport(allow=allow, resolve=resolve, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """A receiver's check: a ``v1`` matches and ``t`` is within ``tolerance`` seconds."""
    try:
        parts = [p.split("=", 1) for p in header.split(",")]
        stamp = int(next(v for k, v in parts if k == "t"))
        candidates = [v for k, v in parts if k == "v1"]
    except (ValueError, StopIteration):
        return False
    if abs((now or time.time()) - stamp) > tolerance:
        return False
    expected = sign(secret, body, stamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)


def next_attempt(created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failures (``None``: the 24 h are over)."""
    wait = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    wait = wait * random.uniform(0.8, 1.2)
    at = now + wait
    return None if at - created_at > RETRY_WINDOW else at


def event_body(delivery: outbox.Delivery) -> bytes:
    return json.dumps(
        {
            "id": delivery.id,
            "type": delivery.event_type,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    lags: list[float] = field(default_factory=list)  # seconds from event to delivery

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


def _attempt(
    client: httpx.Client,
    endpoint: outbox.Endpoint,
    delivery: outbox.Delivery,
    allow: Sequence[Network],
    guarded: bool = False,
) -> tuple[bool, int | None, str | None]:
    """One POST. ``guarded``: ``client`` checks addresses at connect time (then the host
    is resolved once, by the client); otherwise the URL is checked here first."""
    try:
        if guarded:
            _host_and_port(endpoint.url)
        else:
            check_url(endpoint.url, allow=allow)
    except InputError as exc:
        return False, None, exc.reason
    body = event_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "openscore-webhooks/1",
        "Openscore-Event-Id": delivery.id,
        "Openscore-Event-Type": delivery.event_type,
        SIGNATURE_HEADER: sign(endpoint.secret, body, int(time.time())),
    }
    try:
        answer = client.post(endpoint.url, content=body, headers=headers, follow_redirects=False)
    except InputError as exc:  # the guarded client refused the address it resolved
        return False, None, exc.reason
    except httpx.TimeoutException:
        return False, None, "timed out"
    except httpx.HTTPError as exc:
        return False, None, f"{type(exc).__name__}: could not connect"
    if 200 <= answer.status_code < 300:
        return True, answer.status_code, None
    if 300 <= answer.status_code < 400:
        return False, answer.status_code, "redirect not followed"
    return False, answer.status_code, f"HTTP {answer.status_code}"


def deliver_due(
    engine: Engine,
    *,
    allow: Sequence[Network] = (),
    timeout: float = 5.0,
    limit: int = 100,
    workers: int = 8,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    write: Callable[[], Any] | None = None,
    resolve: Resolver | None = None,
) -> DeliveryReport:
    """One pass: queue newly expired grants' events, then attempt every due event.

    ``write``: the app's write-transaction factory (on SQLite it queues writers behind
    one lock, which a deliverer must join rather than contend with); default
    ``engine.begin``. ``client``: default :func:`guarded_client` (addresses checked at
    connect time); a client of the caller's gets the URL checked before each attempt
    instead. ``resolve``: the guarded client's resolver (default the system's).
    """
    begin = write or engine.begin
    report = DeliveryReport()
    fixed = now  # a caller's clock (tests, a worker replaying) also dates the outcomes
    now = now or utc_now()
    with engine.connect() as conn:
        due = outbox.due_events(conn, now=now, limit=limit)
        expiring = outbox.has_newly_expired_grants(conn, now=now)
    if expiring:
        with begin() as conn:
            outbox.enqueue_expired_grants(conn, now=now)
            due = outbox.due_events(conn, now=now, limit=limit)
    if not due:
        return report
    claimed: list[tuple[outbox.Delivery, outbox.Endpoint]] = []
    with begin() as conn:
        endpoints: dict[str, outbox.Endpoint] = {}
        for delivery in due:
            if delivery.partner_id not in endpoints:
                endpoints[delivery.partner_id] = outbox.get_endpoint(conn, delivery.partner_id)
            if outbox.claim(conn, delivery, until=now + CLAIM):
                claimed.append((delivery, endpoints[delivery.partner_id]))
    own = client is None
    client = client or guarded_client(allow=allow, timeout=timeout, resolve=resolve)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(claimed)))) as pool:
            outcomes = list(
                pool.map(lambda c: _attempt(client, c[1], c[0], allow, guarded=own), claimed)
            )
    finally:
        if own:
            client.close()
    done = fixed or utc_now()
    with begin() as conn:
        for (delivery, _), (ok, status_code, error) in zip(claimed, outcomes, strict=True):
            retry = None if ok else next_attempt(delivery.created_at, delivery.attempts + 1, done)
            outbox.record_attempt(
                conn,
                delivery.id,
                ok=ok,
                status_code=status_code,
                error=error,
                next_attempt_at=retry,
                now=done,
            )
            if ok:
                report.delivered += 1
                report.lags.append((done - delivery.created_at).total_seconds())
            elif retry is None:
                report.failed += 1
            else:
                report.retrying += 1
    return report


async def deliver_forever(
    engine: Engine,
    *,
    allow: Sequence[Network] = (),
    interval: float = 1.0,
    timeout: float = 5.0,
    write: Callable[[], Any] | None = None,
) -> None:
    """The server's loop: a pass every ``interval`` seconds (at once again after a full
    batch). Errors are logged and the loop goes on: the outbox keeps every event."""
    from starlette.concurrency import run_in_threadpool

    while True:
        try:
            report = await run_in_threadpool(
                lambda: deliver_due(engine, allow=allow, timeout=timeout, write=write)
            )
            if report.attempted >= 100:
                continue
        except Exception as exc:
            log.warning("webhook delivery pass failed (%s); will retry", type(exc).__name__)
        await asyncio.sleep(interval)
