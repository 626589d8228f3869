"""Typed answers and requests of the openscore API (pydantic). Answers ignore fields a
newer server adds; requests refuse unknown ones, as the server does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- partners ------------------------------------------------------------------------


class DecisionRequest(Request):
    grant_id: str
    person_id: str
    product_id: str
    purpose: str


class Decision(Answer):
    decision_id: str
    inquiry_id: str
    product_id: str
    kind: str
    outcome: Literal["approve", "decline"]
    approved: bool
    deposit_waived: int | None = None
    deposit_due: int | None = None
    credit_line: int | None = None
    apr: float | None = None
    rate_band: str | None = None
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    band: str | None = None
    score: int | None = None
    dimensions: dict[str, int] | None = None
    score_reasons: list[dict[str, Any]] | None = None
    decided_at: datetime


class PartnerDecision(Answer):
    decision_id: str
    grant_id: str | None
    product_id: str
    outcome: str
    terms: dict[str, Any]
    decided_at: datetime


class RentalReport(Request):
    kind: Literal["rental"] = "rental"
    report_id: str
    person_id: str
    grant_id: str
    product: str
    deposit_waived: bool
    started_at: datetime
    due_back: datetime
    returned_at: datetime | None = None
    outcome: Literal["returned", "damaged", "lost"] | None = None


class RepaymentReport(Request):
    kind: Literal["repayment"] = "repayment"
    report_id: str
    person_id: str
    grant_id: str
    account_id: str
    due_date: date
    amount_due: float
    paid_date: date | None = None
    amount_paid: float | None = None


class FulfilmentResult(Answer):
    run_id: str
    accepted: int
    duplicates: int
    rejected: int
    rejections: list[dict[str, Any]] = Field(default_factory=list)


class WebhookEndpoint(Answer):
    url: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = None


class WebhookDelivery(Answer):
    id: str
    event_type: str
    data: dict[str, Any]
    created_at: datetime
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class PartnerListing(Answer):
    id: str
    name: str


class WebhookPing(Answer):
    event_id: str


# -- subjects --------------------------------------------------------------------------


class SessionInfo(Answer):
    person_id: str
    login: str | None = None
    csrf_token: str
    expires_at: datetime | None = None


class Me(Answer):
    person_id: str
    login: str | None
    created_at: datetime
    locked: bool
    locked_since: datetime | None = None


class SignupRequest(Request):
    login: str
    password: str
    enrolment_code: str | None = None


class Score(Answer):
    id: int
    #: "scored", or "unscorable" (not enough data to score: no score, no band)
    status: str = "scored"
    score: int | None
    band: str | None
    #: 0-100 per dimension; ``None``: no data of that dimension
    dimensions: dict[str, Any]
    #: what costs points (``code``, ``text``, ``improve``, ``points_lost``)
    reasons: list[dict[str, Any]]
    #: what helps (``code``, ``text``, ``points``)
    helps: list[dict[str, Any]] = Field(default_factory=list)
    model_id: str
    as_of: datetime
    published_at: datetime
    #: when unscorable: what would make the file scorable
    scorable_when: str | None = None


class Lock(Answer):
    locked: bool
    since: datetime | None = None


class Erased(Answer):
    erased: bool
    ledger_rows_removed: int


class Export(Answer):
    """Everything openscore holds about the person (``format`` openscore.export.v1)."""

    format: str
    generated_at: datetime
    person_id: str
    registry: dict[str, Any]
    ledger: list[dict[str, Any]]
    features: dict[str, Any]
    score_history: list[Score]


class WhatIfRequest(Request):
    #: feature name -> value to try (``None``: as if not shared)
    overrides: dict[str, float | None] = Field(default_factory=dict)
    #: sources to leave out (wallet, credit, rentals, profile, social)
    without_sources: list[str] = Field(default_factory=list)


class ComputedScore(Answer):
    status: str = "scored"
    score: int | None = None
    band: str | None = None
    dimensions: dict[str, Any]
    reasons: list[dict[str, Any]]
    helps: list[dict[str, Any]] = Field(default_factory=list)
    contributions: dict[str, int]
    model_id: str


class WhatIf(Answer):
    before: ComputedScore
    after: ComputedScore
    #: ``None`` when either side is unscorable
    change: int | None
    contribution_changes: dict[str, int]
    dimension_changes: dict[str, int | None]
    overrides: dict[str, float | None]


class PlanStep(Answer):
    feature: str
    label: str
    #: "action" (done each month) or "time" (comes by itself as months pass)
    kind: str
    action: str
    before: float
    after: float
    before_shown: str
    after_shown: str
    months: int
    #: points this step earns on top of the steps before it
    points: int
    score_after: int


class Plan(Answer):
    """The plan to the next band (``status`` "plan"), or "unreachable" within
    ``horizon_months``."""

    status: str
    score: int
    band: str
    target: int
    target_band: str
    points_needed: int
    months: int
    steps: list[PlanStep] = Field(default_factory=list)
    score_after: int
    horizon_months: int


class Notification(Answer):
    id: str
    #: inquiry, decision, score_change or dispute_outcome
    kind: str
    text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None
    unread: bool


class Notifications(Answer):
    items: list[Notification]
    #: how many of all my notifications are unread
    unread: int


class NotificationsRead(Answer):
    marked: int
    unread: int


class MarkRead(Request):
    #: the notifications to mark read; ``None``: all of them
    ids: list[str] | None = None


class PersonWebhook(Answer):
    url: str
    created_at: datetime
    #: the signing secret: only in the answer that set the webhook
    secret: str | None = None


class PersonWebhookSet(Request):
    url: str


class Consent(Answer):
    source: str
    shared: bool
    since: datetime | None = None
    description: str


class ConsentRevoked(Answer):
    """A revocation: the source's events are gone and ``score`` is the new score."""

    consent: Consent
    score: Score
    seconds: float


class GrantCreate(Request):
    partner_id: str
    products: list[str]
    purpose: str
    scope: Literal["decision", "band", "score"] = "decision"
    expires_in_days: int = 365


class Grant(Answer):
    id: str
    person_id: str
    partner_id: str
    products: list[str]
    purpose: str
    scope: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class Inquiry(Answer):
    id: str
    partner_id: str
    purpose: str
    at: datetime
    grant_id: str | None = None
    returned: dict[str, Any] = Field(default_factory=dict)
    #: the audit log entry that recorded it (``None`` for a moment while it is queued)
    audit_seq: int | None = None


class InclusionProof(Answer):
    """RFC 6962 inclusion proof of an inquiry's audit entry (docs/audit-log.md)."""

    seq: int
    tree_size: int
    entry: str
    leaf_hash: str
    path: list[str]
    root: str
    head_mac: str
    hashing: str
    verified: bool


class Review(Answer):
    id: str
    decision_id: str
    reason: str
    status: str
    requested_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None


class MyDecision(Answer):
    """A decision a partner received about me, as I see it (with the score it used)."""

    id: str
    partner_id: str
    grant_id: str | None = None
    product_id: str
    outcome: str
    score: int | None = None
    band: str | None = None
    terms: dict[str, Any]
    reasons: list[dict[str, Any]]
    decided_at: datetime
    review: Review | None = None


class Record(Answer):
    """One of my ledger rows; ``record_ref`` is what a dispute names."""

    record_ref: str
    furnisher_id: str
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    fields: dict[str, Any]
    disputed: bool


class Dispute(Answer):
    id: str
    record_ref: str
    reason: str
    status: str
    exclude_while_open: bool
    filed_at: datetime
    deadline: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    overdue: bool


class DisputeFiled(Dispute):
    #: the new score when the record stopped counting at once
    score: Score | None = None


# -- anyone: the catalogue ---------------------------------------------------------------


class Product(Answer):
    id: str
    name: str
    kind: str
    min_score: int
    description: str
    deposit: int | None = None
    decline_on_public_records: list[str] = Field(default_factory=list)
    loan: dict[str, Any] | None = None
    unscorable: dict[str, Any] = Field(default_factory=dict)


class Products(Answer):
    currency: str
    items: list[Product]


class DimensionWeight(Answer):
    dimension: str
    label: str
    weight: float
    note: str | None = None


class ModelWeights(Answer):
    """The weight of each dimension in the model in service (its share of the points)."""

    model_id: str
    method: str
    measure: str
    dimensions: list[DimensionWeight]
    scorable_when: str


class AttestationCreate(Request):
    min_score: int | None = None
    band_at_least: str | None = None
    no_public_record: bool = False
    exact_score: bool = False
    expires_in_days: int = 30
    audience: str | None = None


class Attestation(Answer):
    id: str
    claims: dict[str, Any]
    audience: str | None
    issued_at: datetime
    expires_at: datetime
    status: Literal["valid", "expired", "revoked"]
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    token: str | None = None
    verify_url: str | None = None


class AttestationVerdict(Answer):
    valid: bool
    reason: str | None = None
    id: str | None = None
    claims: dict[str, Any] = Field(default_factory=dict)
    as_of: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    audience: str | None = None


class StatusList(Answer):
    issuer: str
    generated_at: datetime
    revoked: list[dict[str, Any]]
