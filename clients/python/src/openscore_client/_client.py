"""The sync and async clients. Both are built from one table of operations
(:data:`OPERATIONS`): method, path, answer model, whether it needs an idempotency key;
the methods, written once in ``_Base``, say what to send, and each client's ``_call``
sends it (the async one returns an awaitable).

A person's session: ``login`` / ``signup`` / ``session`` keep the answer's CSRF token and
send it as ``X-CSRF-Token`` on every unsafe request (the session cookie stays in the
httpx client); ``logout``, ``logout_everywhere`` and ``erase`` drop it.

Retries: a 429 or 503 answer (and a connection that failed before anything was sent) is
retried up to ``max_retries`` times, waiting ``Retry-After`` seconds when the server says
so and an exponential backoff (0.5 s, 1 s, 2 s ... at most 30 s) otherwise. A
``Retry-After`` longer than ``max_retry_wait`` (60 s) is not slept through: the error
(``RateLimited`` / ``Unavailable`` with its ``retry_after``) is raised at once — a log-in
locked for 15 minutes is the caller's to handle, not a call that hangs. An
``Idempotency-Key`` is made once per call and sent with every retry of it, so a retried
fulfilment batch is stored once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from openscore_client import models as m
from openscore_client.errors import error_for

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    answer: Any  # a model, list[model], or None
    idempotent_key: bool = False
    items: bool = False  # the answer is {"items": [...]}


#: Client method name -> the route it calls. ``tests`` hold this table to the server's
#: OpenAPI document: a partner or subject route without an entry here fails them.
OPERATIONS: dict[str, Operation] = {
    # partners
    "create_decision": Operation("POST", "/v1/decisions", m.Decision),
    "get_decision": Operation("GET", "/v1/decisions/{decision_id}", m.PartnerDecision),
    "report_fulfilment": Operation(
        "POST", "/v1/fulfilment", m.FulfilmentResult, idempotent_key=True
    ),
    "set_webhook": Operation("PUT", "/v1/partner/webhook", m.WebhookEndpoint),
    "get_webhook": Operation("GET", "/v1/partner/webhook", m.WebhookEndpoint),
    "delete_webhook": Operation("DELETE", "/v1/partner/webhook", None),
    "ping_webhook": Operation("POST", "/v1/partner/webhook/ping", m.WebhookPing),
    "list_webhook_deliveries": Operation(
        "GET", "/v1/partner/webhook-deliveries", list[m.WebhookDelivery], items=True
    ),
    # subjects: session
    "signup": Operation("POST", "/v1/signup", m.SessionInfo),
    "login": Operation("POST", "/v1/login", m.SessionInfo),
    "session": Operation("GET", "/v1/session", m.SessionInfo),
    "logout": Operation("POST", "/v1/logout", None),
    "logout_everywhere": Operation("POST", "/v1/logout/everywhere", None),
    # subjects: account
    "me": Operation("GET", "/v1/me", m.Me),
    "erase": Operation("DELETE", "/v1/me", m.Erased),
    "export": Operation("GET", "/v1/me/export", m.Export),
    "get_lock": Operation("GET", "/v1/me/lock", m.Lock),
    "lock": Operation("POST", "/v1/me/lock", m.Lock),
    "unlock": Operation("POST", "/v1/me/unlock", m.Lock),
    # subjects: score
    "score": Operation("GET", "/v1/me/score", m.Score),
    "history": Operation("GET", "/v1/me/history", list[m.Score], items=True),
    "what_if": Operation("POST", "/v1/me/whatif", m.WhatIf),
    "plan": Operation("GET", "/v1/me/plan", m.Plan),
    # subjects: alerts
    "notifications": Operation("GET", "/v1/me/notifications", m.Notifications),
    "mark_notifications_read": Operation("POST", "/v1/me/notifications/read", m.NotificationsRead),
    "get_my_webhook": Operation("GET", "/v1/me/webhook", m.PersonWebhook),
    "set_my_webhook": Operation("PUT", "/v1/me/webhook", m.PersonWebhook),
    "delete_my_webhook": Operation("DELETE", "/v1/me/webhook", None),
    # subjects: consents
    "list_consents": Operation("GET", "/v1/me/consents", list[m.Consent], items=True),
    "share_source": Operation("PUT", "/v1/me/consents/{source}", m.Consent),
    "revoke_source": Operation("DELETE", "/v1/me/consents/{source}", m.ConsentRevoked),
    # subjects: grants
    "list_grants": Operation("GET", "/v1/me/grants", list[m.Grant], items=True),
    "create_grant": Operation("POST", "/v1/me/grants", m.Grant),
    "get_grant": Operation("GET", "/v1/me/grants/{grant_id}", m.Grant),
    "revoke_grant": Operation("POST", "/v1/me/grants/{grant_id}/revoke", m.Grant),
    # subjects: inquiries
    "list_inquiries": Operation("GET", "/v1/me/inquiries", list[m.Inquiry], items=True),
    "get_inquiry": Operation("GET", "/v1/me/inquiries/{inquiry_id}", m.Inquiry),
    "prove_inquiry": Operation("GET", "/v1/me/proofs/inquiries/{inquiry_id}", m.InclusionProof),
    # subjects: decisions about me
    "list_my_decisions": Operation("GET", "/v1/me/decisions", list[m.MyDecision], items=True),
    "get_my_decision": Operation("GET", "/v1/me/decisions/{decision_id}", m.MyDecision),
    "request_review": Operation("POST", "/v1/me/decisions/{decision_id}/review", m.Review),
    # subjects: records and disputes
    "list_records": Operation("GET", "/v1/me/records", list[m.Record], items=True),
    "list_disputes": Operation("GET", "/v1/me/disputes", list[m.Dispute], items=True),
    "file_dispute": Operation("POST", "/v1/me/disputes", m.DisputeFiled),
    "get_dispute": Operation("GET", "/v1/me/disputes/{dispute_id}", m.Dispute),
    # subjects: attestations
    "list_attestations": Operation("GET", "/v1/me/attestations", list[m.Attestation], items=True),
    "issue_attestation": Operation("POST", "/v1/me/attestations", m.Attestation),
    "revoke_attestation": Operation(
        "POST", "/v1/me/attestations/{attestation_id}/revoke", m.Attestation
    ),
    # anyone
    "list_partners": Operation("GET", "/v1/partners", list[m.PartnerListing], items=True),
    "list_products": Operation("GET", "/v1/products", m.Products),
    "model_weights": Operation("GET", "/v1/model/weights", m.ModelWeights),
    "jwks": Operation("GET", "/.well-known/jwks.json", dict),
    "attestation_status": Operation("GET", "/v1/attestations/status", m.StatusList),
    "verify_attestation": Operation("POST", "/v1/attestations/verify", m.AttestationVerdict),
}

#: Operations after which the client holds a new session's CSRF token, or none.
_STARTS_SESSION = frozenset({"signup", "login", "session"})
_ENDS_SESSION = frozenset({"logout", "logout_everywhere", "erase"})


def _body(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_body(v) for v in value]
    if isinstance(value, dict):
        return {k: _body(v) for k, v in value.items()}
    return value


def _wait(attempt: int, answer: httpx.Response | None, longest: float) -> float | None:
    """Seconds to wait before the next try, or ``None``: do not retry (the server asked
    for a longer wait than ``longest``: the caller gets the error and its retry_after)."""
    if answer is not None and "Retry-After" in answer.headers:
        try:
            asked = max(float(answer.headers["Retry-After"]), 0.0)
        except ValueError:
            asked = None
        if asked is not None:
            return asked if asked <= longest else None
    return min(0.5 * 2**attempt, 30.0)


def _parse(op: Operation, answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        try:
            body = answer.json()
        except ValueError:
            body = None
        raise error_for(answer.status_code, body, answer.headers)
    if op.answer is None or answer.status_code == 204:
        return None
    data = answer.json()
    if op.items:
        data = data["items"]
    return TypeAdapter(op.answer).validate_python(data)


def _query(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class _Base:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_retries = max_retries
        #: a Retry-After longer than this is not waited for: the error is raised at once
        self.max_retry_wait = max_retry_wait
        self.timeout = timeout
        self.csrf_token: str | None = None

    def _request_args(
        self, name: str, params: dict[str, Any], body: Any, query: dict[str, Any] | None
    ) -> tuple[Operation, dict[str, Any]]:
        op = OPERATIONS[name]
        headers: dict[str, str] = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.csrf_token and op.method != "GET":
            headers["X-CSRF-Token"] = self.csrf_token
        if op.idempotent_key:
            headers["Idempotency-Key"] = params.pop("idempotency_key", None) or uuid.uuid4().hex
        kwargs: dict[str, Any] = {
            "method": op.method,
            "url": op.path.format(**params),
            "headers": headers,
            "params": {k: v for k, v in (query or {}).items() if v is not None},
        }
        if body is not None:
            kwargs["json"] = _body(body)
        return op, kwargs

    def _after(self, name: str, result: Any) -> Any:
        """Keep the session's CSRF token (sent with every unsafe request from then on)."""
        if name in _STARTS_SESSION:
            self.csrf_token = result.csrf_token
        elif name in _ENDS_SESSION:
            self.csrf_token = None
        return result

    def _call(
        self, name: str, body: Any = None, query: dict[str, Any] | None = None, **params: Any
    ) -> Any:
        raise NotImplementedError

    # The methods below only say what to send; ``_call`` sends it (and, in AsyncClient,
    # returns an awaitable of the same answer).

    # -- partners ------------------------------------------------------------------------

    def create_decision(self, request: m.DecisionRequest) -> m.Decision:
        """Ask for a decision under the person's grant (``ConsentRefused`` if it is
        revoked or expired, or the file is locked)."""
        return self._call("create_decision", request)

    def get_decision(self, decision_id: str) -> m.PartnerDecision:
        return self._call("get_decision", decision_id=decision_id)

    def report_fulfilment(
        self,
        reports: list[m.RentalReport | m.RepaymentReport],
        *,
        idempotency_key: str | None = None,
    ) -> m.FulfilmentResult:
        """Report rentals and repayments (one batch, stored once per idempotency key)."""
        return self._call(
            "report_fulfilment", {"reports": reports}, idempotency_key=idempotency_key
        )

    def set_webhook(self, url: str, *, rotate_secret: bool = False) -> m.WebhookEndpoint:
        return self._call("set_webhook", {"url": url, "rotate_secret": rotate_secret})

    def get_webhook(self) -> m.WebhookEndpoint:
        return self._call("get_webhook")

    def delete_webhook(self) -> None:
        return self._call("delete_webhook")

    def ping_webhook(self) -> m.WebhookPing:
        return self._call("ping_webhook")

    def list_webhook_deliveries(
        self, *, status: str | None = None, limit: int | None = None
    ) -> list[m.WebhookDelivery]:
        return self._call("list_webhook_deliveries", query=_query(status=status, limit=limit))

    # -- a person: session ---------------------------------------------------------------

    def signup(
        self, login: str, password: str, *, enrolment_code: str | None = None
    ) -> m.SessionInfo:
        """Create an account (claiming a registry person with an operator's enrolment
        code) and start a session."""
        return self._call(
            "signup",
            m.SignupRequest(login=login, password=password, enrolment_code=enrolment_code),
        )

    def login(self, login: str, password: str) -> m.SessionInfo:
        """Start a session (``AuthenticationError`` if wrong; ``RateLimited`` with its
        ``retry_after`` after too many failures)."""
        return self._call("login", {"login": login, "password": password})

    def session(self) -> m.SessionInfo:
        """The current session (and its CSRF token, taken up again)."""
        return self._call("session")

    def logout(self) -> None:
        return self._call("logout")

    def logout_everywhere(self) -> None:
        """End every session of the account, this one included."""
        return self._call("logout_everywhere")

    # -- a person: account ---------------------------------------------------------------

    def me(self) -> m.Me:
        return self._call("me")

    def erase(self, password: str) -> m.Erased:
        """Erase everything about me (final: asks for the password again; ends the
        session)."""
        return self._call("erase", {"confirm": "erase my account", "password": password})

    def export(self) -> m.Export:
        """Everything openscore holds about me."""
        return self._call("export")

    def get_lock(self) -> m.Lock:
        return self._call("get_lock")

    def lock(self) -> m.Lock:
        """Freeze my file: no partner gets a decision or a score until I unlock it."""
        return self._call("lock")

    def unlock(self) -> m.Lock:
        return self._call("unlock")

    # -- a person: score -----------------------------------------------------------------

    def score(self) -> m.Score:
        return self._call("score")

    def history(self, *, limit: int | None = None) -> list[m.Score]:
        """Published scores, newest first."""
        return self._call("history", query=_query(limit=limit))

    def what_if(
        self,
        overrides: dict[str, float | None] | None = None,
        *,
        without_sources: list[str] | None = None,
    ) -> m.WhatIf:
        """Rescore my data with some feature values changed or sources left out; nothing
        is stored."""
        return self._call(
            "what_if",
            m.WhatIfRequest(overrides=overrides or {}, without_sources=without_sources or []),
        )

    # -- a person: consents ----------------------------------------------------------------

    def plan(self) -> m.Plan:
        """The plan to the next band: the steps, their points and months. Raises
        :class:`Conflict` when I cannot be scored or am already in the top band."""
        return self._call("plan")

    # -- a person: alerts ------------------------------------------------------------------

    def notifications(
        self, *, unread: bool | None = None, limit: int | None = None
    ) -> m.Notifications:
        """What I am told (inquiries, decisions, score changes, dispute outcomes), newest
        first, with how many are unread."""
        return self._call("notifications", query=_query(unread=unread, limit=limit))

    def mark_notifications_read(self, ids: list[str] | None = None) -> m.NotificationsRead:
        """Mark some notifications read (``ids``), or all of them."""
        return self._call("mark_notifications_read", m.MarkRead(ids=ids))

    def get_my_webhook(self) -> m.PersonWebhook:
        return self._call("get_my_webhook")

    def set_my_webhook(self, url: str) -> m.PersonWebhook:
        """POST my notifications, signed, to ``url``; the answer holds the signing secret
        (only this once)."""
        return self._call("set_my_webhook", m.PersonWebhookSet(url=url))

    def delete_my_webhook(self) -> None:
        return self._call("delete_my_webhook")

    def list_consents(self) -> list[m.Consent]:
        return self._call("list_consents")

    def share_source(self, source: str) -> m.Consent:
        """Share a data source (wallet, credit, rentals, profile, social)."""
        return self._call("share_source", source=source)

    def revoke_source(self, source: str) -> m.ConsentRevoked:
        """Stop sharing a source: its events are purged and the new score comes back."""
        return self._call("revoke_source", source=source)

    # -- a person: grants ------------------------------------------------------------------

    def list_grants(self, *, active: bool = False, limit: int | None = None) -> list[m.Grant]:
        return self._call(
            "list_grants", query=_query(active=str(active).lower() if active else None, limit=limit)
        )

    def create_grant(self, grant: m.GrantCreate) -> m.Grant:
        return self._call("create_grant", grant)

    def get_grant(self, grant_id: str) -> m.Grant:
        return self._call("get_grant", grant_id=grant_id)

    def revoke_grant(self, grant_id: str) -> m.Grant:
        return self._call("revoke_grant", grant_id=grant_id)

    # -- a person: who looked ------------------------------------------------------------

    def list_inquiries(
        self, *, before: datetime | str | None = None, limit: int | None = None
    ) -> list[m.Inquiry]:
        """Newest first; for older ones pass the last one's ``at`` as ``before``."""
        if isinstance(before, datetime):
            before = before.isoformat()
        return self._call("list_inquiries", query=_query(before=before, limit=limit))

    def get_inquiry(self, inquiry_id: str) -> m.Inquiry:
        return self._call("get_inquiry", inquiry_id=inquiry_id)

    def prove_inquiry(self, inquiry_id: str) -> m.InclusionProof:
        """The audit log's inclusion proof of the entry that recorded the inquiry."""
        return self._call("prove_inquiry", inquiry_id=inquiry_id)

    # -- a person: decisions about me ------------------------------------------------------

    def list_my_decisions(self, *, limit: int | None = None) -> list[m.MyDecision]:
        return self._call("list_my_decisions", query=_query(limit=limit))

    def get_my_decision(self, decision_id: str) -> m.MyDecision:
        return self._call("get_my_decision", decision_id=decision_id)

    def request_review(self, decision_id: str, reason: str) -> m.Review:
        """Ask for a human to look at a decision again (``Conflict`` if already asked)."""
        return self._call("request_review", {"reason": reason}, decision_id=decision_id)

    # -- a person: records and disputes ------------------------------------------------------

    def list_records(self, *, limit: int | None = None) -> list[m.Record]:
        return self._call("list_records", query=_query(limit=limit))

    def list_disputes(self, *, limit: int | None = None) -> list[m.Dispute]:
        return self._call("list_disputes", query=_query(limit=limit))

    def file_dispute(self, record_ref: str, reason: str) -> m.DisputeFiled:
        """Dispute one of my records (its ``record_ref`` from :meth:`list_records`)."""
        return self._call("file_dispute", {"record_ref": record_ref, "reason": reason})

    def get_dispute(self, dispute_id: str) -> m.Dispute:
        return self._call("get_dispute", dispute_id=dispute_id)

    # -- a person: attestations ------------------------------------------------------------

    def list_attestations(self) -> list[m.Attestation]:
        return self._call("list_attestations")

    def issue_attestation(self, request: m.AttestationCreate) -> m.Attestation:
        """Sign the chosen claims (``Conflict`` naming the claim the score does not
        support); the answer carries the token and a ``/verify`` link."""
        return self._call("issue_attestation", request)

    def revoke_attestation(self, attestation_id: str) -> m.Attestation:
        return self._call("revoke_attestation", attestation_id=attestation_id)

    # -- anyone ----------------------------------------------------------------------------

    def list_partners(self) -> list[m.PartnerListing]:
        """The public directory of partners a person may grant to."""
        return self._call("list_partners")

    def list_products(self) -> m.Products:
        return self._call("list_products")

    def model_weights(self) -> m.ModelWeights:
        """Each dimension's weight in the model in service."""
        return self._call("model_weights")

    def jwks(self) -> dict[str, Any]:
        return self._call("jwks")

    def attestation_status(self) -> m.StatusList:
        return self._call("attestation_status")

    def verify_attestation(
        self, token: str, *, audience: str | None = None
    ) -> m.AttestationVerdict:
        """openscore's check of a token (an inquiry the person sees; limited per
        address: check many offline with :func:`openscore_client.attestations.verify`)."""
        return self._call("verify_attestation", {"token": token, "audience": audience})


class Client(_Base):
    """The synchronous client: ``Client(url, api_key=KEY)`` for a partner, or
    ``Client(url)`` then ``.login(login, password)`` for a person."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self,
        name: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        op, kwargs = self._request_args(name, params, body, query)
        for attempt in range(self.max_retries + 1):
            try:
                answer = self._http.request(**kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt == self.max_retries:
                    raise
                time.sleep(min(0.5 * 2**attempt, 30.0))
                continue
            if answer.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = _wait(attempt, answer, self.max_retry_wait)
                if wait is not None:
                    time.sleep(wait)
                    continue
            return self._after(name, _parse(op, answer))
        raise RuntimeError("unreachable")  # pragma: no cover


class AsyncClient(_Base):
    """The same methods as :class:`Client`, each returning an awaitable of the same
    answer (httpx.AsyncClient underneath): ``score = await api.score()``."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(  # type: ignore[override]
        self,
        name: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        op, kwargs = self._request_args(name, params, body, query)
        for attempt in range(self.max_retries + 1):
            try:
                answer = await self._http.request(**kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(min(0.5 * 2**attempt, 30.0))
                continue
            if answer.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = _wait(attempt, answer, self.max_retry_wait)
                if wait is not None:
                    await asyncio.sleep(wait)
                    continue
            return self._after(name, _parse(op, answer))
        raise RuntimeError("unreachable")  # pragma: no cover
