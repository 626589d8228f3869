"""My score (the dashboard) and the what-if simulator."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from openscore import online, registry
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.errors import NotFound
from openscore.features import FEATURES_BY_NAME
from openscore.services import whatif as whatif_service
from openscore.services.schemas import WhatIfRequest
from openscore.services.scores import current_or_publish, ensure_model
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


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    person_id = subject.person_id
    score = current_or_publish(state, person_id, actor="subject")
    with state.read() as conn:
        history = registry.score_history(conn, person_id, limit=60)
        shared = registry.current_consents(conn, person_id)
        locked = registry.locked_since(conn, person_id)
    previous = history[1] if len(history) > 1 else None
    notice = None
    if request.query_params.get("welcome") == "1":
        notice = {
            "kind": "success",
            "text": "Welcome. This is your starting score: you share nothing yet, and "
            "nothing shared is never counted against you. Choose what to share under Data "
            "sources.",
        }
    return page(
        request,
        "portal/dashboard.html",
        score=score,
        previous=previous,
        history=history,
        shared=[s.value for s in CONSENTABLE_SOURCES if s in shared],
        locked=locked,
        method=_model_method(request, score.model_id),
        gauge=charts.gauge(score.score, score.band),
        radar=charts.radar(score.dimensions, DIMENSIONS),
        history_chart=charts.history([(s.published_at, s.score) for s in history]),
        notice=notice,
    )


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
    inputs = [i for i in WHATIF_INPUTS if i.feature in card.feature_names]
    with state.read() as conn:
        shared = [
            s.value for s in CONSENTABLE_SOURCES if s in registry.current_consents(conn, person_id)
        ]
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    current = {i.name: _shown(features.get(i.feature), i) for i in inputs}
    query = request.query_params
    values = {i.name: query.get(i.name, "").strip()[:40] for i in inputs}
    keep = set(query.getlist("keep")) if query.get("run") else set(shared)
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
                body = WhatIfRequest(overrides=overrides, without_sources=dropped)
            except ValidationError as exc:
                errors = forms.field_errors(exc)
            else:
                state.costly.attempt(person_id, "what-if simulations")
                result = whatif_service.simulate(
                    state,
                    person_id,
                    overrides=body.overrides,
                    without_sources=body.without_sources,
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
        if result
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
