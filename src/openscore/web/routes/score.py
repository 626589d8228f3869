"""My score (the dashboard), the what-if simulator and the plan to the next band."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from openscore import online, registry
from openscore.decisions.policy import RECORD_LABELS
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.errors import Conflict, NotFound
from openscore.features import FEATURES_BY_NAME
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.weights import dimension_weights, weight_notes
from openscore.services import plan as plan_service
from openscore.services import whatif as whatif_service
from openscore.services.schemas import WhatIfRequest
from openscore.services.scores import current_or_publish, ensure_model, history_changes
from openscore.web import charts, forms
from openscore.web.auth import PortalSubject, app_state
from openscore.web.render import page
from openscore.web.vocabulary import DIMENSIONS

router = APIRouter()


def _model_method(request: Request, model_id: str) -> str | None:
    try:
        card = online.current_model(app_state(request).settings)
    except NotFound:
        return None
    return card.method if card.model_id == model_id else None


def _model_facts(request: Request, model_id: str) -> tuple[dict[str, float], dict[str, str], bool]:
    """The dimension weights of the model that made this score, why some carry none, and
    whether it gives points for public records (from the model file)."""
    try:
        card = online.current_model(app_state(request).settings)
    except NotFound:
        return {}, {}, False
    if card.model_id != model_id:
        return {}, {}, False
    uses_records = any(
        "live_public_records" in t.features and t.min_points != t.max_points for t in card.terms
    )
    return dimension_weights(card), weight_notes(card), uses_records


def public_records_shown(request: Request, person_id: str) -> list[dict[str, object]]:
    """The person's live public records with legal basis, expiry, and which products
    decline on them (the catalogue's policy)."""
    state = app_state(request)
    out: list[dict[str, object]] = []
    for record in state.public_records.live_for(person_id):
        out.append(
            {
                "kind": record.record_kind,
                "label": RECORD_LABELS.get(record.record_kind, record.record_kind),
                "legal_basis": record.legal_basis,
                "expires_at": record.expires_at,
                "record_ref": record.record_ref,
                "declines": [
                    p.name
                    for p in state.catalogue.products
                    if record.record_kind in p.decline_on_public_records
                ],
            }
        )
    return out


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    person_id = subject.person_id
    score = current_or_publish(state, person_id, actor="subject")
    with state.read() as conn:
        history = registry.score_history(conn, person_id, limit=60)
        shared = registry.current_consents(conn, person_id)
        locked = registry.locked_since(conn, person_id)
    scored = [s for s in history if s.score is not None]
    previous = scored[1] if score.scored and len(scored) > 1 else None
    shared_sources = [s.value for s in CONSENTABLE_SOURCES if s in shared]
    notice = None
    if request.query_params.get("welcome") == "1":
        notice = {
            "kind": "success",
            "text": "Welcome. You share nothing yet, so there is not enough data to score "
            "you: choose what to share under Data sources.",
        }
    weights, weight_why, uses_records = _model_facts(request, score.model_id)
    rule = ScoringRule.from_settings(state.settings)
    return page(
        request,
        "portal/dashboard.html",
        score=score,
        previous=previous,
        history=history,
        shared=shared_sources,
        locked=locked,
        method=_model_method(request, score.model_id),
        gauge=(
            charts.gauge(score.score, score.band)
            if score.scored and score.score is not None and score.band is not None
            else None
        ),
        radar=charts.radar(score.dimensions, DIMENSIONS) if score.scored else None,
        history_chart=charts.history(
            [(_when(s), s.score) for s in scored if s.score is not None],
            recomputed=[s.recomputed for s in scored if s.score is not None],
        ),
        changes=_changes(history, state.settings.score_change_points),
        change_threshold=state.settings.score_change_points,
        recomputed_points=sum(1 for s in history if s.recomputed),
        notice=notice,
        weights=weights,
        weight_why=weight_why,
        scorable_when=rule.describe(),
        would_help=rule.what_would_help(shared_sources),
        public_records=public_records_shown(request, person_id),
        model_uses_records=uses_records,
    )


def _when(score: registry.PublishedScore) -> datetime:
    """Where a point sits in time: a recomputed point at the month-end it is as of, a
    published one when it was published."""
    return score.as_of if score.recomputed else score.published_at


def _changes(history: list[registry.PublishedScore], threshold: int) -> list[dict[str, Any]]:
    """The history's changes of more than ``threshold`` points, newest first, each with
    the two points and which factors moved (``services.scores.history_changes``)."""
    by_id = {s.id: s for s in history}
    scored = [s for s in history if s.score is not None]
    before = {new.id: old for new, old in zip(scored, scored[1:], strict=False)}
    out = []
    for point_id, change in history_changes(history, threshold).items():
        out.append(
            {
                "point": by_id[point_id],
                "when": _when(by_id[point_id]),
                "before": before[point_id],
                "before_when": _when(before[point_id]),
                "change": change,
            }
        )
    return out


@router.get("/plan", response_class=HTMLResponse)
def plan(request: Request, subject: PortalSubject) -> HTMLResponse:
    """The plan to the next band, or a sentence saying why there is none."""
    state = app_state(request)
    state.costly.attempt(subject.person_id, "plans")
    try:
        found = plan_service.make_plan(state, subject.person_id)
    except Conflict as exc:
        return page(request, "portal/plan.html", plan=None, why=str(exc))
    return page(request, "portal/plan.html", plan=found, why=None)


@dataclass(frozen=True)
class WhatIfInput:
    """One number the simulator lets a person change."""

    name: str  # the form field
    feature: str
    label: str
    hint: str
    scale: float  # form value × scale = feature value
    maximum: float
    step: str
    unit: str = ""


WHATIF_INPUTS = (
    WhatIfInput(
        "utilisation",
        "utilisation",
        "Credit utilisation (%)",
        "How much of your credit limits you use. Below 30 % is best.",
        0.01,
        1000,
        "1",
        "%",
    ),
    WhatIfInput(
        "late_payments",
        "late_30_24m",
        "Payments 30 or more days late, last 24 months",
        "A whole number of instalments.",
        1,
        240,
        "1",
    ),
    WhatIfInput(
        "verified_income",
        "verified_income",
        "Verified monthly income",
        "As verified in your profile source.",
        1,
        1e9,
        "any",
    ),
)


#: Shares and ratios: typed as a percentage.
_PERCENT = frozenset({"paid_to_due_6m", "bills_on_time_12m", "rentals_on_time_24m"})


def whatif_inputs(feature_names: list[str]) -> list[WhatIfInput]:
    """The simulator's fields: the three long-standing ones, then every feature the
    catalogue says a person can change (its action), in the model's order."""
    inputs = [i for i in WHATIF_INPUTS if i.feature in feature_names]
    covered = {i.feature for i in inputs}
    for name in feature_names:
        spec = FEATURES_BY_NAME.get(name)
        if spec is None or spec.action is None or name in covered:
            continue
        action = spec.action
        percent = name in _PERCENT
        if percent:
            maximum = 100.0
        elif action.direction == "up" and action.limit is not None:
            maximum = action.limit
        else:
            maximum = 1e6
        inputs.append(
            WhatIfInput(
                name,
                name,
                spec.description.rstrip(".") + (" (%)" if percent else ""),
                f"{action.words}.",
                0.01 if percent else 1,
                maximum,
                "1" if percent or maximum != 1e6 else "any",
                "%" if percent else "",
            )
        )
    return inputs


def _shown(value: float | None, spec: WhatIfInput) -> str:
    if value is None:
        return ""
    shown = value / spec.scale
    return f"{shown:.0f}" if abs(shown - round(shown)) < 1e-9 else f"{shown:.2f}"


@router.get("/whatif", response_class=HTMLResponse)
def whatif(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    ensure_model(state)
    person_id = subject.person_id
    card = online.current_model(state.settings)
    inputs = whatif_inputs(card.feature_names)
    with state.read() as conn:
        shared = [
            s.value for s in CONSENTABLE_SOURCES if s in registry.current_consents(conn, person_id)
        ]
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
    not_shared = [s.value for s in CONSENTABLE_SOURCES if s.value not in shared]
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    current = {i.name: _shown(features.get(i.feature), i) for i in inputs}
    query = request.query_params
    values = {i.name: query.get(i.name, "").strip()[:40] for i in inputs}
    keep = set(query.getlist("keep")) if query.get("run") else set(shared)
    share = [s for s in query.getlist("share") if s in not_shared]
    errors: dict[str, str] = {}
    result = None
    if query.get("run"):
        overrides: dict[str, float] = {}
        for spec in inputs:
            typed = values[spec.name]
            if not typed:
                continue
            try:
                number = float(typed.replace(",", "").replace("%", "").strip())
            except ValueError:
                errors[spec.name] = "Enter a number, or leave it empty to keep yours."
                continue
            if not 0 <= number <= spec.maximum or number != number:
                errors[spec.name] = f"Enter a number from 0 to {spec.maximum:g}."
                continue
            overrides[spec.feature] = number * spec.scale
        if not errors:
            dropped = [s for s in shared if s not in keep]
            try:
                body = WhatIfRequest(
                    overrides=overrides, without_sources=dropped, share_sources=share
                )
            except ValidationError as exc:
                errors = forms.field_errors(exc)
            else:
                state.costly.attempt(person_id, "what-if simulations")
                result = whatif_service.simulate(
                    state,
                    person_id,
                    overrides=body.overrides,
                    without_sources=body.without_sources,
                    share_sources=body.share_sources,
                )
    changed_terms = []
    if result is not None:
        changed_terms = sorted(
            ((name, delta) for name, delta in result.contribution_changes.items() if delta),
            key=lambda item: item[1],
        )
    return page(
        request,
        "portal/whatif.html",
        inputs=inputs,
        labels={i.name: i.label for i in inputs},
        current=current,
        values=values,
        shared=shared,
        keep=keep,
        not_shared=not_shared,
        share=share,
        errors=errors,
        result=result,
        changed_terms=changed_terms,
        feature_text={k: v.description for k, v in FEATURES_BY_NAME.items()},
        gauge=charts.gauge(
            result.after.score,
            result.after.band,
            before=result.before.score,
            chart_id="whatif-gauge",
        )
        if result and result.after.score is not None and result.after.band is not None
        else None,
        radar=charts.radar(
            result.after.dimensions,
            DIMENSIONS,
            compare=result.before.dimensions,
            compare_label="your score now",
            chart_id="whatif-radar",
        )
        if result
        else None,
    )
