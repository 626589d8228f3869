"""Partner webhooks against a real HTTP receiver on 127.0.0.1: signed events for grant
revocation and expiry and fulfilment, retries with backoff on 500s and timeouts, no
redirect followed, given up after 24 h, the SSRF guard, and what the partner sees."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import InputError
from openscore.services import webhooks
from openscore.services.webhooks import check_url, deliver_due, parse_networks, verify_signature

from fixtures.api import ApiWorld, build_world

LOCAL = parse_networks("127.0.0.1/32")


class Receiver:
    """A small threaded HTTP server that records what it is sent and answers as told."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: Any = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                if receiver.mode == "slow":
                    time.sleep(1.5)
                if receiver.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/internal")
                    self.end_headers()
                    return
                self.send_response(500 if receiver.mode == "fail" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"http://{host}:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture()
def world(registry_engine: Engine, tmp_path: Path, cheap_passwords: None) -> ApiWorld:
    return build_world(
        registry_engine,
        tmp_path / "data",
        webhook_allow_networks="127.0.0.1/32",
        webhook_interval_seconds=0,
    )


def _register(world: ApiWorld, receiver: Receiver, partner: str = "bikes") -> str:
    answer = world.partner(partner).put("/v1/partner/webhook", json={"url": receiver.url})
    assert answer.status_code == 200, answer.text
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_")
    return secret


def _deliveries(world: ApiWorld, partner: str = "bikes") -> list[dict[str, Any]]:
    answer = world.partner(partner).get("/v1/partner/webhook-deliveries")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_revoked_grant_is_pushed_signed(world: ApiWorld, receiver: Receiver) -> None:
    secret = _register(world, receiver)
    subject = world.subject()
    grant = world.grant(subject, "bikes")
    assert subject.post(f"/v1/me/grants/{grant['id']}/revoke").status_code == 200
    assert receiver.requests == []  # the request that caused it sent nothing itself
    (pending,) = _deliveries(world)
    assert pending["status"] == "pending" and pending["event_type"] == "grant.revoked"

    report = deliver_due(world.engine, allow=LOCAL)
    assert report.delivered == 1
    (request,) = receiver.requests
    body = request["body"]
    event = json.loads(body)
    assert event["type"] == "grant.revoked" and event["data"]["grant_id"] == grant["id"]
    assert event["data"]["person_id"] == subject.id
    assert request["headers"]["Openscore-Event-Id"] == event["id"] == pending["id"]
    signature = request["headers"]["Openscore-Signature"]
    assert verify_signature(secret, body, signature)
    assert not verify_signature(secret, body + b" ", signature)
    assert not verify_signature("whsec_other", body, signature)
    assert not verify_signature(secret, body, signature, now=time.time() + 3600)
    (done,) = _deliveries(world)
    assert done["status"] == "delivered" and done["attempts"] == 1
    assert done["last_status_code"] == 200
    # delivered once: another pass sends nothing
    assert deliver_due(world.engine, allow=LOCAL).attempted == 0
    assert len(receiver.requests) == 1
    # the secret is shown only when made
    assert world.partner("bikes").get("/v1/partner/webhook").json()["secret"] is None


def test_500s_and_timeouts_are_retried_with_backoff_then_given_up(
    world: ApiWorld, receiver: Receiver
) -> None:
    _register(world, receiver)
    assert world.partner("bikes").post("/v1/partner/webhook/ping").status_code == 202
    receiver.mode = "fail"
    start = registry.utc_now()
    report = deliver_due(world.engine, allow=LOCAL, now=start)
    assert report.retrying == 1
    (row,) = _deliveries(world)
    assert row["status"] == "pending" and row["last_status_code"] == 500
    assert row["last_error"] == "HTTP 500"
    wait = (registry.utc_now().fromisoformat(row["next_attempt_at"]) - start).total_seconds()
    assert 8 <= wait <= 12  # the first retry after ~10 s (with jitter)
    # not due yet: nothing is sent
    assert deliver_due(world.engine, allow=LOCAL, now=start + timedelta(seconds=5)).attempted == 0

    receiver.mode = "slow"
    began = time.monotonic()
    report = deliver_due(world.engine, allow=LOCAL, timeout=0.3, now=start + timedelta(seconds=15))
    assert time.monotonic() - began < 1.4  # a hanging receiver costs the timeout only
    assert report.retrying == 1
    (row,) = _deliveries(world)
    assert row["attempts"] == 2 and row["last_error"] == "timed out"
    wait = (
        registry.utc_now().fromisoformat(row["next_attempt_at"]) - (start + timedelta(seconds=15))
    ).total_seconds()
    assert 16 <= wait <= 24  # doubled

    receiver.mode = "fail"
    report = deliver_due(world.engine, allow=LOCAL, now=start + timedelta(hours=25))
    assert report.failed == 1
    assert _deliveries(world)[0]["status"] == "failed"


def test_a_redirect_is_not_followed(world: ApiWorld, receiver: Receiver) -> None:
    _register(world, receiver)
    world.partner("bikes").post("/v1/partner/webhook/ping")
    receiver.mode = "redirect"
    report = deliver_due(world.engine, allow=LOCAL)
    assert report.retrying == 1
    assert len(receiver.requests) == 1  # and nothing went to the Location
    (row,) = _deliveries(world)
    assert row["last_status_code"] == 302 and row["last_error"] == "redirect not followed"


def test_expired_grants_and_fulfilment_are_pushed_once(world: ApiWorld, receiver: Receiver) -> None:
    _register(world, receiver)
    person = world.person()
    with world.engine.begin() as conn:
        grant = registry.create_grant(
            conn,
            person,
            partner_id="bikes",
            products=["bike"],
            purpose="deposit_waiver",
            scope="decision",
            expires_at=registry.utc_now() + timedelta(seconds=1),
            actor="subject",
        )
    later = registry.utc_now() + timedelta(seconds=5)
    assert deliver_due(world.engine, allow=LOCAL, now=later).delivered == 1
    assert deliver_due(world.engine, allow=LOCAL, now=later + timedelta(seconds=60)).attempted == 0
    (request,) = receiver.requests
    event = json.loads(request["body"])
    assert event["type"] == "grant.expired" and event["data"]["grant_id"] == grant.id

    subject = world.subject()
    live = world.grant(subject, "bikes")
    report = {
        "kind": "rental",
        "report_id": "r-1",
        "person_id": subject.id,
        "grant_id": live["id"],
        "product": "bike",
        "deposit_waived": True,
        "started_at": "2025-08-01T10:00:00Z",
        "due_back": "2025-08-02T10:00:00Z",
        "returned_at": "2025-08-02T09:00:00Z",
        "outcome": "returned",
    }
    answer = world.partner("bikes").post(
        "/v1/fulfilment", json={"reports": [report]}, headers={"Idempotency-Key": "k-1"}
    )
    assert answer.status_code in (200, 201), answer.text
    world.partner("bikes").post(
        "/v1/fulfilment", json={"reports": [report]}, headers={"Idempotency-Key": "k-1"}
    )  # a replay queues nothing more
    deliver_due(world.engine, allow=LOCAL)
    types = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert types == ["grant.expired", "fulfilment.accepted"]
    assert json.loads(receiver.requests[-1]["body"])["data"]["report_ids"] == ["r-1"]


def test_the_ssrf_guard() -> None:
    for url in (
        "ftp://example.org/x",
        "http://127.0.0.1:9/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://100.64.0.1/x",
        "http://user:pw@example.org/x",
        "http:///x",
    ):
        with pytest.raises(InputError):
            check_url(
                url,
                resolve=lambda host, port: (
                    ["93.184.216.34"] if "example" in host else [host.strip("[]")]
                ),
            )
    # a public name that resolves to a private address is refused too (checked per try)
    with pytest.raises(InputError, match="private"):
        check_url("https://hooks.example.org/x", resolve=lambda h, p: ["192.168.1.5"])
    assert check_url("https://hooks.example.org/x", resolve=lambda h, p: ["93.184.216.34"])
    assert check_url("http://127.0.0.1:9/x", allow=LOCAL)


def test_the_api_refuses_a_private_url_unless_allowed(world: ApiWorld, tmp_path: Path) -> None:
    strict = build_world(world.engine, tmp_path / "strict", webhook_interval_seconds=0)
    answer = strict.partner("cars").put(
        "/v1/partner/webhook", json={"url": "http://127.0.0.1:9/hooks"}
    )
    assert answer.status_code == 422 and answer.json()["field"] == "url"
    assert (
        strict.partner("cars").put("/v1/partner/webhook", json={"url": "gopher://x"}).status_code
        == 422
    )
    assert strict.partner("cars").get("/v1/partner/webhook").status_code == 404
    assert strict.partner("cars").post("/v1/partner/webhook/ping").status_code == 404
    # a subject or an operator is not a partner
    assert strict.operator().get("/v1/partner/webhook-deliveries").status_code == 403


def test_rotation_and_removal(world: ApiWorld, receiver: Receiver) -> None:
    first = _register(world, receiver)
    partner = world.partner("bikes")
    same = partner.put("/v1/partner/webhook", json={"url": receiver.url + "2"}).json()
    assert same["secret"] is None and same["url"].endswith("/hooks2")
    rotated = partner.put(
        "/v1/partner/webhook", json={"url": receiver.url, "rotate_secret": True}
    ).json()
    assert rotated["secret"] and rotated["secret"] != first
    partner.post("/v1/partner/webhook/ping")
    assert partner.delete("/v1/partner/webhook").status_code == 204
    assert deliver_due(world.engine, allow=LOCAL).attempted == 0
    assert _deliveries(world)[0]["status"] == "failed"
    assert webhooks.SIGNATURE_HEADER == "Openscore-Signature"


# -- DNS rebinding: the address connected to is the address checked --------------------


def _rebinding_resolver(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """The system resolver (``socket.getaddrinfo``, what every HTTP client asks) answers
    for ``rebind.test`` with ``answers`` in turn, then 127.0.0.1 for ever: a name that
    looks public to one look-up and is loopback to the next. Returns the answers given."""
    real = socket.getaddrinfo
    given: list[str] = []

    def rebinding(host: Any, *args: Any, **kw: Any) -> Any:
        if host != "rebind.test":
            return real(host, *args, **kw)
        given.append(answers.pop(0) if answers else "127.0.0.1")
        return real(given[-1], *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    return given


def test_a_name_that_rebinds_to_loopback_reaches_nothing(
    registry_engine: Engine, tmp_path: Path, cheap_passwords: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.2 stands for a public address (the one network the operator allows); the
    # receiver on 127.0.0.1, same port, is the internal service an attacker aims at
    allowed = "127.0.0.2/32"
    public = Receiver(host="127.0.0.2")
    internal = Receiver(host="127.0.0.1", port=public.port)
    try:
        world = build_world(
            registry_engine,
            tmp_path / "data",
            webhook_allow_networks=allowed,
            webhook_interval_seconds=0,
        )
        answers = ["127.0.0.2"]
        given = _rebinding_resolver(monkeypatch, answers)
        url = f"http://rebind.test:{public.port}/hooks"
        registered = world.partner("bikes").put("/v1/partner/webhook", json={"url": url})
        assert registered.status_code == 200, registered.text  # it looked public
        world.partner("bikes").post("/v1/partner/webhook/ping")

        answers.append("127.0.0.2")  # the delivery's look-up: public, then loopback after
        report = deliver_due(world.engine, allow=parse_networks(allowed))
        assert report.delivered == 1
        assert internal.requests == []  # what a second look-up at connect time reaches
        assert len(public.requests) == 1
        assert public.requests[0]["headers"]["Host"] == f"rebind.test:{public.port}"
        assert given == ["127.0.0.2", "127.0.0.2"]  # one look-up per attempt, no second

        # now the name answers loopback: refused when connecting, nothing sent anywhere
        world.partner("bikes").post("/v1/partner/webhook/ping")
        report = deliver_due(world.engine, allow=parse_networks(allowed))
        assert report.retrying == 1 and internal.requests == [] and len(public.requests) == 1
        row = _deliveries(world)[0]
        assert row["last_status_code"] is None and "loopback" in row["last_error"]
        assert "127.0.0.1" in row["last_error"]
    finally:
        public.close()
        internal.close()


def test_a_private_address_is_refused_at_connect_time(world: ApiWorld, receiver: Receiver) -> None:
    """With the system's own resolver: ``localhost`` is 127.0.0.1. A URL that never went
    through registration's check (stored directly) is still refused when connecting."""
    local = f"http://localhost:{receiver.port}/hooks"
    with webhooks.guarded_client(timeout=2) as client, pytest.raises(InputError, match="127"):
        client.post(local, content=b"{}")
    partner = world.partner("bikes")
    with world.engine.begin() as conn:
        webhooks.outbox.set_endpoint(conn, "bikes", local)
    partner.post("/v1/partner/webhook/ping")
    report = deliver_due(world.engine)  # no network allowed
    assert report.retrying == 1 and receiver.requests == []
    assert "private, loopback or reserved" in _deliveries(world)[0]["last_error"]
    # allowed by the operator: sent, to the address checked, under the name given
    with webhooks.guarded_client(allow=LOCAL, timeout=2) as client:
        assert client.post(local, content=b"{}").status_code == 200
    assert receiver.requests[-1]["headers"]["Host"] == f"localhost:{receiver.port}"
    # every address of the answer is checked, before any connection
    sent = len(receiver.requests)
    mixed = {"resolve": lambda h, p: ["127.0.0.1", "10.0.0.1"], "allow": LOCAL}
    with webhooks.guarded_client(timeout=2, **mixed) as client:
        with pytest.raises(InputError, match="10.0.0.1"):
            client.post(f"http://hooks.partner.test:{receiver.port}/hooks", content=b"{}")
    assert len(receiver.requests) == sent
    # checked addresses are tried in turn: nothing listens on 127.0.0.3, 127.0.0.1 answers
    both = {
        "resolve": lambda h, p: ["127.0.0.3", "127.0.0.1"],
        "allow": parse_networks("127.0.0.0/8"),
    }
    with webhooks.guarded_client(timeout=2, **both) as client:
        assert (
            client.post(f"http://hooks.partner.test:{receiver.port}/", content=b"{}").status_code
            == 200
        )
    assert len(receiver.requests) == sent + 1


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = registry.utc_now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_to_the_checked_address_verifies_the_name(tmp_path: Path) -> None:
    """The socket goes to the address the guard checked; TLS still sends the URL's host
    as SNI and checks the certificate against it (not against the address)."""
    cert, key = _certificate(tmp_path, "hooks.partner.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names: list[str | None] = []

    def sni(sock: Any, name: str | None, ctx: Any) -> None:
        names.append(name)

    server_tls.sni_callback = sni
    receiver = Receiver(tls=server_tls)
    trust = ssl.create_default_context(cafile=str(cert))
    to_local = {"resolve": lambda host, port: ["127.0.0.1"], "allow": LOCAL, "verify": trust}
    try:
        with webhooks.guarded_client(timeout=5, **to_local) as client:
            url = f"https://hooks.partner.test:{receiver.port}/hooks"
            assert client.post(url, content=b"{}").status_code == 200
            assert names == ["hooks.partner.test"]
            assert receiver.requests[-1]["headers"]["Host"] == f"hooks.partner.test:{receiver.port}"
            # another name at the same address: the certificate does not match it
            with pytest.raises(httpx.ConnectError, match="(?i)certificate|hostname"):
                client.post(f"https://other.partner.test:{receiver.port}/hooks", content=b"{}")
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
