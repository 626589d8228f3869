"""The decision for a partner's request: approve or decline, on which terms, and why.

``decide`` is a pure function of the product's policy, the person's current score, band
and reasons, and their live public records, so that the same inputs always give the same
answer and the whole policy is testable without a database. The rules, in order:

1. A live public record of a kind the product's policy names declines, whatever the
   score, and the reason says which record and on what legal basis.
2. A score below the product's threshold declines; the adverse-action reasons are
   "score below the product's threshold" and then the score's own reason codes (the
   features that cost the most points), so the person knows what to improve.
3. Otherwise approve: a deposit waiver waives the deposit; a loan gets its band's APR and
   the credit line of the score's step; a perk is granted.

A person with not enough data to score (``score`` None) gets the product's declared
``unscorable`` treatment instead of rules 2-3: the deposit is due (deposit waivers), a
smaller starter line (loans), or a decline; the reason is always "not enough data to
score", never a missing-information notice. Adverse-action reasons never cite missing
information either: a reason that only says nothing is on file is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from openscore.decisions.products import Product, ProductKind, UnscorableTreatment
from openscore.domain import SCORE_MAX, SCORE_MIN, band_of
from openscore.errors import InputError

#: Adverse-action reasons carried over from the score (the FCRA allows four key factors).
MAX_SCORE_REASONS = 4
BELOW_THRESHOLD = "score_below_threshold"
PUBLIC_RECORD = "public_record"
NOT_ENOUGH_DATA = "not_enough_data"

RECORD_LABELS: dict[str, str] = {
    "court_judgment_default": "court judgment for an unpaid debt",
    "tax_arrears": "record of tax arrears",
    "bankruptcy": "bankruptcy",
    "enforcement_order": "enforcement order",
}


class ScoreReason(BaseModel):
    """One of the score's reasons (a scorecard term where the person lost points)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    code: str = Field(validation_alias=AliasChoices("code", "term", "name"))
    text: str = Field(validation_alias=AliasChoices("text", "reason"))
    improve: str | None = None
    #: only missing information: never an adverse-action reason
    missing: bool = False


@dataclass(frozen=True, slots=True)
class PublicRecord:
    """A public record on the person's file, held on a legal basis."""

    record_kind: str
    legal_basis: str
    expires_at: datetime | None = None
    record_ref: str | None = None


@dataclass(frozen=True, slots=True)
class AdverseReason:
    code: str
    text: str
    improve: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "improve": self.improve}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a partner's request (amounts in the catalogue's currency)."""

    product_id: str
    kind: ProductKind
    outcome: Literal["approve", "decline"]
    threshold: int
    deposit_waived: int | None = None  # deposit waivers: the amount waived (0 on decline)
    deposit_due: int | None = None  # deposit waivers: what the person must pay
    credit_line: int | None = None  # loans, on approval
    apr: float | None = None  # loans, on approval
    rate_band: str | None = None  # loans, on approval: the band that priced it
    reasons: tuple[AdverseReason, ...] = field(default=())

    @property
    def approved(self) -> bool:
        return self.outcome == "approve"

    def terms(self) -> dict[str, Any]:
        """The decision's terms without reasons (what ``record_decision`` stores as terms)."""
        terms: dict[str, Any] = {"threshold": self.threshold}
        if self.kind is ProductKind.DEPOSIT_WAIVER:
            terms |= {"deposit_waived": self.deposit_waived, "deposit_due": self.deposit_due}
        if self.kind is ProductKind.LOAN and self.approved:
            terms |= {"credit_line": self.credit_line, "apr": self.apr, "rate_band": self.rate_band}
        return terms

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "kind": self.kind.value,
            "outcome": self.outcome,
            **self.terms(),
            "reasons": [r.to_json() for r in self.reasons],
        }


def _score_reasons(reasons: Sequence[ScoreReason | Mapping[str, Any]]) -> list[AdverseReason]:
    """The score's real causes: missing information is never an adverse-action reason."""
    out = []
    for i, reason in enumerate(reasons):
        try:
            parsed = (
                reason if isinstance(reason, ScoreReason) else ScoreReason.model_validate(reason)
            )
        except ValueError as exc:
            raise InputError(str(exc).splitlines()[0], field=f"reasons[{i}]") from None
        if parsed.missing:
            continue
        out.append(AdverseReason(parsed.code, parsed.text, parsed.improve))
    return out[:MAX_SCORE_REASONS]


def _not_enough_data(product: Product) -> AdverseReason:
    what = {
        UnscorableTreatment.DEPOSIT: f"the deposit of {product.name} applies",
        UnscorableTreatment.SMALLER_LINE: "a smaller starter line is offered",
        UnscorableTreatment.DECLINE: f"{product.name} is declined",
    }[product.unscorable.treatment]
    return AdverseReason(
        NOT_ENOUGH_DATA,
        f"Not enough data to score: {what}.",
        "Share a source with a credit account, a rental or a bill payment, or keep using "
        "your wallet for a few months; you are scored as soon as there is enough.",
    )


def _record_reason(product: Product, record: PublicRecord) -> AdverseReason:
    label = RECORD_LABELS.get(record.record_kind, record.record_kind.replace("_", " "))
    until = f" (until {record.expires_at:%Y-%m-%d})" if record.expires_at else ""
    return AdverseReason(
        f"{PUBLIC_RECORD}:{record.record_kind}",
        f"A {label} held under {record.legal_basis} is on your file{until}: "
        f"{product.name} is declined while it is live, whatever the score.",
        "If the record is wrong, dispute it; it stops counting when it expires.",
    )


def _live_record_reasons(
    product: Product, records: Sequence[PublicRecord], now: datetime
) -> list[AdverseReason]:
    return [
        _record_reason(product, record)
        for record in records
        if record.record_kind in product.decline_on_public_records
        and (record.expires_at is None or record.expires_at > now)
    ]


def _decide_unscorable(
    product: Product, records: Sequence[PublicRecord], now: datetime
) -> Decision:
    """The product's declared treatment of a person with not enough data to score."""
    adverse = _live_record_reasons(product, records, now)
    treatment = product.unscorable.treatment
    deposit = product.deposit if product.kind is ProductKind.DEPOSIT_WAIVER else None
    if not adverse and treatment is UnscorableTreatment.SMALLER_LINE:
        return Decision(
            product.id,
            product.kind,
            "approve",
            product.min_score,
            credit_line=product.unscorable.credit_line,
            apr=product.unscorable.apr,
            rate_band=None,
            reasons=(_not_enough_data(product),),
        )
    if treatment is not UnscorableTreatment.SMALLER_LINE or not adverse:
        adverse.append(_not_enough_data(product))
    return Decision(
        product.id,
        product.kind,
        "decline",
        product.min_score,
        deposit_waived=0 if deposit is not None else None,
        deposit_due=deposit,
        reasons=tuple(adverse),
    )


def decide(
    product: Product,
    score: int | None,
    band: str | None,
    reasons: Sequence[ScoreReason | Mapping[str, Any]],
    live_public_records: Sequence[PublicRecord] = (),
    *,
    now: datetime | None = None,
) -> Decision:
    """The decision on ``product`` for a person with this score, band, reasons and records.

    Records whose ``expires_at`` has passed are ignored even if passed in: an expired
    record must never decline anyone.
    """
    now = now or datetime.now(UTC)
    if score is None:
        if band is not None:
            raise InputError("an unscorable person has no band", field="band")
        return _decide_unscorable(product, live_public_records, now)
    if isinstance(score, bool) or not isinstance(score, int):
        raise InputError("must be an integer", field="score")
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise InputError(f"must lie in {SCORE_MIN}-{SCORE_MAX}", field="score")
    if band != band_of(score):
        raise InputError(f"{band!r} is not the band of {score} ({band_of(score)})", field="band")

    adverse = _live_record_reasons(product, live_public_records, now)
    if score < product.min_score:
        adverse.append(
            AdverseReason(
                BELOW_THRESHOLD,
                f"Your score {score} is below the {product.min_score} that "
                f"{product.name} needs (score below the product's threshold).",
                None,
            )
        )
        adverse.extend(_score_reasons(reasons))

    deposit = product.deposit if product.kind is ProductKind.DEPOSIT_WAIVER else None
    if adverse:
        return Decision(
            product.id,
            product.kind,
            "decline",
            product.min_score,
            deposit_waived=0 if deposit is not None else None,
            deposit_due=deposit,
            reasons=tuple(adverse),
        )
    if product.kind is ProductKind.LOAN:
        if product.loan is None:  # the catalogue's validator refuses this; a hand-made one
            raise InputError("a loan product needs loan terms", field=f"{product.id}.loan")
        return Decision(
            product.id,
            product.kind,
            "approve",
            product.min_score,
            credit_line=product.loan.line_for(score),
            apr=product.loan.apr_by_band[band],  # type: ignore[index]
            rate_band=band,
        )
    return Decision(
        product.id,
        product.kind,
        "approve",
        product.min_score,
        deposit_waived=deposit,
        deposit_due=0 if deposit is not None else None,
    )
