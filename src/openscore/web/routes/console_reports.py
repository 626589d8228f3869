"""The console's read-only pages: the model card, the score distribution, the fairness
report, the city map, ingestion runs with their rejection reports, the audit log check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from openscore import online, registry
from openscore.errors import NotFound
from openscore.fairness import CALIBRATION_GAP_POINTS, FOUR_FIFTHS, verdicts
from openscore.features import FEATURES_BY_NAME
from openscore.services import operations
from openscore.web import charts, fairness_view, reports
from openscore.web.auth import ConsoleOperator, app_state
from openscore.web.render import page
from openscore.web.vocabulary import DIMENSIONS, band_name

router = APIRouter(prefix="/console")

#: PSI rules of thumb: under 0.1 stable, 0.1-0.25 worth watching, above 0.25 shifted.
PSI_WATCH, PSI_SHIFT = 0.1, 0.25

_MEDIA = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
}
#: A report's own files (matplotlib SVGs carry a <style>): nothing in them may load
#: anything or run anything.
_FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "Cache-Control": "no-store",
}


def _psi_word(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value < PSI_WATCH:
        return "stable"
    return "worth watching" if value < PSI_SHIFT else "shifted"


@router.get("/model", response_class=HTMLResponse)
def model(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    state = app_state(request)
    try:
        card = online.current_model(state.settings)
    except NotFound:
        return page(request, "console/model.html", card=None)
    m = card.metrics or {}
    parts = [(name, m[name]) for name in ("train", "test", "oot") if isinstance(m.get(name), dict)]
    bands = [b for b in m.get("bands", []) if isinstance(b, dict)]
    shown_bands = [b for b in bands if b.get("rows")]
    roc = m.get("roc") if isinstance(m.get("roc"), dict) else None
    dist = m.get("score_distribution") if isinstance(m.get("score_distribution"), dict) else None
    psi = m["psi"] if isinstance(m.get("psi"), dict) else {}
    feature_psi = sorted(
        ((k, float(v)) for k, v in (psi.get("features") or {}).items() if v is not None),
        key=lambda kv: -kv[1],
    )
    current = reports.published_distribution(state)
    drift = reports.score_drift(m, current)
    figures = {}
    if roc:
        figures["roc"] = charts.roc(
            roc.get("fpr", []), roc.get("tpr", []), auc=(m.get("test") or {}).get("auc")
        )
    if shown_bands:
        figures["calibration"] = charts.bars(
            [band_name(b["band"]) for b in shown_bands],
            {
                "observed": [b.get("bad_rate") for b in shown_bands],
                "predicted": [b.get("predicted_bad_rate") for b in shown_bands],
            },
            title="Calibration by band (test part)",
            desc="Observed and predicted bad rate per band: "
            + "; ".join(
                f"{band_name(b['band'])} observed {b.get('bad_rate', 0):.1%}, predicted "
                f"{b.get('predicted_bad_rate', 0):.1%}"
                for b in shown_bands
            ),
            chart_id="calibration",
            percent=True,
            y_label="bad rate",
        )
    if dist and dist.get("edges"):
        good, bad = dist.get("good", []), dist.get("bad", [])
        ng, nb = max(sum(good), 1), max(sum(bad), 1)
        figures["distribution"] = charts.histogram(
            dist["edges"],
            {"good": [g / ng for g in good], "bad": [b / nb for b in bad]},
            title="Score distribution by outcome (test part)",
            desc="Share of goods and of bads in each 25-point score bin; bads should sit "
            "lower than goods.",
            chart_id="distribution",
            y_label="share of the outcome group",
            percent=True,
        )
    if feature_psi:
        figures["psi"] = charts.hbars(
            feature_psi,
            title="Feature stability (PSI, train against test)",
            desc="PSI per feature, highest first: "
            + ", ".join(f"{k} {v:.3f}" for k, v in feature_psi),
            chart_id="psi",
            thresholds=((PSI_WATCH, "0.1 watch"), (PSI_SHIFT, "0.25 shifted")),
        )
    return page(
        request,
        "console/model.html",
        card=card,
        parts=parts,
        cv=m.get("cv") if isinstance(m.get("cv"), dict) else None,
        split=m.get("split") if isinstance(m.get("split"), dict) else {},
        bands=bands,
        falls=m.get("bad_rate_falls"),
        score_psi=psi.get("score"),
        score_psi_word=_psi_word(psi.get("score")),
        feature_psi=feature_psi,
        drift=drift,
        drift_word=_psi_word(drift),
        published=current.total,
        figures=figures,
        feature_text={k: v.description for k, v in FEATURES_BY_NAME.items()},
        dimension_names=DIMENSIONS,
        excluded=(card.training or {}).get("excluded") or {},
        card_markdown=reports.model_card_file(state.settings, "model-card.md") is not None,
        psi_watch=PSI_WATCH,
        psi_shift=PSI_SHIFT,
    )


@router.get("/scores", response_class=HTMLResponse)
def scores(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    dist = reports.published_distribution(app_state(request))
    figure = charts.histogram(
        dist.edges,
        {"people": dist.counts},
        title="Published scores",
        desc=f"Current published scores of {dist.total} people in 25-point bins: "
        + ", ".join(
            f"{lo}-{lo + reports.BIN_WIDTH}: {n}"
            for lo, n in zip(dist.edges, dist.counts, strict=False)
            if n
        ),
        chart_id="published",
    )
    return page(request, "console/scores.html", dist=dist, figure=figure)


@router.get("/fairness", response_class=HTMLResponse)
def fairness(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    """The latest audit with a verdict per attribute (the limits are the code's:
    ``FOUR_FIFTHS`` and ``CALIBRATION_GAP_POINTS``) and charts that carry them."""
    report = reports.read_report(app_state(request).settings, "fairness")
    found = verdicts(report.data) if report is not None else []
    figures = {
        v.attribute: (
            fairness_view.ratio_chart(v, FOUR_FIFTHS, chart_id=f"ratio-{i}"),
            fairness_view.gap_chart(v, CALIBRATION_GAP_POINTS, chart_id=f"gap-{i}")
            if v.gaps
            else None,
        )
        for i, v in enumerate(found)
    }
    return page(
        request,
        "console/fairness.html",
        report=report,
        verdicts=found,
        figures=figures,
        four_fifths=FOUR_FIFTHS,
        gap_limit=CALIBRATION_GAP_POINTS,
    )


@router.get("/map", response_class=HTMLResponse)
def city_map(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    settings = app_state(request).settings
    report = reports.read_report(settings, "map")
    cities = reports.city_rows(settings, report) if report else []
    return page(
        request,
        "console/map.html",
        report=report,
        shown=[c for c in cities if c.get("published")],
        hidden=sum(1 for c in cities if not c.get("published")),
    )


@router.get("/reports/model-card/{file}")
def model_card_file(request: Request, operator: ConsoleOperator, file: str) -> FileResponse:
    path = reports.model_card_file(app_state(request).settings, file)
    if path is None:
        raise NotFound("file not found")
    return FileResponse(path, media_type=_MEDIA[path.suffix[1:]], headers=_FILE_HEADERS)


@router.get("/reports/{kind}/{name}/{file}")
def report_file(
    request: Request, operator: ConsoleOperator, kind: str, name: str, file: str
) -> FileResponse:
    path = reports.report_file(app_state(request).settings, kind, name, file)
    if path is None:
        raise NotFound("file not found")
    return FileResponse(path, media_type=_MEDIA[path.suffix[1:]], headers=_FILE_HEADERS)


@router.get("/ingestion", response_class=HTMLResponse)
def ingestion(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    state = app_state(request)
    runs = operations.list_ingestion_runs(state, limit=100).items
    return page(
        request,
        "console/ingestion.html",
        runs=runs,
        batches=reports.runs_on_disk(state.settings),
    )


@router.get("/ingestion/{run_id}/rejections", response_class=HTMLResponse)
def rejections(request: Request, operator: ConsoleOperator, run_id: str) -> HTMLResponse:
    state = app_state(request)
    registry_path = None
    if len(run_id) == 32:
        with state.read() as conn:
            try:
                registry_path = registry.get_ingestion_run(conn, run_id).report_path
            except NotFound:
                registry_path = None
    found = reports.rejection_report(state.settings, run_id, registry_path)
    if found is None:
        raise NotFound("no rejection report for this run")
    _, rows, total = found
    return page(request, "console/rejections.html", run_id=run_id, rows=rows, total=total)


#: audit entries per page of the console's browser
AUDIT_PAGE = 50
#: signed tree heads listed (newest first)
HEADS_SHOWN = 20


def audit_page(
    request: Request,
    *,
    before: str = "",
    action: str = "",
    signed: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The audit page: the check recomputed now, explained; entries newest first, paged
    by ``before`` (a sequence number) and filtered by ``action``; the signed tree heads."""
    state = app_state(request)
    result = operations.verify_audit(state)
    notices: list[str] = []
    cursor: int | None = None
    if before:
        if before.isdigit() and len(before) < 19:
            cursor = int(before)
        else:
            notices.append(
                f"“{before[:30]}” is not an entry number (parameter before): showing the newest."
            )
    chosen: str | None = action or None
    with state.read() as conn:
        counts = registry.audit.action_counts(conn)
        if chosen is not None and chosen not in counts:
            notices.append(
                f"No entries with the action “{action[:64]}” (parameter action): showing all."
            )
            chosen = None
        entries = registry.audit.recent_entries(
            conn, before=cursor, action=chosen, limit=AUDIT_PAGE + 1
        )
        heads = list(reversed(registry.audit.tree_heads(conn)))
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    rows = []
    for e in entries:
        content = e.content
        rows.append(
            {
                "seq": e.seq,
                "at": e.at,
                "action": e.action,
                "actor": content.get("actor", "–"),
                "subject": content.get("subject"),
                "details": content.get("details") or {},
                "refs": sorted((content.get("refs") or {}).keys()),
            }
        )
    return page(
        request,
        "console/audit.html",
        status=status,
        result=result,
        notices=notices,
        rows=rows,
        counts=counts,
        action=chosen,
        before=cursor,
        older=entries[-1].seq if more and entries else None,
        total=sum(counts.values()) if chosen is None else counts[chosen],
        heads=heads[:HEADS_SHOWN],
        heads_total=len(heads),
        signed=int(signed)
        if signed.isdigit() and any(str(h.tree_size) == signed for h in heads)
        else None,
        page_size=AUDIT_PAGE,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    operator: ConsoleOperator,
    before: str = "",
    action: str = "",
    signed: str = "",
) -> HTMLResponse:
    return audit_page(request, before=before, action=action, signed=signed)
