"""The sync and async clients. Both are built from one table of operations
(:data:`OPERATIONS`): method, path, answer model, whether it needs an idempotency key.

Retries: a 429 or 503 answer (and a connection that failed before anything was sent) is
retried up to ``max_retries`` times, waiting ``Retry-After`` seconds when the server says
so and an exponential backoff (0.5 s, 1 s, 2 s ... at most 30 s) otherwise. An
``Idempotency-Key`` is made once per call and sent with every retry of it, so a retried
fulfilment batch is stored once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
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
#: OpenAPI document: a partner route without an entry here fails them.
OPERATIONS: dict[str, Operation] = {
    # partners
    "create_decision": Operation("POST", "/v1/decisions", m.Decision),
    "get_decision": Operation("GET", "/v1/decisions/{decision_id}", m.PartnerDecision),
    "report_fulfilment": Operation(
        "POST", "/v1/fulfilment", m.FulfilmentResult, idempotent_key=True
    ),
    "list_partners": Operation("GET", "/v1/partners", list[m.PartnerListing], items=True),
    "set_webhook": Operation("PUT", "/v1/partner/webhook", m.WebhookEndpoint),
    "get_webhook": Operation("GET", "/v1/partner/webhook", m.WebhookEndpoint),
    "delete_webhook": Operation("DELETE", "/v1/partner/webhook", None),
    "ping_webhook": Operation("POST", "/v1/partner/webhook/ping", m.WebhookPing),
    "list_webhook_deliveries": Operation(
        "GET", "/v1/partner/webhook-deliveries", list[m.WebhookDelivery], items=True
    ),
    # subjects
    "login": Operation("POST", "/v1/login", m.SessionInfo),
    "logout": Operation("POST", "/v1/logout", None),
    "me": Operation("GET", "/v1/me", m.Me),
    "score": Operation("GET", "/v1/me/score", m.Score),
    "history": Operation("GET", "/v1/me/history", list[m.Score], items=True),
    "list_grants": Operation("GET", "/v1/me/grants", list[m.Grant], items=True),
    "create_grant": Operation("POST", "/v1/me/grants", m.Grant),
    "revoke_grant": Operation("POST", "/v1/me/grants/{grant_id}/revoke", m.Grant),
    "list_inquiries": Operation("GET", "/v1/me/inquiries", list[m.Inquiry], items=True),
    "list_attestations": Operation("GET", "/v1/me/attestations", list[m.Attestation], items=True),
    "issue_attestation": Operation("POST", "/v1/me/attestations", m.Attestation),
    "revoke_attestation": Operation(
        "POST", "/v1/me/attestations/{attestation_id}/revoke", m.Attestation
    ),
    # anyone
    "jwks": Operation("GET", "/.well-known/jwks.json", dict),
    "attestation_status": Operation("GET", "/v1/attestations/status", m.StatusList),
    "verify_attestation": Operation("POST", "/v1/attestations/verify", m.AttestationVerdict),
}


def _body(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_body(v) for v in value]
    if isinstance(value, dict):
        return {k: _body(v) for k, v in value.items()}
    return value


def _backoff(attempt: int, answer: httpx.Response | None) -> float:
    if answer is not None:
        try:
            return min(float(answer.headers.get("Retry-After", "")), 60.0)
        except ValueError:
            pass
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


class _Base:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        max_retries: int = 3,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_retries = max_retries
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
                time.sleep(_backoff(attempt, None))
                continue
            if answer.status_code in RETRY_STATUSES and attempt < self.max_retries:
                time.sleep(_backoff(attempt, answer))
                continue
            return _parse(op, answer)
        raise RuntimeError("unreachable")  # pragma: no cover

    # partners
    def create_decision(self, request: m.DecisionRequest) -> m.Decision:
        return self._call("create_decision", request)

    def get_decision(self, decision_id: str) -> m.PartnerDecision:
        return self._call("get_decision", decision_id=decision_id)

    def report_fulfilment(
        self,
        reports: list[m.RentalReport | m.RepaymentReport],
        *,
        idempotency_key: str | None = None,
    ) -> m.FulfilmentResult:
        return self._call(
            "report_fulfilment", {"reports": reports}, idempotency_key=idempotency_key
        )

    def list_partners(self) -> list[m.PartnerListing]:
        """The public directory of partners a person may grant to."""
        return self._call("list_partners")

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
        return self._call("list_webhook_deliveries", query={"status": status, "limit": limit})

    # subjects
    def login(self, login: str, password: str) -> m.SessionInfo:
        session = self._call("login", {"login": login, "password": password})
        self.csrf_token = session.csrf_token
        return session

    def logout(self) -> None:
        self._call("logout")
        self.csrf_token = None

    def me(self) -> m.Me:
        return self._call("me")

    def score(self) -> m.Score:
        return self._call("score")

    def history(self) -> list[m.Score]:
        return self._call("history")

    def list_grants(self) -> list[m.Grant]:
        return self._call("list_grants")

    def create_grant(self, grant: m.GrantCreate) -> m.Grant:
        return self._call("create_grant", grant)

    def revoke_grant(self, grant_id: str) -> m.Grant:
        return self._call("revoke_grant", grant_id=grant_id)

    def list_inquiries(self) -> list[m.Inquiry]:
        return self._call("list_inquiries")

    def list_attestations(self) -> list[m.Attestation]:
        return self._call("list_attestations")

    def issue_attestation(self, request: m.AttestationCreate) -> m.Attestation:
        return self._call("issue_attestation", request)

    def revoke_attestation(self, attestation_id: str) -> m.Attestation:
        return self._call("revoke_attestation", attestation_id=attestation_id)

    # anyone
    def jwks(self) -> dict[str, Any]:
        return self._call("jwks")

    def attestation_status(self) -> m.StatusList:
        return self._call("attestation_status")

    def verify_attestation(
        self, token: str, *, audience: str | None = None
    ) -> m.AttestationVerdict:
        return self._call("verify_attestation", {"token": token, "audience": audience})


class AsyncClient(_Base):
    """The same operations, ``await``-ed (httpx.AsyncClient)."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(
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
                await asyncio.sleep(_backoff(attempt, None))
                continue
            if answer.status_code in RETRY_STATUSES and attempt < self.max_retries:
                await asyncio.sleep(_backoff(attempt, answer))
                continue
            return _parse(op, answer)
        raise RuntimeError("unreachable")  # pragma: no cover

    async def login(self, login: str, password: str) -> m.SessionInfo:
        session = await self._call("login", {"login": login, "password": password})
        self.csrf_token = session.csrf_token
        return session

    async def logout(self) -> None:
        await self._call("logout")
        self.csrf_token = None

    async def report_fulfilment(
        self,
        reports: list[m.RentalReport | m.RepaymentReport],
        *,
        idempotency_key: str | None = None,
    ) -> m.FulfilmentResult:
        return await self._call(
            "report_fulfilment", {"reports": reports}, idempotency_key=idempotency_key
        )

    async def set_webhook(self, url: str, *, rotate_secret: bool = False) -> m.WebhookEndpoint:
        return await self._call("set_webhook", {"url": url, "rotate_secret": rotate_secret})

    async def list_webhook_deliveries(
        self, *, status: str | None = None, limit: int | None = None
    ) -> list[m.WebhookDelivery]:
        return await self._call("list_webhook_deliveries", query={"status": status, "limit": limit})

    async def verify_attestation(
        self, token: str, *, audience: str | None = None
    ) -> m.AttestationVerdict:
        return await self._call("verify_attestation", {"token": token, "audience": audience})


def _simple_async(name: str, *arg_names: str) -> Any:
    async def method(self: AsyncClient, *args: Any) -> Any:
        params = dict(zip(arg_names, args[: len(arg_names)], strict=True))
        body = args[len(arg_names)] if len(args) > len(arg_names) else None
        return await self._call(name, body, **params)

    method.__name__ = name
    return method


for _name, _args in {
    "create_decision": (),
    "get_decision": ("decision_id",),
    "get_webhook": (),
    "list_partners": (),
    "delete_webhook": (),
    "ping_webhook": (),
    "me": (),
    "score": (),
    "history": (),
    "list_grants": (),
    "create_grant": (),
    "revoke_grant": ("grant_id",),
    "list_inquiries": (),
    "list_attestations": (),
    "issue_attestation": (),
    "revoke_attestation": ("attestation_id",),
    "jwks": (),
    "attestation_status": (),
}.items():
    setattr(AsyncClient, _name, _simple_async(_name, *_args))
