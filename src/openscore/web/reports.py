"""What the console reads besides the registry: the model in service and its validation,
the distribution of published scores (and its drift from validation), ingestion runs on
disk, and the reports other jobs publish — the fairness audit and the DP city map.

Published reports live in ``DATA_DIR/reports/<kind>/<timestamp>/`` with a ``latest``
file naming the current one (written whole, then pointed at). The console reads whatever
the latest one holds and shows what it finds: a report that lacks a file, or has one more,
still shows; none at all shows the place where it will appear.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from markupsafe import Markup, escape

from openscore.api.state import AppState
from openscore.config import Settings
from openscore.domain.bands import BANDS, SCORE_MAX, SCORE_MIN, band_of
from openscore.model.metrics import psi_from_counts
from openscore.registry.metadata import published_scores

REPORT_KINDS = ("fairness", "map")
REPORT_NAME = re.compile(r"^\d{8}T\d{6}Z(-[0-9a-f]{4})?$")
REPORT_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(svg|png|csv|json|md)$")
RUN_ID = re.compile(r"^(\d{8}T\d{6}-[0-9a-f]{8}|[0-9a-f]{32})$")
#: Score bins of the console's histograms (the model card's edges, 25 points wide).
BIN_WIDTH = 25
#: Rows of a rejection report shown on a page (the file has them all).
REJECTIONS_SHOWN = 500


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- published reports ---------------------------------------------------------------------


def latest_dir(settings: Settings, kind: str) -> Path | None:
    """The directory the kind's ``latest`` pointer names, or None (never outside it)."""
    if kind not in REPORT_KINDS:
        return None
    root = settings.data_dir / "reports" / kind
    try:
        name = (root / "latest").read_text().strip()
    except OSError:
        return None
    if not REPORT_NAME.match(name):
        return None
    target = root / name
    return target if target.is_dir() else None


def report_file(settings: Settings, kind: str, name: str, file: str) -> Path | None:
    """A file of a published report, if the names are well-formed and it exists."""
    if kind not in REPORT_KINDS or not REPORT_NAME.match(name) or not REPORT_FILE.match(file):
        return None
    path = settings.data_dir / "reports" / kind / name / file
    return path if path.is_file() else None


def model_card_file(settings: Settings, file: str) -> Path | None:
    if not REPORT_FILE.match(file):
        return None
    path = settings.data_dir / "reports" / "model-card" / file
    return path if path.is_file() else None


@dataclass
class Report:
    """A published report as the console shows it."""

    kind: str
    name: str
    data: dict[str, Any]
    files: list[str]
    #: (title, file name) of each figure, SVG preferred
    figures: list[tuple[str, str]] = field(default_factory=list)
    html: Markup | None = None

    #: where its files are served: the console's (operators) unless set (the public map)
    public_base: str | None = None

    @property
    def base(self) -> str:
        return self.public_base or f"/console/reports/{self.kind}/{self.name}"


def _figures(directory: Path, files: list[str], declared: Any) -> list[tuple[str, str]]:
    figures: list[tuple[str, str]] = []
    if isinstance(declared, dict):
        for name, formats in declared.items():
            if isinstance(formats, dict):
                chosen = formats.get("svg") or formats.get("png")
                if isinstance(chosen, str) and chosen in files:
                    figures.append((str(name).replace("_", " "), chosen))
    if not figures:
        figures = [(Path(f).stem.replace("_", " "), f) for f in files if f.endswith(".svg")]
    return figures


def read_report(settings: Settings, kind: str) -> Report | None:
    directory = latest_dir(settings, kind)
    if directory is None:
        return None
    files = sorted(p.name for p in directory.iterdir() if p.is_file() and REPORT_FILE.match(p.name))
    main = "fairness.json" if kind == "fairness" else "release.json"
    data = _json(directory / main)
    data = data if isinstance(data, dict) else {}
    figures = _figures(directory, files, data.get("charts") if kind == "fairness" else None)
    if kind == "map" and not figures and "map.svg" in files:
        figures = [("city map", "map.svg")]
    report = Report(kind, directory.name, data, files, figures)
    markdown = next((f for f in files if f.endswith(".md")), None)
    if markdown:
        report.html = markdown_html((directory / markdown).read_text(encoding="utf-8"))
    return report


#: files of the latest map release anyone may fetch: the map and the noisy table (every
#: figure in them is differentially private; the release description stays with operators)
PUBLIC_MAP_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(svg|png|csv)$")


def public_map_file(settings: Settings, file: str) -> Path | None:
    """A file of the latest published city map that the public page may serve."""
    directory = latest_dir(settings, "map")
    if directory is None or not PUBLIC_MAP_FILE.match(file):
        return None
    path = directory / file
    return path if path.is_file() else None


def read_public_map(settings: Settings) -> Report | None:
    """The latest city map as the public page shows it: only its public files, served from
    ``/city-map/files``."""
    report = read_report(settings, "map")
    if report is not None:
        report.public_base = "/city-map/files"
        report.files = [f for f in report.files if PUBLIC_MAP_FILE.match(f)]
    return report


def city_rows(settings: Settings, report: Report) -> list[dict[str, Any]]:
    rows = _json(settings.data_dir / "reports" / "map" / report.name / "cities.json")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def markdown_html(text: str) -> Markup:
    """A report's Markdown as HTML: raw HTML escaped, headings moved under the page's own,
    images left out (the figures are shown on their own), links kept only when they stay
    on this page."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it comes with rich
        return Markup(f"<pre>{escape(text)}</pre>")
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            # The page has its own h1 and h2: the report's headings go below them.
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
        for child in token.children or []:
            if child.type == "image":
                child.type, child.tag, child.children = "text", "", None
                child.content = ""
            elif child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if not href.startswith("#"):
                    child.attrSet("href", "#")
    html = md.renderer.render(tokens, md.options, {})
    # Wide tables scroll inside their box instead of widening the page.
    html = html.replace("<table>", '<div class="table-wrap"><table>').replace(
        "</table>", "</table></div>"
    )
    return Markup(html)


# -- published scores ------------------------------------------------------------------------


@dataclass
class Distribution:
    edges: list[int]
    counts: list[int]
    total: int
    mean: float | None
    bands: list[dict[str, Any]]
    models: dict[str, int]


def published_count(state: AppState) -> int:
    with state.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count(sa.distinct(published_scores.c.person_id))).where(
                    published_scores.c.kind == "published"
                )
            ).scalar_one()
        )


def published_distribution(state: AppState) -> Distribution:
    """Everyone's current published score (the latest row per person), binned in SQL."""
    latest = (
        sa.select(sa.func.max(published_scores.c.id).label("id"))
        .where(published_scores.c.kind == "published")  # history points are not current
        .group_by(published_scores.c.person_id)
        .subquery()
    )
    score_bin = published_scores.c.score // BIN_WIDTH
    query = (
        sa.select(
            score_bin.label("bin"),
            published_scores.c.model_id,
            sa.func.count().label("n"),
            sa.func.sum(published_scores.c.score).label("total"),
        )
        .join(latest, latest.c.id == published_scores.c.id)
        .where(published_scores.c.score.is_not(None))  # unscorable: no number to bin
        .group_by(score_bin, published_scores.c.model_id)
    )
    with state.read() as conn:
        rows = conn.execute(query).all()
    edges = list(range(SCORE_MIN, SCORE_MAX + 1, BIN_WIDTH))
    counts = [0] * (len(edges) - 1)
    models: dict[str, int] = {}
    band_counts = {b.name: 0 for b in BANDS}
    total, points = 0, 0
    for row in rows:
        low = int(row.bin) * BIN_WIDTH
        index = min(max((low - SCORE_MIN) // BIN_WIDTH, 0), len(counts) - 1)
        counts[index] += int(row.n)
        models[row.model_id] = models.get(row.model_id, 0) + int(row.n)
        band_counts[band_of(min(max(low, SCORE_MIN), SCORE_MAX))] += int(row.n)
        total += int(row.n)
        points += int(row.total)
    bands = [
        {
            "band": b.name,
            "low": b.low,
            "high": b.high,
            "people": band_counts[b.name],
            "share": band_counts[b.name] / total if total else None,
        }
        for b in BANDS
    ]
    return Distribution(edges, counts, total, points / total if total else None, bands, models)


def score_drift(metrics: dict[str, Any], current: Distribution) -> float | None:
    """PSI of today's published scores against the validation scores of the model card
    (both on the card's 25-point bins)."""
    dist = metrics.get("score_distribution") or {}
    edges, good, bad = dist.get("edges"), dist.get("good"), dist.get("bad")
    if not (isinstance(edges, list) and isinstance(good, list) and isinstance(bad, list)):
        return None
    if edges != current.edges:
        return None
    expected = [float(g) + float(b) for g, b in zip(good, bad, strict=False)]
    actual = [float(c) for c in current.counts]
    if len(expected) != len(actual) or not sum(expected) or not sum(actual):
        return None
    return psi_from_counts(np.asarray(expected), np.asarray(actual))


# -- ingestion runs on disk ----------------------------------------------------------------------


def runs_on_disk(settings: Settings, limit: int = 100) -> list[dict[str, Any]]:
    """Batch runs (``openscore ingest``) from their ``runs/<id>/summary.json``, newest first."""
    root = settings.runs_dir
    if not root.is_dir():
        return []
    out = []
    for directory in sorted(
        (p for p in root.iterdir() if p.is_dir() and RUN_ID.match(p.name)), reverse=True
    )[:limit]:
        summary = _json(directory / "summary.json")
        if isinstance(summary, dict):
            summary["has_report"] = (directory / "rejections.csv").is_file()
            out.append(summary)
    return out


def rejection_report(
    settings: Settings, run_id: str, registry_path: str | None
) -> tuple[Path, list[dict[str, str]], int] | None:
    """A run's rejection report: the file, its first rows, and how many rows it has.
    Only files inside the data directory are read."""
    if not RUN_ID.match(run_id):
        return None
    candidates = [settings.runs_dir / run_id / "rejections.csv"]
    if registry_path:
        candidates.insert(0, Path(registry_path))
    root = settings.data_dir.resolve()
    for path in candidates:
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if resolved.is_relative_to(root) and resolved.is_file():
            with open(resolved, newline="", encoding="utf-8") as fh:
                rows: list[dict[str, str]] = []
                total = 0
                for row in csv.DictReader(fh):
                    total += 1
                    if len(rows) < REJECTIONS_SHOWN:
                        rows.append(row)
            return resolved, rows, total
    return None
