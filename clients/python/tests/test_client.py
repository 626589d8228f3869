"""The client against a real ``openscore serve`` on 127.0.0.1."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from openscore_client import (
    OPERATIONS,
    AsyncClient,
    AttestationCreate,
    AuthenticationError,
    Client,
    Conflict,
    ConsentRefused,
    DecisionRequest,
    GrantCreate,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    RentalReport,
    attestations,
    webhooks,
)


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that answers with a script of statuses."""

    def __init__(self, script: list[tuple[int, dict[str, str]]] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script = list(script or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append(
                    {
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                        "path": self.path,
                    }
                )
                status, headers = outer.script.pop(0) if outer.script else (200, {})
                ok = (
                    b'{"items": []}'
                    if self.command == "GET"
                    else (b'{"run_id": "r", "accepted": 0, "duplicates": 0, "rejected": 0}')
                )
                body = ok if status == 200 else b"{}"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_every_partner_and_subject_route_has_a_client_method(server) -> None:
    """Every route but the operators' (and the health probe) has a method: a route added
    to the server without one fails here."""
    schema = httpx.get(f"{server.url}/openapi.json", timeout=60).json()
    by_route = {(op.method, op.path): name for name, op in OPERATIONS.items()}
    missing, covered = [], set()
    for path, item in schema["paths"].items():
        if path.startswith("/v1/operator") or path == "/v1/health":
            continue
        for method, operation in item.items():
            tags = operation.get("tags", [])
            assert any(
                t == "partners" or t.startswith(("subjects", "attestations", "catalogue"))
                for t in tags
            ), f"{method} {path}: a route of no known audience {tags}"
            if (method.upper(), path) not in by_route:
                missing.append(f"{method.upper()} {path}")
            else:
                covered.add(by_route[method.upper(), path])
    assert missing == [], f"routes without a client method: {missing}"
    assert len(covered) >= 45  # partners, a person's routes, the public ones
    for name, op in OPERATIONS.items():
        assert callable(getattr(Client, name)) and callable(getattr(AsyncClient, name)), name
        if op.path.startswith("/v1/"):
            assert op.method.lower() in schema["paths"][op.path], f"{name}: not on the server"


def test_a_partner_from_key_to_decision_and_webhooks(server) -> None:
    receiver = Receiver()
    person = Client(server.url)
    person.login(server.login, server.password)
    score = person.score()
    assert 350 <= score.score <= 950
    grant = person.create_grant(
        GrantCreate(partner_id="bikes", products=["bike"], purpose="deposit_waiver")
    )
    with Client(server.url, api_key=server.partner_key) as api:
        hook = api.set_webhook(receiver.url + "/hooks")
        assert hook.secret and hook.secret.startswith("whsec_")
        decision = api.create_decision(
            DecisionRequest(
                grant_id=grant.id,
                person_id=server.person_id,
                product_id="bike",
                purpose="deposit_waiver",
            )
        )
        assert decision.outcome in ("approve", "decline") and decision.score is None
        assert api.get_decision(decision.decision_id).decision_id == decision.decision_id
        report = RentalReport(
            report_id="c-1",
            person_id=server.person_id,
            grant_id=grant.id,
            product="bike",
            deposit_waived=True,
            started_at="2025-08-01T10:00:00Z",
            due_back="2025-08-02T10:00:00Z",
            returned_at="2025-08-02T09:00:00Z",
            outcome="returned",
        )
        first = api.report_fulfilment([report], idempotency_key="batch-1")
        again = api.report_fulfilment([report], idempotency_key="batch-1")
        assert first.run_id == again.run_id and first.accepted == 1
        person.revoke_grant(grant.id)
        with pytest.raises(ConsentRefused):
            api.create_decision(
                DecisionRequest(
                    grant_id=grant.id,
                    person_id=server.person_id,
                    product_id="bike",
                    purpose="deposit_waiver",
                )
            )
        with pytest.raises(NotFound):
            api.get_decision("0" * 32)
        with pytest.raises(InvalidInput) as bad:
            api.set_webhook("ftp://example.org/")
        assert bad.value.field == "url"
        # the server's deliverer pushes the revocation, signed
        deadline = time.monotonic() + 15
        while not any(b'"grant.revoked"' in r["body"] for r in receiver.requests):
            assert time.monotonic() < deadline, receiver.requests
            time.sleep(0.1)
        pushed = next(r for r in receiver.requests if b'"grant.revoked"' in r["body"])
        assert webhooks.verify_signature(
            hook.secret, pushed["body"], pushed["headers"]["Openscore-Signature"]
        )
        assert json.loads(pushed["body"])["data"]["grant_id"] == grant.id
        delivered = api.list_webhook_deliveries(status="delivered")
        assert "grant.revoked" in {d.event_type for d in delivered}
    with pytest.raises(AuthenticationError):
        Client(server.url, api_key="osk_wrong").get_webhook()
    receiver.close()


def test_a_person_proves_a_score_and_anyone_checks_it(server) -> None:
    person = Client(server.url)
    person.login(server.login, server.password)
    score = person.score().score
    issued = person.issue_attestation(AttestationCreate(min_score=350, exact_score=True))
    assert issued.token and issued.claims == {"score_at_least": 350, "score": score}
    anyone = Client(server.url)
    jwks = anyone.jwks()
    checked = attestations.verify(issued.token, jwks)
    assert checked["claims"]["score"] == score
    with pytest.raises(attestations.AttestationRefused, match="algorithm"):
        jwt, rest = issued.token.split("~", 1)
        head = attestations._b64(json.dumps({"alg": "none"}).encode())
        attestations.verify(head + jwt[jwt.index(".") :] + "~" + rest, jwks)
    assert anyone.verify_attestation(issued.token).valid
    person.revoke_attestation(issued.id)
    status = anyone.attestation_status()
    assert issued.id in {r["id"] for r in status.revoked}
    with pytest.raises(attestations.AttestationRefused, match="revoked"):
        attestations.verify(issued.token, jwks, revoked=[r["id"] for r in status.revoked])
    # a claim the current score does not support: a conflict with what is on file, named
    with pytest.raises(Conflict, match="min_score: the current score"):
        person.issue_attestation(AttestationCreate(min_score=950))


def test_async_client(server) -> None:
    async def run() -> None:
        async with AsyncClient(server.url, api_key=server.partner_key) as api:
            deliveries = await api.list_webhook_deliveries()
            assert isinstance(deliveries, list)
            with pytest.raises(NotFound):
                await api.get_decision("0" * 32)
            jwks = await api.jwks()
            assert jwks["keys"]
        async with AsyncClient(server.url) as me:
            await me.login(server.login, server.password)
            assert me.csrf_token
            score, consents = await asyncio.gather(me.score(), me.list_consents())
            assert score.model_id and score.as_of
            assert {c.source for c in consents} >= {"wallet", "credit", "rentals"}
            assert (await me.lock()).locked and not (await me.unlock()).locked
            await me.logout()
            with pytest.raises(AuthenticationError):
                await me.me()

    # A thread of its own: in a run that also drives Chromium, Playwright's sync API keeps
    # an event loop running on the main thread, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_retries_honour_retry_after_and_keep_the_idempotency_key() -> None:
    receiver = Receiver([(503, {"Retry-After": "0.2"}), (429, {"Retry-After": "0.1"})])
    try:
        with Client(receiver.url, api_key="k") as api:
            started = time.monotonic()
            api._call("report_fulfilment", {"reports": []})
            assert time.monotonic() - started >= 0.3
        keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
        assert len(receiver.requests) == 3 and len(keys) == 1
        receiver.script = [(503, {"Retry-After": "0"})] * 5
        with Client(receiver.url, max_retries=2) as api:
            from openscore_client import Unavailable

            with pytest.raises(Unavailable):
                api.list_webhook_deliveries()
    finally:
        receiver.close()


def test_signature_helper_refuses_tampering() -> None:
    body = b'{"id":"x"}'
    header = webhooks.sign("whsec_a", body, int(time.time()))
    assert webhooks.verify_signature("whsec_a", body, header)
    assert not webhooks.verify_signature("whsec_a", body + b"x", header)
    assert not webhooks.verify_signature("whsec_b", body, header)
    assert not webhooks.verify_signature("whsec_a", body, "garbage")
    old = webhooks.sign("whsec_a", body, int(time.time()) - 3600)
    assert not webhooks.verify_signature("whsec_a", body, old)


def test_a_person_uses_their_own_data(server) -> None:
    """A person's routes end to end: consents (a revocation changes the score as the
    what-if said it would), grants, a decision about them and a review, lock, inquiries
    with their audit proof, records and a dispute, export; then a new account erased."""
    me = Client(server.url)
    session = me.login(server.login, server.password)
    assert me.csrf_token == session.csrf_token and me.session().person_id == server.person_id
    assert me.me().person_id == server.person_id
    shared = {c.source for c in me.list_consents() if c.shared}
    assert shared >= {"wallet", "credit", "rentals"}

    # the source whose loss moves the score: the what-if predicts the new score exactly
    before = me.score().score
    forecasts = {s: me.what_if(without_sources=[s]) for s in sorted(shared)}
    source, forecast = max(forecasts.items(), key=lambda kv: abs(kv[1].change or 0))
    assert forecast.before.score == before and forecast.change != 0
    revoked = me.revoke_source(source)
    assert not revoked.consent.shared and revoked.score.score == forecast.after.score != before
    assert me.score().score == revoked.score.score
    assert me.history(limit=2)[0].score == revoked.score.score
    assert source not in {r.source for r in me.list_records(limit=200)}  # purged
    again = me.share_source(source)
    assert again.shared and again.source == source

    # a grant, a partner's decision about me, my view of it and a request for review
    grant = me.create_grant(
        GrantCreate(partner_id="bikes", products=["bike"], purpose="deposit_waiver")
    )
    assert me.get_grant(grant.id).active and grant.id in {g.id for g in me.list_grants(active=True)}
    asked = DecisionRequest(
        grant_id=grant.id, person_id=server.person_id, product_id="bike", purpose="deposit_waiver"
    )
    with Client(server.url, api_key=server.partner_key) as partner:
        decision = partner.create_decision(asked)
        mine = me.get_my_decision(decision.decision_id)
        assert mine.outcome == decision.outcome and mine.score == me.score().score
        assert decision.decision_id in {d.id for d in me.list_my_decisions()}
        review = me.request_review(decision.decision_id, "I returned every bike on time")
        assert review.status == "requested" and me.get_my_decision(decision.decision_id).review
        with pytest.raises(Conflict):
            me.request_review(decision.decision_id, "again")
        # a locked file: no partner gets a decision until it is unlocked
        assert me.lock().locked and me.get_lock().locked and me.me().locked
        with pytest.raises(ConsentRefused):
            partner.create_decision(asked)
        assert not me.unlock().locked
        assert partner.create_decision(asked).outcome == decision.outcome

    # who looked, with the audit log's proof
    looked = me.list_inquiries(limit=50)
    inquiry = next(i for i in looked if i.id == decision.inquiry_id)
    assert me.get_inquiry(inquiry.id).partner_id == "bikes"
    deadline = time.monotonic() + 15
    while True:  # the sequencer integrates the entry within its merge delay
        try:
            proof = me.prove_inquiry(inquiry.id)
            break
        except Conflict:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert proof.verified and proof.seq < proof.tree_size
    older = me.list_inquiries(before=looked[0].at, limit=50)
    assert looked[0].id not in {i.id for i in older}

    # records and a dispute
    record = me.list_records(limit=200)[0]
    filed = me.file_dispute(record.record_ref, "I never rented this")
    assert filed.record_ref == record.record_ref and filed.status == "open"
    assert me.get_dispute(filed.id).deadline > filed.filed_at
    assert filed.id in {d.id for d in me.list_disputes()}
    assert next(r for r in me.list_records(limit=200) if r.record_ref == record.record_ref).disputed
    with pytest.raises(NotFound):
        me.get_dispute("0" * 32)

    # alerts: the decision and the inquiry above were notified; all marked read
    told = me.notifications()
    assert told.unread >= 1 and {"decision", "inquiry"} & {n.kind for n in told.items}
    assert me.mark_notifications_read().unread == 0
    assert me.notifications(unread=True).items == []
    with pytest.raises(InvalidInput):  # a private address is refused (SSRF guard)
        me.set_my_webhook("http://10.1.2.3/hook")
    with pytest.raises(NotFound):
        me.get_my_webhook()

    # the plan to the next band, or a clear no (unscorable, or already at the top)
    try:
        plan = me.plan()
        assert plan.target > plan.score and plan.status in {"plan", "unreachable"}
    except Conflict:
        pass

    # everything, exported
    export = me.export()
    assert export.person_id == server.person_id and export.score_history
    assert export.score_history[0].score == me.score().score
    assert record.event_id in json.dumps(export.ledger)

    # errors by class: a bad source is named, no CSRF token is refused, no session is 401
    with pytest.raises(InvalidInput):
        me.share_source("dna")
    token, me.csrf_token = me.csrf_token, None
    with pytest.raises(PermissionDenied):
        me.lock()
    me.csrf_token = token
    me.logout()
    assert me.csrf_token is None
    with pytest.raises(AuthenticationError):
        me.score()

    # a new account, erased with its password (a wrong one erases nothing)
    with Client(server.url) as newcomer:
        made = newcomer.signup(f"new-{time.time_ns()}@example.org", "a long enough password 1")
        assert newcomer.me().person_id == made.person_id
        with pytest.raises(PermissionDenied, match="nothing was erased"):
            newcomer.erase("not the password")
        assert newcomer.erase("a long enough password 1").erased
        assert newcomer.csrf_token is None
        with pytest.raises(AuthenticationError):
            newcomer.me()
    # the catalogue anyone reads
    anyone = Client(server.url)
    assert "bike" in {p.id for p in anyone.list_products().items}
    weights = anyone.model_weights()
    assert abs(sum(d.weight for d in weights.dimensions) - 1) < 1e-6


def test_a_long_retry_after_is_not_slept_through() -> None:
    receiver = Receiver([(429, {"Retry-After": "900"})])
    try:
        with Client(receiver.url) as api:
            started = time.monotonic()
            with pytest.raises(RateLimited) as limited:
                api.login("someone@example.org", "guess")
            assert limited.value.retry_after == 900 and time.monotonic() - started < 5
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
