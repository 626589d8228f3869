"""openscore's Python client: typed partner and subject operations, sync and async.

from openscore_client import Client, DecisionRequest
with Client("https://openscore.example", api_key="osk_...") as api:
    decision = api.create_decision(DecisionRequest(grant_id=..., person_id=...,
                                                   product_id="bike", purpose="deposit_waiver"))

with Client("https://openscore.example") as me:       # a person, for their own use
    me.login("ana@example.org", "…")
    print(me.score().score, [c.source for c in me.list_consents() if c.shared])

The answer models are in :mod:`openscore_client.models`.
"""

from __future__ import annotations

from openscore_client import attestations, models, webhooks
from openscore_client._client import OPERATIONS, AsyncClient, Client
from openscore_client.errors import (
    AuthenticationError,
    Conflict,
    ConsentRefused,
    InvalidInput,
    NotFound,
    OpenscoreError,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unavailable,
)
from openscore_client.models import (
    AttestationCreate,
    DecisionRequest,
    GrantCreate,
    RentalReport,
    RepaymentReport,
)

__all__ = [
    "OPERATIONS",
    "AsyncClient",
    "AttestationCreate",
    "AuthenticationError",
    "Client",
    "Conflict",
    "ConsentRefused",
    "DecisionRequest",
    "GrantCreate",
    "InvalidInput",
    "NotFound",
    "OpenscoreError",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "RentalReport",
    "RepaymentReport",
    "ServerError",
    "Unavailable",
    "attestations",
    "models",
    "webhooks",
]
