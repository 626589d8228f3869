"""Request and answer models of score attestations (``/v1/me/attestations``,
``/v1/attestations/*``); same conventions as :mod:`openscore.services.schemas`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints

from openscore.domain import BAND_NAMES, SCORE_MAX, SCORE_MIN
from openscore.services.attestations import MAX_DAYS
from openscore.services.schemas import In, Out, WholeNumber

BandName = Literal[BAND_NAMES]  # type: ignore[valid-type]
Audience = Annotated[str, StringConstraints(pattern=r"^[ -~]{1,200}$", strip_whitespace=True)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class AttestationCreate(In):
    """What to attest; at least one claim. Each is checked against the current score."""

    min_score: WholeNumber | None = Field(
        default=None, ge=SCORE_MIN, le=SCORE_MAX, description="claim: my score is at least this"
    )
    band_at_least: BandName | None = Field(  # type: ignore[valid-type]
        default=None, description="claim: my band is this one or better"
    )
    no_public_record: StrictBool = Field(default=False, description="claim: no live public record")
    exact_score: StrictBool = Field(default=False, description="claim: my exact score")
    expires_in_days: WholeNumber = Field(default=30, ge=1, le=MAX_DAYS)
    audience: Audience | None = Field(
        default=None, description="who it is for (a verifier checking for another fails it)"
    )


class AttestationPublic(Out):
    id: str
    claims: dict[str, Any]
    audience: str | None
    issued_at: datetime
    expires_at: datetime
    status: Literal["valid", "expired", "revoked"]
    revoked_at: datetime | None
    revoked_reason: str | None


class AttestationIssued(AttestationPublic):
    token: str = Field(description="the SD-JWT: give it to whoever should check it")
    verify_url: str = Field(description="openscore's public page that checks this token")


class AttestationsPublic(Out):
    items: list[AttestationPublic]


class AttestationVerify(In):
    token: Token
    audience: Audience | None = Field(
        default=None, description="who is checking: a token made out to someone else fails"
    )


class AttestationVerdict(Out):
    valid: bool
    reason: str | None = Field(default=None, description="why it failed")
    id: str | None = None
    claims: dict[str, Any] = Field(default_factory=dict, description="what it proves")
    as_of: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    audience: str | None = None


class RevokedAttestation(Out):
    id: str
    revoked_at: datetime
    reason: Literal["withdrawn", "unsupported", "erased"]
    expires_at: datetime


class AttestationStatusList(Out):
    issuer: str
    generated_at: datetime
    revoked: list[RevokedAttestation]
