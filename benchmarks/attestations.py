"""Score attestations issued and verified per second on one core, and partner webhook
delivery lag at a steady event rate.

    .venv/bin/python benchmarks/attestations.py [--seconds 5] [--rate 100] [--events 1000]

**Attestations** (one thread, keys in memory, as a verifier holding the JWKS would):

* issue: ``attestations.sdjwt.issue`` of a three-claim token (salts, digests, decoys,
  the Ed25519 signature) — the signing part of ``POST /v1/me/attestations``, without its
  registry write;
* verify: ``attestations.sdjwt.verify`` of the token with two of its claims disclosed
  (header and algorithm checks, strict base64url, the signature, dates, digests);
* baseline, same run: a bare Ed25519 signature check (``cryptography``) of the same
  signed bytes, i.e. the floor any verifier of this token pays.

**Webhooks**: a SQLite registry in a temporary directory, one partner with an endpoint on
a threaded ``http.server`` on 127.0.0.1; ``--events`` events are put in the outbox at
``--rate`` per second (one transaction each, as a grant revocation would), while the
server's loop (``services.webhooks.deliver_forever`` with its default 1 s interval) drains
it. Lag = arrival at the receiver minus the event's ``created_at``. Baseline, same run: a
direct signed POST of the same body to the same receiver (no outbox).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import save


def _rate(fn, seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(100):
            fn()
        count += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def attestations(seconds: float) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from joserfc.jwk import KeySet

    from openscore.attestations import KeyStore, present, sdjwt

    with tempfile.TemporaryDirectory() as tmp:
        store = KeyStore(Path(tmp) / "keys")
        key = store.current().key
        jwks = store.jwks()
    now = datetime.now(UTC)
    claims = {"score_at_least": 650, "band_at_least": "very_good", "score": 712}

    def issue() -> str:
        return sdjwt.issue(
            claims,
            key=key,
            issuer="openscore",
            jti="a" * 32,
            issued_at=now,
            expires_at=now + timedelta(days=30),
            visible={"as_of": "2026-12-01"},
        )

    token = present(issue(), ["score_at_least", "band_at_least"])
    keyset = KeySet.import_key_set(jwks)
    jwt = token.split("~", 1)[0]
    head, payload, sig = jwt.split(".")
    signed = f"{head}.{payload}".encode()
    signature = sdjwt.unb64(sig, "sig")
    public = Ed25519PublicKey.from_public_bytes(sdjwt.unb64(jwks["keys"][0]["x"], "x"))
    return {
        "issue_per_s": _rate(issue, seconds),
        "verify_per_s": _rate(lambda: sdjwt.verify(token, keyset, now=now), seconds),
        "ed25519_verify_per_s": _rate(lambda: public.verify(signature, signed), seconds),
        "token_bytes": len(token),
    }


class _Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.arrivals.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def webhooks(rate: float, events: int, interval: float) -> dict:
    import httpx

    from openscore import registry
    from openscore.registry import webhooks as outbox
    from openscore.services import webhooks as service

    receiver = _Receiver()
    allow = service.parse_networks("127.0.0.1/32")
    with tempfile.TemporaryDirectory() as tmp:
        engine = registry.create_registry_engine(
            f"sqlite:///{tmp}/registry.sqlite", secret_key="bench-secret"
        )
        registry.upgrade(engine)
        with engine.begin() as conn:
            registry.create_partner(conn, name="Bench", actor="system", partner_id="bench")
            endpoint, _ = outbox.set_endpoint(conn, "bench", receiver.url)
        # baseline: the same signed POST straight to the receiver
        direct = []
        with httpx.Client() as client:
            for i in range(200):
                body = json.dumps({"id": str(i), "type": "webhook.ping", "data": {}}).encode()
                started = time.perf_counter()
                client.post(
                    receiver.url,
                    content=body,
                    headers={
                        service.SIGNATURE_HEADER: service.sign(
                            endpoint.secret, body, int(time.time())
                        )
                    },
                )
                direct.append(time.perf_counter() - started)
        receiver.arrivals.clear()

        loop = asyncio.new_event_loop()
        task = loop.create_task(
            service.deliver_forever(engine, allow=allow, interval=interval, timeout=5.0)
        )
        runner = threading.Thread(
            target=loop.run_until_complete,
            args=(asyncio.gather(task, return_exceptions=True),),
            daemon=True,
        )
        runner.start()
        start = time.perf_counter()
        for i in range(events):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with engine.begin() as conn:
                outbox.enqueue_event(conn, "bench", "webhook.ping", {"n": i})
        produced = time.perf_counter() - start
        deadline = time.time() + 60
        while len(receiver.arrivals) < events and time.time() < deadline:
            time.sleep(0.05)
        loop.call_soon_threadsafe(task.cancel)
        runner.join(timeout=10)
        engine.dispose()
    lags = [
        at - datetime.fromisoformat(event["created_at"]).timestamp()
        for at, event in receiver.arrivals
    ]
    receiver.server.shutdown()
    return {
        "events": events,
        "rate_asked": rate,
        "rate_produced": events / produced,
        "delivered": len({e["id"] for _, e in receiver.arrivals}),
        "interval_s": interval,
        "lag_p50_s": statistics.median(lags),
        "lag_p99_s": _percentile(lags, 0.99),
        "lag_max_s": max(lags),
        "direct_post_p50_ms": statistics.median(direct) * 1000,
        "direct_post_p99_ms": _percentile(direct, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    import os

    load = os.getloadavg()[0]
    att = attestations(args.seconds)
    hooks = webhooks(args.rate, args.events, args.interval)
    summary = (
        f"one core: issue {att['issue_per_s']:,.0f}/s, verify {att['verify_per_s']:,.0f}/s "
        f"= {att['verify_per_s'] / att['ed25519_verify_per_s']:.2f}x a bare Ed25519 check "
        f"({att['ed25519_verify_per_s']:,.0f}/s), token {att['token_bytes']} B; webhooks at "
        f"{hooks['rate_produced']:.0f} events/s ({hooks['events']} events, SQLite, "
        f"deliverer every {hooks['interval_s']:g} s): {hooks['delivered']} delivered, lag "
        f"p50 {hooks['lag_p50_s']:.2f} s, p99 {hooks['lag_p99_s']:.2f} s, max "
        f"{hooks['lag_max_s']:.2f} s vs a direct POST p99 {hooks['direct_post_p99_ms']:.1f} ms; "
        f"load average {load:.1f} at start (aim: verify >= 5,000/s)"
    )
    command = "python benchmarks/attestations.py" + "".join(f" {a}" for a in sys.argv[1:])
    save(
        "attestations",
        {"attestations": att, "webhooks": hooks, "load_average": load},
        summary,
        command,
        doc=not args.no_doc,
    )


if __name__ == "__main__":
    main()
