"""Pages anyone may read: the start page, how the score works, the city credit map (its
published, differentially private release) and the page after an account is deleted."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from openscore import online
from openscore.domain.bands import BANDS
from openscore.domain.sources import CONSENTABLE_SOURCES, SOURCE_DESCRIPTIONS, Source
from openscore.errors import NotFound
from openscore.features import FEATURES
from openscore.model.protected import DEFAULT_PROTECTED
from openscore.registry import DISPUTE_PERIOD
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.weights import dimension_weights, weight_notes
from openscore.web import city_map as city_map_view
from openscore.web import reports
from openscore.web.auth import app_state, optional_subject
from openscore.web.charts import BAND_COLOURS
from openscore.web.render import page
from openscore.web.vocabulary import DIMENSIONS, WEIGHTS

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    await optional_subject(request)
    return page(request, "home.html")


def _model_weights(
    request: Request,
) -> tuple[str | None, dict[str, float], dict[str, str], bool]:
    """The model in service, its dimension weights (share of the point range, computed from
    its file), why a dimension carries none, and whether it gives points for public
    records."""
    try:
        card = online.current_model(app_state(request).settings)
    except NotFound:
        return None, {}, {}, False
    uses_records = any(
        "live_public_records" in t.features and t.min_points != t.max_points for t in card.terms
    )
    return card.model_id, dimension_weights(card), weight_notes(card), uses_records


@router.get("/how-it-works", response_class=HTMLResponse)
async def how_it_works(request: Request) -> HTMLResponse:
    await optional_subject(request)
    settings = app_state(request).settings
    model_id, model_weights, notes, uses_records = _model_weights(request)
    dimensions = [
        {
            "id": key,
            "label": label,
            "prior": WEIGHTS[key],
            "model_weight": model_weights.get(key),
            "note": notes.get(key),
            "features": [f for f in FEATURES if f.dimension.value == key],
        }
        for key, label in DIMENSIONS.items()
    ]
    return page(
        request,
        "how_it_works.html",
        bands=BANDS,
        dimensions=dimensions,
        model_id=model_id,
        sources=[(s.value, SOURCE_DESCRIPTIONS[s]) for s in CONSENTABLE_SOURCES],
        public_records=SOURCE_DESCRIPTIONS[Source.PUBLIC_RECORDS],
        protected=list(DEFAULT_PROTECTED),
        retention_years=settings.retention_years,
        dispute_days=DISPUTE_PERIOD.days,
        scaling=settings,
        scorable_when=ScoringRule.from_settings(settings).describe(),
        model_uses_records=uses_records,
        record_products=[
            p.name for p in app_state(request).catalogue.products if p.decline_on_public_records
        ],
        unscorable_products=[
            (p.name, p.unscorable.treatment.value, p.deposit)
            for p in app_state(request).catalogue.products
        ],
    )


@router.get("/goodbye", response_class=HTMLResponse)
async def goodbye(request: Request) -> HTMLResponse:
    rows = request.query_params.get("rows", "0")
    return page(request, "goodbye.html", rows=int(rows) if rows.isdigit() else 0)


_MAP_MEDIA = {"svg": "image/svg+xml", "png": "image/png", "csv": "text/csv; charset=utf-8"}


@router.get("/city-map", response_class=HTMLResponse)
async def city_map(
    request: Request,
    q: str = "",
    sort: str = city_map_view.DEFAULT_SORT,
    order: str = city_map_view.DEFAULT_ORDER,
) -> HTMLResponse:
    """The latest city credit map: noisy per-city figures on a map of the provinces, small
    cities suppressed; ``q`` filters the table by city name, ``sort`` (city, people,
    mean, margin) and ``order`` (asc, desc) order it — plain GET parameters, no script."""
    await optional_subject(request)
    settings = app_state(request).settings
    report = reports.read_public_map(settings)
    if report is None:
        return page(request, "city_map.html", report=None, view=None, figure=None)
    view = city_map_view.build_view(
        settings, report.data, reports.city_rows(settings, report), query=q, sort=sort, order=order
    )
    return page(
        request,
        "city_map.html",
        report=report,
        view=view,
        figure=city_map_view.map_svg(view),
        bands=BANDS,
        swatch=city_map_view.swatch,
        colours=BAND_COLOURS,
        sorts=city_map_view.SORTS,
    )


@router.get("/city-map/files/{file}")
async def city_map_file(request: Request, file: str) -> FileResponse:
    path = reports.public_map_file(app_state(request).settings, file)
    if path is None:
        raise NotFound("file not found")
    return FileResponse(
        path,
        media_type=_MAP_MEDIA[path.suffix[1:]],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
