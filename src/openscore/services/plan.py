"""A plan to reach the next band: the fewest months, then the fewest steps, computed
exactly from the model in use (``scoring/recourse.py``); nothing is stored."""

from __future__ import annotations

from typing import Any

from openscore import online, registry
from openscore.domain import BANDS, band_of
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.errors import Conflict, IntegrityError
from openscore.features import FEATURES_BY_NAME
from openscore.scoring import score_person
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.recourse import HORIZON_MONTHS, plan
from openscore.services.context import Context
from openscore.services.schemas_plan import PlanPublic, PlanStepPublic
from openscore.services.scores import ensure_model

#: Features shown as a percentage of 1 (shares and ratios).
PERCENT = frozenset({"utilisation", "paid_to_due_6m", "bills_on_time_12m", "rentals_on_time_24m"})
#: The unit a count is shown with.
UNITS = {
    "credit_age_months": "months",
    "months_since_late": "months",
    "phone_tenure_months": "months",
    "address_tenure_months": "months",
    "active_months_12m": "months",
    "paid_in_full_6m": "instalments",
    "revolved_on_time_6m": "instalments",
    "current_dpd": "days overdue",
}

TOP_BAND_MESSAGE = "you are already in the top band ({band}): there is no higher band to plan for"


def shown(feature: str, value: float) -> str:
    """A feature value in the person's words (``62 %``, ``9 months``, ``verified``)."""
    if feature == "identity_verified":
        return "verified" if value >= 1 else "not verified"
    if feature in PERCENT:
        return f"{value * 100:.0f} %"
    number = f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.2f}"
    unit = UNITS.get(feature)
    return f"{number} {unit}" if unit else number


def next_band(score: int) -> tuple[int, str] | None:
    """The lowest score of the band above ``score`` and its name; None in the top band."""
    for band in BANDS:
        if band.low > score:
            return band.low, band.name
    return None


def unscorable_message(rule: ScoringRule, shared: list[str]) -> str:
    helps = " ".join(rule.what_would_help(shared))
    return f"there is not enough data to score you, so there is no plan yet. {helps}"


def make_plan(state: Context, person_id: str) -> PlanPublic:
    """The plan to the next band; :class:`Conflict` when the person cannot be scored or is
    already in the top band."""
    ensure_model(state)
    card = online.current_model(state.settings)
    with state.read() as conn:
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
        consents = registry.current_consents(conn, person_id)
    features: dict[str, Any] = online.person_features(
        person_id, excluded=excluded, settings=state.settings
    )
    now = score_person(card, features, rule=ScoringRule.from_settings(state.settings))
    if now.score is None or now.band is None:
        shared = [s.value for s in CONSENTABLE_SOURCES if s in consents]
        raise Conflict(unscorable_message(ScoringRule.from_settings(state.settings), shared))
    goal = next_band(now.score)
    if goal is None:
        raise Conflict(TOP_BAND_MESSAGE.format(band=now.band.replace("_", " ")))
    target, target_band = goal
    actions = {n: f.action for n, f in FEATURES_BY_NAME.items() if f.action is not None}
    found = plan(card, features, actions, target)
    s = card.scaling
    if not found.reachable:
        return PlanPublic(
            status="unreachable",
            score=now.score,
            band=now.band,
            target=target,
            target_band=target_band,
            points_needed=found.needed,
            months=0,
            score_after=now.score,
            horizon_months=HORIZON_MONTHS,
            model_id=card.model_id,
        )
    steps = []
    running = found.raw_now
    for step in found.steps:
        running += step.points
        spec = FEATURES_BY_NAME[step.feature]
        steps.append(
            PlanStepPublic(
                feature=step.feature,
                label=spec.description,
                kind=step.kind,  # type: ignore[arg-type]
                action=step.words,
                before=step.before,
                after=step.after,
                before_shown=shown(step.feature, step.before),
                after_shown=shown(step.feature, step.after),
                months=step.months,
                points=step.points,
                score_after=int(max(s.score_min, min(s.score_max, running))),
            )
        )
    after = score_person(
        card, {**features, **found.values}, rule=ScoringRule.from_settings(state.settings)
    )
    # the plan's arithmetic is the scorer's: the last step's score is the score rescored,
    # in the next band; a plan that disagrees is not shown
    expected = steps[-1].score_after if steps else now.score
    if after.score is None or after.score != expected or band_of(after.score) == now.band:
        raise IntegrityError(
            f"the plan leads to {expected} but the scorer gives {after.score}: not shown"
        )
    return PlanPublic(
        status="plan",
        score=now.score,
        band=now.band,
        target=target,
        target_band=target_band,
        points_needed=found.needed,
        months=found.months,
        steps=steps,
        score_after=after.score,
        horizon_months=HORIZON_MONTHS,
        model_id=card.model_id,
    )
