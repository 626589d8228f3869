"""Attempt limits for log-in and sign-up: a sliding window of recent failures per key.

Log-in counts *failures* per login name and per client address: five wrong passwords for
one login within the window lock that login out (whoever tries, from wherever), twenty
from one address lock that address out (whichever logins it tries). While a key is over
its limit the password is not even checked, so a guess made then tells nothing, and the
answer is 429 with ``Retry-After`` — for an unknown login exactly as for a known one.

State is in the process (a dict of deques under a lock) by default; with
``OPENSCORE_API_REDIS_URL`` set it is shared by every worker through Redis
(:class:`RedisWindow`, see below), and so is the per-partner decision rate
(:class:`PerSecond`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from openscore.errors import RateLimited

#: Keys tracked at most per limiter; beyond it the stalest are dropped first.
MAX_KEYS = 200_000


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` if it may now."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None or len(events) < self.limit:
                return None
            # The oldest event that keeps the key at its limit must leave the window.
            oldest = events[len(events) - self.limit]
            return max(1, math.ceil(oldest + self.window - now))

    def hit(self, key: str) -> None:
        """Count one event for ``key``."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None:
                if len(self._events) >= MAX_KEYS:
                    self._prune(now)
                events = self._events.setdefault(key, deque())
            events.append(now)
            while len(events) > self.limit:
                events.popleft()

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._events):
            self._recent(key, now)
        if len(self._events) >= MAX_KEYS:
            stalest = sorted(self._events, key=lambda k: self._events[k][-1])
            for key in stalest[: MAX_KEYS // 10]:
                del self._events[key]


#: (name, limit, window seconds) -> a window with SlidingWindow's methods
WindowFactory = Callable[[str, int, float], Any]


def _local_windows(clock: Callable[[], float]) -> WindowFactory:
    return lambda _name, limit, window: SlidingWindow(limit, window, clock=clock)


def redis_windows(client: Any, prefix: str) -> WindowFactory:
    """Windows kept in Redis under ``prefix`` (wall-clock time: shared by processes)."""
    return lambda name, limit, window: RedisWindow(
        client, f"{prefix}:{name}", limit, window, clock=time.time
    )


class LoginLimiter:
    """Failures per login name and per client address (see the module docstring)."""

    def __init__(
        self,
        *,
        per_account: int,
        per_ip: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        make: WindowFactory | None = None,
    ) -> None:
        make = make or _local_windows(clock)
        self.accounts = make("login-account", per_account, window)
        self.addresses = make("login-address", per_ip, window)

    def check(self, login: str, address: str) -> None:
        """:class:`RateLimited` if either the login or the address is over its limit."""
        waits = [
            w
            for w in (self.accounts.retry_after(login), self.addresses.retry_after(address))
            if w is not None
        ]
        if waits:
            raise RateLimited(
                "too many failed log-ins: wait before trying again", retry_after=max(waits)
            )

    def failed(self, login: str, address: str) -> None:
        self.accounts.hit(login)
        self.addresses.hit(address)

    def succeeded(self, login: str) -> None:
        """A right password clears the login's failures (not the address's)."""
        self.accounts.reset(login)


class AttemptLimiter:
    """Every attempt counts (sign-ups: each costs a password hash whatever its outcome)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        make: WindowFactory | None = None,
        name: str = "attempts",
    ) -> None:
        self.window = (make or _local_windows(clock))(name, limit, window)

    def attempt(self, key: str, what: str) -> None:
        wait = self.window.retry_after(key)
        if wait is not None:
            raise RateLimited(f"too many {what}: wait before trying again", retry_after=wait)
        self.window.hit(key)


# -- shared across workers: Redis ---------------------------------------------------------
#
# With several workers (or servers), per-process counts let a client multiply its limit
# by the number of processes. When ``OPENSCORE_API_REDIS_URL`` is set, the limiters keep
# their counts in Redis instead (the machine's, 127.0.0.1:6379, in our deployments): one
# round trip per check, atomic per key, expired by Redis. Redis rather than the registry
# database: a counter there would be a write on every request of the hot path, queued
# behind the registry's writers on SQLite. Keys are prefixed with a hash of the registry
# URL, so deployments (and tests) sharing one Redis never share counts. If Redis stops
# answering, the limiters let requests through and log it (a rate limit protects the
# service; it must not become the outage).

log = logging.getLogger("openscore.api.ratelimit")


class RedisWindow:
    """:class:`SlidingWindow`'s interface over a Redis sorted set per key."""

    def __init__(
        self, client: Any, prefix: str, limit: int, window: float, *, clock: Callable[[], float]
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.limit = limit
        self.window = window
        self._clock = clock

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def retry_after(self, key: str) -> int | None:
        now = self._clock()
        name = self._key(key)
        try:
            pipe = self.client.pipeline()
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.zrange(name, -self.limit, -self.limit, withscores=True)
            pipe.zcard(name)
            _, oldest, count = pipe.execute()
        except Exception as exc:
            log.warning("rate limit store unavailable (%s): not limiting", type(exc).__name__)
            return None
        if count < self.limit or not oldest:
            return None
        return max(1, math.ceil(float(oldest[0][1]) + self.window - now))

    def hit(self, key: str) -> None:
        now = self._clock()
        name = self._key(key)
        try:
            pipe = self.client.pipeline()
            pipe.zadd(name, {f"{now!r}:{uuid.uuid4().hex[:8]}": now})
            pipe.zremrangebyrank(name, 0, -self.limit - 1)
            pipe.expire(name, math.ceil(self.window) + 1)
            pipe.execute()
        except Exception as exc:
            log.warning("rate limit store unavailable (%s): not counting", type(exc).__name__)

    def reset(self, key: str) -> None:
        try:
            self.client.delete(self._key(key))
        except Exception as exc:
            log.warning("rate limit store unavailable (%s): not reset", type(exc).__name__)


class PerSecond:
    """At most ``limit`` events per key per second (a fixed one-second window), in Redis
    when a client is given, else in this process."""

    def __init__(self, limit: int, *, client: Any = None, prefix: str = "") -> None:
        self.limit = limit
        self.client = client
        self.prefix = prefix
        self._local: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, what: str) -> None:
        """Count one event; :class:`RateLimited` (Retry-After 1) if over the limit."""
        if self.limit <= 0:
            return
        second = int(time.time())
        if self.client is not None:
            name = f"{self.prefix}:{key}:{second}"
            try:
                pipe = self.client.pipeline()
                pipe.incr(name)
                pipe.expire(name, 2)
                count = int(pipe.execute()[0])
            except Exception as exc:
                log.warning("rate limit store unavailable (%s): not limiting", type(exc).__name__)
                return
        else:
            with self._lock:
                at, n = self._local.get(key, (second, 0))
                count = n + 1 if at == second else 1
                self._local[key] = (second, count)
        if count > self.limit:
            raise RateLimited(f"more than {self.limit} {what} per second", retry_after=1)


def redis_client(url: str) -> Any:
    """A Redis client for ``url`` (``redis://127.0.0.1:6379/0``), with short timeouts so
    that a Redis that hangs cannot hang requests."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)


def key_prefix(registry_url: str) -> str:
    digest = hashlib.sha256(registry_url.encode()).hexdigest()[:12]
    return f"openscore:{digest}"
