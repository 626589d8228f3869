"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks``): each
generated request carries the credentials of the audience its route is for.

Subject requests get a *fresh* session minted for every case (sessions are signed
tokens; the test knows the server's secret), so that a generated ``POST /v1/logout`` or
``DELETE /v1/me`` attempt cannot starve the cases after it of a valid session. Each is
minted under the account's current session epoch, read from the registry, so that a
generated ``POST /v1/logout/everywhere`` does not either.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

from openscore.api.deps import CSRF_HEADER, SESSION_COOKIE
from openscore.api.sessions import SessionSigner
from openscore.registry import create_registry_engine, session_epoch

OPERATOR_PREFIX = "/v1/operator/"
PARTNER_PREFIXES = ("/v1/decisions", "/v1/fulfilment", "/v1/partner/")
SUBJECT_PREFIXES = ("/v1/me", "/v1/session", "/v1/logout")


@schemathesis.auth()
class OpenscoreAuth:
    """Bearer keys for partners and operators, cookie plus CSRF header for subjects."""

    def __init__(self) -> None:
        self.signer = SessionSigner(os.environ["OPENSCORE_ST_SECRET"], max_age_seconds=3600)
        self.registry = create_registry_engine(os.environ["OPENSCORE_ST_REGISTRY_URL"])

    def epoch(self, person_id: str) -> str:
        with self.registry.connect() as conn:
            return session_epoch(conn, person_id) or ""

    def get(self, case: Any, ctx: Any) -> str:
        return "openscore"

    def set(self, case: Any, data: str, ctx: Any) -> None:
        path = ctx.operation.path
        headers = dict(case.headers or {})
        if path.startswith(OPERATOR_PREFIX):
            headers["Authorization"] = f"Bearer {os.environ['OPENSCORE_ST_OPERATOR_KEY']}"
        elif path.startswith(PARTNER_PREFIXES):
            headers["Authorization"] = f"Bearer {os.environ['OPENSCORE_ST_PARTNER_KEY']}"
        elif path.startswith(SUBJECT_PREFIXES):
            person = os.environ["OPENSCORE_ST_PERSON"]
            value, session = self.signer.issue(person, self.epoch(person))
            headers[CSRF_HEADER] = session.csrf_token
            case.cookies = {**(case.cookies or {}), SESSION_COOKIE: value}
        case.headers = headers
