"""Request and response models: a family per entity (``XCreate`` in, ``XPublic`` out).

Inputs forbid unknown fields (a misspelt or smuggled field is a 422 naming it, never
silently ignored: mass assignment has nothing to assign to) and use strict types where
lax parsing would accept nonsense (``true`` for a number, ``0`` for a date, ``NaN``).
Every constraint the registry enforces is also in the schema where JSON Schema can say
it, so that a client reading ``/openapi.json`` knows what will be accepted. Text fields
refuse NUL characters and lone surrogates, which PostgreSQL cannot store.

Outputs carry what their audience may see and nothing else: a partner's decision answer
has no score unless the grant's scope allows it; no model here has a password hash, a
key hash or an audit salt.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from openscore.domain.bands import SCORE_MAX, SCORE_MIN
from openscore.domain.events import MAX_AMOUNT, RENTAL_PRODUCTS
from openscore.features import FEATURE_NAMES

# -- field types ---------------------------------------------------------------------------


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _text(value: str) -> str:
    """Text that is stored or looked up: PostgreSQL refuses NUL in text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return _unicode(value)


def _stripped(value: str) -> str:
    value = _text(value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _require_iso(value: Any) -> Any:
    # Lax parsing would read 0 (or "0.5") as a Unix time: a date must look like one.
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date or date-time string")
    return value


def _require_number(value: Any) -> Any:
    # JSON Schema's integer admits 419.0; lax parsing would also admit "419" and true.
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


#: Ids openscore mints (uuid4 hex).
Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
#: A person's id: the furnishers' id (printable ASCII, no spaces).
PersonId = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,128}$")]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
#: Products and purposes are vocabulary, not prose.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
LoginName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._@+-]{3,254}$"),
    Field(description="3-254 of letters, digits and . _ @ + - (compared case-insensitively)"),
]
#: Never stored or looked up (only its argon2 hash is): any character will do.
Password = Annotated[
    str, StringConstraints(min_length=10, max_length=1024), AfterValidator(_unicode)
]
AnyPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_unicode)
]
#: An id in a furnisher's own namespace (event ids, account ids).
ExternalId = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,128}$")]
RecordRef = Annotated[
    str,
    StringConstraints(max_length=256, pattern=r"^[^\x00-\x1f\x7f/]+/[^\x00-\x1f\x7f]+$"),
    AfterValidator(_text),
    Field(description="a ledger row: furnisher_id/event_id (see GET /v1/me/records)"),
]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_require_iso)]
Day = Annotated[date, BeforeValidator(_require_iso)]
WholeNumber = Annotated[int, BeforeValidator(_require_number)]
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, strict=True, allow_inf_nan=False)]
Source = Literal["wallet", "credit", "rentals", "profile", "social"]
FeatureName = Literal[FEATURE_NAMES]  # type: ignore[valid-type]
FeatureValue = Annotated[float, Field(strict=True, allow_inf_nan=False)] | None


def Text(max_length: int) -> Any:
    """Free text of 1..``max_length`` characters, not blank, no NUL."""
    return Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=max_length, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$"
        ),
        AfterValidator(_stripped),
    ]


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- errors ----------------------------------------------------------------------------


class ErrorDetail(Out):
    field: str | None
    message: str


class ErrorPublic(Out):
    """Every error answer (see ``api/errors.py`` for the status of each)."""

    status: int
    error: str = Field(description="stable machine-readable code, e.g. not_found")
    message: str
    field: str | None = Field(description="the field at fault, when there is one")
    errors: list[ErrorDetail]
    request_id: str | None


# -- health ----------------------------------------------------------------------------


class HealthPublic(Out):
    status: Literal["ok"]


# -- subjects: accounts and sessions ------------------------------------------------------


class SubjectCreate(In):
    """Sign-up. With ``enrolment_code`` (issued by an operator) the account claims the
    registry person the code names; without one a new person is created."""

    login: LoginName
    password: Password
    enrolment_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,512}$")] | None = (
        None
    )


class LoginRequest(In):
    login: Annotated[str, StringConstraints(pattern=r"^[^\x00]{1,254}$"), AfterValidator(_text)]
    password: AnyPassword


class SessionPublic(Out):
    """A session: echo ``csrf_token`` in ``X-CSRF-Token`` on every unsafe request."""

    person_id: str
    login: str | None
    csrf_token: str
    expires_at: datetime


class MePublic(Out):
    person_id: str
    login: str | None
    created_at: datetime
    locked: bool
    locked_since: datetime | None


class EraseRequest(In):
    """Erasure is final: type the sentence, and prove it is you with your password."""

    confirm: Literal["erase my account"]
    password: AnyPassword


class ErasePublic(Out):
    erased: Literal[True]
    ledger_rows_removed: int


class LockPublic(Out):
    locked: bool
    since: datetime | None


# -- scores ----------------------------------------------------------------------------


class DimensionWeightPublic(Out):
    """A dimension's weight in the model in service: its share of the point range."""

    dimension: str
    label: str
    weight: float = Field(ge=0, le=1)
    #: why a dimension carries no weight (null when it carries some)
    note: str | None = None


class ModelWeightsPublic(Out):
    model_id: str
    method: str
    measure: Literal["share_of_point_range"] = "share_of_point_range"
    dimensions: list[DimensionWeightPublic]
    #: the minimum scoring rule, in words
    scorable_when: str


class ReasonPublic(Out):
    """A factor that costs the person points: ``points_lost`` against the term's best."""

    code: str
    text: str
    improve: str | None = None
    points_lost: int | None = None
    #: only missing information (nothing on file): never cited on a decline
    missing: bool = False


class HelpPublic(Out):
    """A factor that helps: ``points`` above an average person who shares it."""

    code: str
    text: str
    points: int


class ScorePublic(Out):
    """A published score: what partners are answered from.

    ``status`` ``unscorable``: not enough data to score (``docs/model.md``): ``score``,
    ``band`` and every dimension are null, and ``scorable_when`` says what would change it.
    A dimension is null ("no data") when nothing of it is on file.
    """

    id: int
    status: Literal["scored", "unscorable"] = "scored"
    score: int | None = Field(default=None, ge=SCORE_MIN, le=SCORE_MAX)
    band: str | None = None
    dimensions: dict[str, int | None]
    reasons: list[ReasonPublic]
    helps: list[HelpPublic] = Field(default_factory=list)
    model_id: str
    as_of: datetime
    published_at: datetime
    scorable_when: str | None = None
    kind: Literal["published", "recomputed"] = Field(
        default="published",
        description="published: the score as published then; recomputed: a history point "
        "computed later (published_at is when) as of a past month-end with the model "
        "model_id, from the data and consents the person has now — not what was published",
    )


class MovedPublic(Out):
    code: str = Field(description="the model term (feature) that moved")
    label: str = Field(description="what it is, in words")
    points: int = Field(description="points it gained (+) or lost (-) between the two")


class ScoreChangePublic(Out):
    """Why the score changed from the point before (older) to this one."""

    old: int
    new: int
    delta: int
    threshold: int = Field(description="changes of more than this many points are explained")
    basis: Literal["all", "top"] = Field(
        description="all: every term's points compared (exact); top: only the reasons and "
        "helps both scores cite"
    )
    moved: list[MovedPublic]


class ScoreHistoryPointPublic(ScorePublic):
    change: ScoreChangePublic | None = Field(
        default=None,
        description="set when the score moved by more than the threshold from the point "
        "before it: which factors moved, by how many points",
    )


class ScoreHistoryPublic(Out):
    items: list[ScoreHistoryPointPublic]
    change_threshold: int = Field(
        default=5, description="a change of more than this many points says why"
    )


class WhatIfRequest(In):
    """Feature values to try (``null``: as if not shared), and sources to leave out."""

    overrides: dict[FeatureName, FeatureValue] = Field(default_factory=dict)
    without_sources: list[Source] = Field(default_factory=list, max_length=5)
    share_sources: list[Source] = Field(
        default_factory=list,
        max_length=5,
        description="sources I do not share: the scores sharing each could give (a range: "
        "their data is not on file)",
    )


class ComputedScorePublic(Out):
    status: Literal["scored", "unscorable"] = "scored"
    score: int | None = None
    band: str | None = None
    dimensions: dict[str, int | None]
    reasons: list[ReasonPublic]
    helps: list[HelpPublic] = Field(default_factory=list)
    contributions: dict[str, int]
    model_id: str


class ShareRangePublic(Out):
    """What sharing a source could do. Its data is not on file (nothing of a source is
    stored before consent), so this is a range: the lowest and highest score its data
    could give, and ``average``, the score of a person whose data there is average, which
    is the score now (a source not shared counts as the average sharer)."""

    source: str
    lowest: int
    average: int
    highest: int
    features: list[str]


class WhatIfPublic(Out):
    before: ComputedScorePublic
    after: ComputedScorePublic
    #: null when either side is unscorable (no number to compare)
    change: int | None
    contribution_changes: dict[str, int]
    dimension_changes: dict[str, int | None]
    overrides: dict[str, float | None]
    #: per source asked about in ``share_sources`` and not shared now
    if_shared: list[ShareRangePublic] = Field(default_factory=list)


# -- consents --------------------------------------------------------------------------


class ConsentPublic(Out):
    source: Source
    shared: bool
    since: datetime | None
    description: str


class ConsentsPublic(Out):
    items: list[ConsentPublic]


class ConsentRevokedPublic(Out):
    """A revocation: the source's events are gone and this is the new score."""

    consent: ConsentPublic
    score: ScorePublic
    seconds: float = Field(description="revocation to published score, server side")


# -- grants ----------------------------------------------------------------------------


class GrantCreate(In):
    partner_id: PartnerId
    products: list[Slug] = Field(min_length=1, max_length=32)
    purpose: Slug = Field(
        description="what the grant is for: the kind of one of the granted products "
        "(deposit_waiver, loan or perk); the partner quotes it when it asks"
    )
    scope: Literal["decision", "band", "score"] = Field(
        default="decision",
        description="what the partner may learn: pass/fail (decision), also the band, or "
        "also the score with its dimensions and reasons",
    )
    expires_in_days: WholeNumber = Field(default=365, ge=1, le=730)


class GrantPublic(Out):
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


class GrantsPublic(Out):
    items: list[GrantPublic]


# -- inquiries and proofs ----------------------------------------------------------------


class InquiryPublic(Out):
    id: str
    partner_id: str
    grant_id: str | None
    purpose: str
    returned: dict[str, Any]
    at: datetime
    audit_seq: int | None = Field(
        description="the audit entry's seq; null for a moment while it is queued"
    )


class InquiriesPublic(Out):
    items: list[InquiryPublic]
    next_before: datetime | None = Field(description="pass as ?before= for the next page")


class InclusionProofPublic(Out):
    """RFC 6962 inclusion proof of the audit entry that recorded an inquiry; checkable
    offline with SHA-256 alone (``docs/audit-log.md``)."""

    seq: int
    tree_size: int
    entry: str
    leaf_hash: str
    path: list[str]
    root: str
    head_mac: str
    hashing: str
    verified: bool


# -- decisions and reviews ---------------------------------------------------------------


class AdverseReasonPublic(Out):
    code: str
    text: str
    improve: str | None = None


class ReviewCreate(In):
    reason: Text(4000)  # type: ignore[valid-type]


class ReviewPublic(Out):
    id: str
    decision_id: str
    reason: str
    status: str
    requested_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class DecisionPublic(Out):
    """A decision about me, as the person sees it (with the score it used)."""

    id: str
    partner_id: str
    grant_id: str | None
    product_id: str
    outcome: str
    score: int | None
    band: str | None
    terms: dict[str, Any]
    reasons: list[AdverseReasonPublic]
    decided_at: datetime
    review: ReviewPublic | None


class DecisionsPublic(Out):
    items: list[DecisionPublic]


class DecisionRequest(In):
    """A partner's request, under the grant the person gave it."""

    grant_id: Id
    person_id: PersonId = Field(description="the person the grant is from (checked)")
    product_id: Slug
    purpose: Slug = Field(description="must be the grant's purpose")


class AuditReceiptPublic(Out):
    """A signed promise that an audit entry will be integrated into the log in time."""

    v: int
    receipt_id: str
    entry_hash: str = Field(description="hex SHA-256 of the queued entry")
    queued_at: str
    max_merge_delay_seconds: float
    mac: str = Field(description="hex HMAC-SHA256 under the log's key")


class DecisionAnswer(Out):
    """What a partner learns. ``band`` and ``score`` are present only when the grant's
    scope allows them; a loan's ``rate_band`` is a term of the offer."""

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
    reasons: list[AdverseReasonPublic] = Field(description="adverse-action reasons (on decline)")
    band: str | None = None
    score: int | None = None
    dimensions: dict[str, int | None] | None = None
    score_reasons: list[ReasonPublic] | None = None
    #: false: not enough data to score; the product's declared treatment was applied
    scorable: bool = True
    #: a record on the person's file is under an open dispute: the decision may change
    #: when it is resolved, and the person is offered a human review of this decision
    open_dispute: bool = False
    human_review_offered: bool = False
    decided_at: datetime
    receipts: list[AuditReceiptPublic] = Field(
        default_factory=list,
        description="signed promises that the decision's and the inquiry's audit entries "
        "(in that order) will be in the log within max_merge_delay_seconds; check one with "
        "`openscore audit verify-receipt FILE`",
    )


class PartnerDecisionPublic(Out):
    """A decision the partner asked for, as recorded (no score unless it was returned)."""

    decision_id: str
    grant_id: str | None
    product_id: str
    outcome: str
    terms: dict[str, Any]
    decided_at: datetime


# -- disputes and records ----------------------------------------------------------------


class RecordPublic(Out):
    record_ref: str
    furnisher_id: str
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    fields: dict[str, Any]
    disputed: bool


class RecordsPublic(Out):
    items: list[RecordPublic]


class DisputeCreate(In):
    record_ref: RecordRef
    reason: Text(4000)  # type: ignore[valid-type]


class DisputePublic(Out):
    id: str
    record_ref: str
    reason: str
    status: str
    exclude_while_open: bool
    filed_at: datetime
    deadline: datetime
    resolved_at: datetime | None
    resolution: str | None
    overdue: bool


class DisputeFiledPublic(DisputePublic):
    score: ScorePublic | None = Field(
        description="the new score when the record stopped counting at once"
    )


class DisputesPublic(Out):
    items: list[DisputePublic]


# -- export ----------------------------------------------------------------------------


class ExportPublic(Out):
    """Everything openscore holds about me, machine-readable."""

    format: Literal["openscore.export.v1"]
    generated_at: datetime
    person_id: str
    registry: dict[str, Any]
    ledger: list[dict[str, Any]]
    features: dict[str, Any]
    score_history: list[ScorePublic]


# -- fulfilment ------------------------------------------------------------------------


class RentalReport(In):
    """A rental the partner served: returned (on time or late), damaged or lost."""

    kind: Literal["rental"]
    report_id: ExternalId = Field(description="unique per partner: the ledger event id")
    person_id: PersonId
    grant_id: Id
    product: Literal[RENTAL_PRODUCTS]  # type: ignore[valid-type]
    deposit_waived: bool = Field(strict=True)
    started_at: Timestamp
    due_back: Timestamp
    returned_at: Timestamp | None = None
    outcome: Literal["returned", "damaged", "lost"] | None = None


class RepaymentReport(In):
    """One instalment: due, and paid (when, how much) or not."""

    kind: Literal["repayment"]
    report_id: ExternalId = Field(description="unique per partner: the ledger event id")
    person_id: PersonId
    grant_id: Id
    account_id: ExternalId
    due_date: Day
    amount_due: Amount
    paid_date: Day | None = None
    amount_paid: Amount | None = None


FulfilmentReport = Annotated[RentalReport | RepaymentReport, Field(discriminator="kind")]


class FulfilmentRequest(In):
    reports: list[FulfilmentReport] = Field(min_length=1, max_length=500)


class FulfilmentRejection(Out):
    index: int | None = Field(description="position in reports, when known")
    field: str | None
    reason: str


class FulfilmentPublic(Out):
    """What the ledger did with the reports (atomically, as one batch)."""

    run_id: str
    accepted: int
    duplicates: int
    rejected: int
    rejections: list[FulfilmentRejection]


# -- catalogue ---------------------------------------------------------------------------


class ProductPublic(Out):
    id: str
    name: str
    kind: str
    min_score: int
    description: str
    deposit: int | None
    decline_on_public_records: list[str]
    loan: dict[str, Any] | None
    #: what the product does for a person with not enough data to score
    unscorable: dict[str, Any]


class ProductsPublic(Out):
    currency: str
    items: list[ProductPublic]


class PartnerDirectoryEntry(Out):
    id: str
    name: str
    #: the products a grant to it may name, and the purposes they serve
    products: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)


class PartnerDirectoryPublic(Out):
    items: list[PartnerDirectoryEntry]


# -- operators -------------------------------------------------------------------------


class PartnerCreate(In):
    name: Text(200)  # type: ignore[valid-type]
    role: Literal["partner", "operator"] = "partner"
    partner_id: PartnerId | None = None
    products: list[Slug] | None = Field(
        default=None,
        max_length=32,
        description="the catalogue products the partner offers: a person can grant it only "
        "these, for their purposes (null: any product, as for partners registered before)",
    )


class PartnerProductsSet(In):
    products: list[Slug] = Field(min_length=1, max_length=32)


class PartnerPublic(Out):
    id: str
    name: str
    role: str
    created_at: datetime
    deactivated_at: datetime | None
    active: bool
    #: the catalogue products it offers (null: not declared, any product)
    products: list[str] | None = None


class PartnersPublic(Out):
    items: list[PartnerPublic]


class ApiKeyCreate(In):
    label: Text(100)  # type: ignore[valid-type]


class ApiKeyPublic(Out):
    id: str
    partner_id: str
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class NewApiKeyPublic(ApiKeyPublic):
    secret: str = Field(description="shown once: store it now, it cannot be shown again")


class ApiKeysPublic(Out):
    items: list[ApiKeyPublic]


class PersonCreate(In):
    person_id: PersonId | None = Field(
        default=None, description="the furnishers' id; a fresh one if left out"
    )
    lift_erasure: StrictBool = Field(
        default=False,
        description="register an id that was erased (it is on the suppression list, and "
        "without this the answer is 409): an operator's explicit decision, audited",
    )


class PersonPublic(Out):
    id: str
    created_at: datetime
    has_login: bool


class EnrolmentCodePublic(Out):
    person_id: str
    code: str = Field(description="give it to the person once; it names them")
    expires_at: datetime


#: People one synchronous publication may name (each is a rescore from the ledger).
MAX_PUBLISH_BATCH = 200


class PublicationRequest(In):
    """Publish these people now (each a rescore from the ledger)."""

    person_ids: list[PersonId] = Field(min_length=1, max_length=MAX_PUBLISH_BATCH)


class PublishedPublic(Out):
    person_id: str
    score_id: int
    model_id: str


class PublicationPublic(Out):
    job_id: str
    status: Literal["running", "done", "failed"]
    total: int
    published: int
    failed: int
    items: list[PublishedPublic] = Field(description="for a request naming people")
    errors: list[str]


class QueuedDisputePublic(DisputePublic):
    person_id: str


class DisputeQueuePublic(Out):
    items: list[QueuedDisputePublic]


class DisputeDetailPublic(QueuedDisputePublic):
    """A dispute with the record it names (reading it is an operator inquiry)."""

    record: RecordPublic | None


class DisputeClose(In):
    status: Literal["resolved", "rejected"] = Field(
        description="resolved: the person was right and the record is removed; "
        "rejected: the record stands"
    )
    resolution: Text(4000)  # type: ignore[valid-type]


class DisputeClosedPublic(QueuedDisputePublic):
    score: ScorePublic
    records_removed: int
    #: partners that got a correction notice (resolved disputes only)
    partners_notified: int = 0


class QueuedReviewPublic(ReviewPublic):
    person_id: str


class ReviewQueuePublic(Out):
    items: list[QueuedReviewPublic]


class ReviewClose(In):
    status: Literal["upheld", "overturned"]
    resolution: Text(4000)  # type: ignore[valid-type]


class IngestionRunPublic(Out):
    id: str
    furnisher_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    accepted: int
    rejected: int
    duplicates: int
    report_path: str | None


class IngestionRunsPublic(Out):
    items: list[IngestionRunPublic]


class AuditStatusPublic(Out):
    ok: bool
    tree_size: int
    root: str
    entries_checked: int
    heads_checked: int
    macs_checked: bool
    first_bad: int | None
    problem: str | None
