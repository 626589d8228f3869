"""Charts as inline SVG, drawn by hand on the server: no script, no network, no fonts.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in
words what it shows (screen readers read those), and the pages put the numbers in a
table next to it. Colours come from presentation attributes and the CSS classes in
``static/app.css`` (the pages' Content-Security-Policy refuses inline styles). Band
colours are never the only carrier of meaning: the band is always written too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from markupsafe import Markup, escape

from openscore.domain.bands import BANDS, SCORE_MAX, SCORE_MIN

#: Dark enough for 3:1 against white (WCAG 1.4.11, graphical objects).
BAND_COLOURS: dict[str, str] = {
    "poor": "#b3261e",
    "fair": "#b35400",
    "good": "#8a6d00",
    "very_good": "#3f7d20",
    "excellent": "#1b6e3a",
}
SERIES_COLOURS = ("#1f5fae", "#b35400", "#5b3e96", "#1b6e3a")
INK = "#1d232b"
MUTED = "#5b6570"
GRID = "#d5dae0"


def band_label(band: str) -> str:
    return band.replace("_", " ")


def _f(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(
    chart_id: str, width: float, height: float, title: str, desc: str, *, wide: bool = False
) -> str:
    return (
        f'<svg class="chart{" wide" if wide else ""}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def _text(
    x: float,
    y: float,
    text: object,
    *,
    size: float = 12,
    anchor: str = "start",
    fill: str = INK,
    weight: str | None = None,
    cls: str | None = None,
) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    extra += f' class="{cls}"' if cls else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" text-anchor="{anchor}" '
        f'fill="{fill}"{extra}>{escape(str(text))}</text>'
    )


# -- the score gauge ----------------------------------------------------------------------


def _gauge_point(value: float, cx: float, cy: float, r: float) -> tuple[float, float]:
    share = (min(max(value, SCORE_MIN), SCORE_MAX) - SCORE_MIN) / (SCORE_MAX - SCORE_MIN)
    angle = math.pi * (1 - share)
    return cx + r * math.cos(angle), cy - r * math.sin(angle)


def gauge(score: int, band: str, *, chart_id: str = "gauge", before: int | None = None) -> Markup:
    """The score on a half dial from 350 to 950, coloured by band; ``before`` adds a
    hollow marker where an earlier (or the current, in a what-if) score was."""
    cx, cy, r, width = 160.0, 150.0, 118.0, 24.0  # the dial's centre, radius, thickness
    desc = (
        f"Score {score} of {SCORE_MIN} to {SCORE_MAX}, band {band_label(band)}. Bands: "
        + ", ".join(f"{band_label(b.name)} {b.low} to {b.high}" for b in BANDS)
        + "."
    )
    if before is not None:
        desc += f" The marker outline shows {before} for comparison."
    parts = [_open(chart_id, 320, 186, f"Score {score}: {band_label(band)}", desc)]
    for index, b in enumerate(BANDS):
        high = BANDS[index + 1].low if index + 1 < len(BANDS) else SCORE_MAX
        x1, y1 = _gauge_point(b.low, cx, cy, r)
        x2, y2 = _gauge_point(high, cx, cy, r)
        parts.append(
            f'<path d="M{_f(x1)} {_f(y1)} A{_f(r)} {_f(r)} 0 0 1 {_f(x2)} {_f(y2)}" '
            f'fill="none" stroke="{BAND_COLOURS[b.name]}" stroke-width="{_f(width)}"/>'
        )
    for value in (*(b.low for b in BANDS), SCORE_MAX):
        x1, y1 = _gauge_point(value, cx, cy, r - width / 2)
        x2, y2 = _gauge_point(value, cx, cy, r + width / 2)
        parts.append(
            f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
            'stroke="#ffffff" stroke-width="2"/>'
        )
    for value, anchor in ((SCORE_MIN, "middle"), (SCORE_MAX, "middle")):
        x, y = _gauge_point(value, cx, cy, r)
        parts.append(_text(x, y + 30, value, size=13, anchor=anchor, fill=MUTED))
    if before is not None and before != score:
        x, y = _gauge_point(before, cx, cy, r)
        parts.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="10" fill="#ffffff" stroke="{INK}" '
            'stroke-width="3" stroke-dasharray="4 3"/>'
        )
    x, y = _gauge_point(score, cx, cy, r)
    parts.append(
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="13" fill="#ffffff" stroke="{INK}" stroke-width="4"/>'
    )
    parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="6" fill="{BAND_COLOURS.get(band, INK)}"/>')
    parts.append(_text(cx, cy - 22, score, size=48, anchor="middle", weight="700"))
    parts.append(
        _text(cx, cy + 4, band_label(band), size=17, anchor="middle", fill=INK, weight="600")
    )
    parts.append("</svg>")
    return Markup("".join(parts))


# -- the five dimensions ----------------------------------------------------------------


def radar(
    values: Mapping[str, int | None],
    labels: Mapping[str, str],
    *,
    chart_id: str = "radar",
    compare: Mapping[str, int | None] | None = None,
    compare_label: str = "before",
) -> Markup:
    """The dimension sub-scores (0-100) on a five-spoke radar; ``compare`` draws a second,
    dashed outline (a what-if's "before"). A dimension whose value is None has no data: it
    is drawn at the centre with a hollow point and labelled "no data", never as a number."""
    keys = list(labels)
    known = {k: v for k, v in values.items() if v is not None}
    values = {k: known.get(k, 0) for k in keys}
    if compare is not None:
        compare = {k: compare.get(k) or 0 for k in keys}

    def shown(k: str) -> str:
        return f"{known[k]} / 100" if k in known else "no data"

    cx, cy, r = 230.0, 170.0, 100.0
    n = len(keys)

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * value / 100 * math.cos(angle), cy + r * value / 100 * math.sin(angle)

    described = ", ".join(
        f"{labels[k]} {known[k]} of 100" if k in known else f"{labels[k]} no data" for k in keys
    )
    desc = f"Five dimensions, each 0 to 100: {described}."
    if compare is not None:
        desc += f" Dashed outline ({compare_label}): " + ", ".join(
            f"{labels[k]} {compare.get(k, 0)}" for k in keys
        )
    parts = [_open(chart_id, 460, 330, "Your five dimensions", desc)]
    for level in (25, 50, 75, 100):
        ring = " ".join(f"{_f(x)},{_f(y)}" for x, y in (point(i, level) for i in range(n)))
        parts.append(f'<polygon points="{ring}" fill="none" stroke="{GRID}" stroke-width="1"/>')
    for i in range(n):
        x, y = point(i, 100)
        parts.append(
            f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(x)}" y2="{_f(y)}" stroke="{GRID}"/>'
        )
    if compare is not None:
        shape = " ".join(
            f"{_f(x)},{_f(y)}"
            for x, y in (point(i, compare.get(k) or 0) for i, k in enumerate(keys))
        )
        parts.append(
            f'<polygon points="{shape}" fill="none" stroke="{INK}" stroke-width="2" '
            'stroke-dasharray="6 4"/>'
        )
    shape = " ".join(
        f"{_f(x)},{_f(y)}" for x, y in (point(i, values.get(k) or 0) for i, k in enumerate(keys))
    )
    parts.append(
        f'<polygon points="{shape}" fill="{SERIES_COLOURS[0]}" fill-opacity="0.22" '
        f'stroke="{SERIES_COLOURS[0]}" stroke-width="2.5"/>'
    )
    for i, k in enumerate(keys):
        x, y = point(i, values.get(k) or 0)
        fill = SERIES_COLOURS[0] if k in known else "none"
        parts.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{fill}" stroke="{SERIES_COLOURS[0]}"/>'
        )
        lx, ly = point(i, 122)
        anchor = "middle" if abs(lx - cx) < 20 else ("start" if lx > cx else "end")
        # Long labels take two lines, so that the chart stays narrow enough to read.
        lines = labels[k].split(" ", 1) if len(labels[k]) > 14 else [labels[k]]
        top = (
            ly - 8 - 17 * (len(lines) - 1)
            if ly < cy - r * 0.9
            else (ly + 12 if ly > cy + r * 0.5 else ly - 4 * len(lines))
        )
        for j, line in enumerate(lines):
            parts.append(_text(lx, top + 17 * j, line, size=15, anchor=anchor, weight="600"))
        parts.append(
            _text(
                lx,
                top + 17 * len(lines),
                shown(k),
                size=14,
                anchor=anchor,
                fill=MUTED,
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# -- axes helpers --------------------------------------------------------------------------


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float, ticks: int = 5) -> list[float]:
    step = _nice_step(high - low, ticks)
    first = math.ceil(low / step) * step
    out = []
    value = first
    while value <= high + step * 1e-9:
        out.append(round(value, 10))
        value += step
    return out


def _tick_label(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value * 100:.0f} %"
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.2g}"


# -- score history -----------------------------------------------------------------------


def history(
    points: Sequence[tuple[datetime, int]],
    *,
    chart_id: str = "history",
    recomputed: Sequence[bool] | None = None,
) -> Markup:
    """Scores over time (oldest to newest), with the band boundaries. ``recomputed``
    (one flag per point) draws the points computed later with today's model hollow, with
    a legend that says so."""
    width, height = 900.0, 240.0
    left, right, top, bottom = 52.0, 16.0, 16.0, 40.0
    flags = list(recomputed) if recomputed is not None else [False] * len(points)
    order = sorted(range(len(points)), key=lambda i: points[i][0])
    pts = [points[i] for i in order]
    hollow = [flags[i] for i in order]
    if any(hollow):
        top = 34.0
    scores = [s for _, s in pts]
    low = max(SCORE_MIN, (min(scores) - 40) // 25 * 25) if scores else SCORE_MIN
    high = min(SCORE_MAX, -(-(max(scores) + 40) // 25) * 25) if scores else SCORE_MAX
    if high - low < 100:
        high = min(SCORE_MAX, low + 100)
        low = max(SCORE_MIN, high - 100)
    desc = (
        "Score history, oldest first: "
        + "; ".join(
            f"{t:%d %b %Y}: {s} (recomputed)" if light else f"{t:%d %b %Y %H:%M}: {s}"
            for (t, s), light in zip(pts, hollow, strict=True)
        )
        + "."
        if pts
        else "No published scores yet."
    )
    parts = [_open(chart_id, width, height, "Your score over time", desc, wide=True)]
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    for b in BANDS[1:]:
        if low < b.low < high:
            y = y_of(b.low)
            parts.append(
                f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" '
                f'stroke="{BAND_COLOURS[b.name]}" stroke-dasharray="3 4" stroke-width="1"/>'
            )
            parts.append(
                _text(
                    width - right - 4,
                    y - 4,
                    f"{band_label(b.name)} from {b.low}",
                    size=11,
                    anchor="end",
                    fill=MUTED,
                )
            )
    for tick in _ticks(low, high, 4):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_f(left - 4)}" y1="{_f(y)}" x2="{_f(left)}" y2="{_f(y)}" '
            f'stroke="{MUTED}"/>'
        )
        parts.append(_text(left - 8, y + 4, f"{tick:g}", size=11, anchor="end", fill=MUTED))
    parts.append(
        f'<line x1="{_f(left)}" y1="{_f(top)}" x2="{_f(left)}" y2="{_f(top + plot_h)}" '
        f'stroke="{MUTED}"/><line x1="{_f(left)}" y1="{_f(top + plot_h)}" '
        f'x2="{_f(width - right)}" y2="{_f(top + plot_h)}" stroke="{MUTED}"/>'
    )
    if pts:
        t0, t1 = pts[0][0].timestamp(), pts[-1][0].timestamp()

        def x_of(t: datetime) -> float:
            if t1 == t0:
                return left + plot_w / 2
            return left + 12 + (plot_w - 24) * (t.timestamp() - t0) / (t1 - t0)

        coords = [(x_of(t), y_of(s)) for t, s in pts]
        if len(coords) > 1:
            line = " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{SERIES_COLOURS[0]}" '
                'stroke-width="2.5" stroke-linejoin="round"/>'
            )
        for (t, s), (x, y), light in zip(pts, coords, hollow, strict=True):
            if light:
                parts.append(
                    f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="#ffffff" '
                    f'stroke="{SERIES_COLOURS[0]}" stroke-width="2"><title>'
                    f"{escape(f'{t:%d %b %Y}: {s}, recomputed with today’s model')}"
                    "</title></circle>"
                )
                continue
            parts.append(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4.5" fill="{SERIES_COLOURS[0]}" '
                f'stroke="#ffffff" stroke-width="1.5"><title>{escape(f"{t:%d %b %Y %H:%M}: {s}")}'
                "</title></circle>"
            )
        if any(hollow):
            parts.append(
                f'<circle cx="{_f(left + 6)}" cy="14" r="4.5" fill="{SERIES_COLOURS[0]}"/>'
            )
            parts.append(_text(left + 16, 18, "as published", size=12, fill=MUTED))
            parts.append(
                f'<circle cx="{_f(left + 128)}" cy="14" r="4" fill="#ffffff" '
                f'stroke="{SERIES_COLOURS[0]}" stroke-width="2"/>'
            )
            parts.append(
                _text(
                    left + 138,
                    18,
                    "recomputed later with today’s model, as of each month-end",
                    size=12,
                    fill=MUTED,
                )
            )
        labelled = [0] if len(pts) == 1 else [0, len(pts) - 1]
        # Scores of one day (a change of sources, a dispute) are told apart by the hour.
        stamp = "%d %b %Y, %H:%M" if t1 - t0 < 2 * 86400 and len(pts) > 1 else "%d %b %Y"
        for i in labelled:
            t, s = pts[i]
            x, _ = coords[i]
            anchor = "middle" if len(pts) == 1 else ("start" if i == 0 else "end")
            parts.append(
                _text(x, top + plot_h + 18, f"{t:{stamp}}", size=11, anchor=anchor, fill=MUTED)
            )
        x, y = coords[-1]
        parts.append(
            _text(
                x - 8 if len(pts) > 1 else x + 10,
                y - 10,
                pts[-1][1],
                size=13,
                anchor="end" if len(pts) > 1 else "start",
                weight="700",
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# -- model validation charts ------------------------------------------------------------


def roc(
    fpr: Sequence[float], tpr: Sequence[float], *, auc: float | None, chart_id: str = "roc"
) -> Markup:
    """The ROC curve with the chance diagonal."""
    size, pad = 320.0, 48.0
    inner = size - pad - 16
    auc_text = f"AUC {auc:.3f}" if auc is not None else "AUC unknown"
    parts = [
        _open(
            chart_id,
            size,
            size,
            f"ROC curve (test part), {auc_text}",
            "Share of bads (y) against share of goods (x) below each cut-off; the dashed "
            f"diagonal is a model that guesses. {auc_text}.",
        )
    ]

    def xy(x: float, y: float) -> tuple[float, float]:
        return pad + inner * x, 16 + inner * (1 - y)

    for tick in (0, 0.25, 0.5, 0.75, 1):
        x, y = xy(tick, 0)
        parts.append(
            f'<line x1="{_f(x)}" y1="16" x2="{_f(x)}" y2="{_f(16 + inner)}" stroke="{GRID}"/>'
        )
        parts.append(_text(x, 16 + inner + 16, f"{tick:g}", size=11, anchor="middle", fill=MUTED))
        x, y = xy(0, tick)
        parts.append(
            f'<line x1="{_f(pad)}" y1="{_f(y)}" x2="{_f(pad + inner)}" y2="{_f(y)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(_text(pad - 6, y + 4, f"{tick:g}", size=11, anchor="end", fill=MUTED))
    a, b = xy(0, 0), xy(1, 1)
    parts.append(
        f'<line x1="{_f(a[0])}" y1="{_f(a[1])}" x2="{_f(b[0])}" y2="{_f(b[1])}" '
        f'stroke="{MUTED}" stroke-dasharray="4 4"/>'
    )
    line = " ".join(
        f"{_f(x)},{_f(y)}" for x, y in (xy(p, q) for p, q in zip(fpr, tpr, strict=False))
    )
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{SERIES_COLOURS[0]}" stroke-width="2.5"/>'
    )
    parts.append(
        _text(pad + inner - 4, 16 + inner - 10, auc_text, size=13, anchor="end", weight="700")
    )
    parts.append(
        _text(
            pad + inner / 2,
            size - 4,
            "share of goods below the cut-off",
            size=11,
            anchor="middle",
            fill=MUTED,
        )
    )
    parts.append(
        f'<text x="12" y="{_f(16 + inner / 2)}" font-size="11" text-anchor="middle" '
        f'fill="{MUTED}" transform="rotate(-90 12 {_f(16 + inner / 2)})">share of bads below '
        "the cut-off</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    percent: bool = False,
    y_label: str = "",
) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series, a legend."""
    width, height = 640.0, 280.0
    left, right, top, bottom = 60.0, 16.0, 34.0, 42.0
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max((v for values in series.values() for v in values if v is not None), default=0)
    top_value = top_value * 1.1 or 1.0
    parts = [_open(chart_id, width, height, title, desc, wide=True)]

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    for tick in _ticks(0, top_value, 4):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            _text(left - 6, y + 4, _tick_label(tick, percent), size=11, anchor="end", fill=MUTED)
        )
    if y_label:
        parts.append(_text(left, 14, y_label, size=11, fill=MUTED))
    n_series = max(len(series), 1)
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(36.0, group_w * 0.8 / n_series)
    for ci, category in enumerate(categories):
        gx = left + group_w * ci + (group_w - bar_w * n_series) / 2
        for si, (name, values) in enumerate(series.items()):
            value = values[ci] if ci < len(values) else None
            if value is None:
                continue
            y = y_of(value)
            parts.append(
                f'<rect x="{_f(gx + si * bar_w)}" y="{_f(y)}" width="{_f(bar_w - 2)}" '
                f'height="{_f(top + plot_h - y)}" fill="{SERIES_COLOURS[si % 4]}">'
                f"<title>{escape(f'{category}, {name}: {_tick_label(value, percent)}')}</title>"
                "</rect>"
            )
        parts.append(
            _text(
                left + group_w * (ci + 0.5), top + plot_h + 16, category, size=12, anchor="middle"
            )
        )
    lx = left + plot_w
    for si, name in reversed(list(enumerate(series))):
        lx -= 14 + 7 * len(name) + 18
        parts.append(
            f'<rect x="{_f(lx)}" y="6" width="12" height="12" fill="{SERIES_COLOURS[si % 4]}"/>'
        )
        parts.append(_text(lx + 16, 16, name, size=12))
    parts.append(
        f'<line x1="{_f(left)}" y1="{_f(top + plot_h)}" x2="{_f(width - right)}" '
        f'y2="{_f(top + plot_h)}" stroke="{MUTED}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(
    edges: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    y_label: str = "people",
    percent: bool = False,
) -> Markup:
    """Counts (or shares) per score bin, series overlaid; band boundaries marked."""
    width, height = 640.0, 260.0
    left, right, top, bottom = 60.0, 16.0, 34.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max((v for values in series.values() for v in values), default=0) * 1.1 or 1.0
    lo, hi = edges[0], edges[-1]
    parts = [_open(chart_id, width, height, title, desc, wide=True)]

    def x_of(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    for tick in _ticks(0, top_value, 4):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            _text(left - 6, y + 4, _tick_label(tick, percent), size=11, anchor="end", fill=MUTED)
        )
    parts.append(_text(left, 14, y_label, size=11, fill=MUTED))
    for si, (name, values) in enumerate(series.items()):
        for i, value in enumerate(values):
            if not value:
                continue
            x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
            y = y_of(value)
            label = f"{edges[i]:g}-{edges[i + 1]:g}, {name}: {_tick_label(value, percent)}"
            parts.append(
                f'<rect x="{_f(x0 + 0.5)}" y="{_f(y)}" width="{_f(max(x1 - x0 - 1, 0.5))}" '
                f'height="{_f(top + plot_h - y)}" fill="{SERIES_COLOURS[si % 4]}" '
                f'fill-opacity="{0.85 if len(series) == 1 else 0.55}">'
                f"<title>{escape(label)}</title></rect>"
            )
    for b in BANDS[1:]:
        if lo < b.low < hi:
            x = x_of(b.low)
            parts.append(
                f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + plot_h)}" '
                f'stroke="{BAND_COLOURS[b.name]}" stroke-dasharray="3 3"/>'
            )
    for tick in _ticks(lo, hi, 6):
        x = x_of(tick)
        parts.append(_text(x, top + plot_h + 16, f"{tick:g}", size=11, anchor="middle", fill=MUTED))
    parts.append(
        _text(left + plot_w / 2, height - 4, "score", size=11, anchor="middle", fill=MUTED)
    )
    if len(series) > 1:
        lx = left + plot_w
        for si, name in reversed(list(enumerate(series))):
            lx -= 14 + 7 * len(name) + 18
            parts.append(
                f'<rect x="{_f(lx)}" y="6" width="12" height="12" '
                f'fill="{SERIES_COLOURS[si % 4]}" fill-opacity="0.55"/>'
            )
            parts.append(_text(lx + 16, 16, name, size=12))
    parts.append(
        f'<line x1="{_f(left)}" y1="{_f(top + plot_h)}" x2="{_f(width - right)}" '
        f'y2="{_f(top + plot_h)}" stroke="{MUTED}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    thresholds: Sequence[tuple[float, str]] = (),
) -> Markup:
    """Horizontal bars, one per item (PSI per feature), with labelled reference lines."""
    row, left, right = 22.0, 190.0, 60.0
    top = 20.0 + 14 * len(thresholds)
    width = 640.0
    height = top + row * len(items) + 24
    top_value = max([v for _, v in items] + [t for t, _ in thresholds] + [0.0]) * 1.1 or 1.0
    plot_w = width - left - right
    parts = [_open(chart_id, width, height, title, desc, wide=True)]
    for index, (t, label) in enumerate(thresholds):
        x = left + plot_w * t / top_value
        y = top - 8 - 14 * (len(thresholds) - 1 - index)  # staggered: close lines stay legible
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(y + 2)}" x2="{_f(x)}" '
            f'y2="{_f(top + row * len(items))}" stroke="{MUTED}" stroke-dasharray="3 3"/>'
        )
        parts.append(_text(x + 4, y, label, size=11, anchor="start", fill=MUTED))
    for i, (name, value) in enumerate(items):
        y = top + row * i
        w = plot_w * value / top_value
        colour = (
            SERIES_COLOURS[1] if thresholds and value >= thresholds[-1][0] else SERIES_COLOURS[0]
        )
        parts.append(_text(left - 8, y + 15, name, size=12, anchor="end"))
        parts.append(
            f'<rect x="{_f(left)}" y="{_f(y + 4)}" width="{_f(max(w, 1))}" height="{_f(row - 8)}" '
            f'fill="{colour}"><title>{escape(f"{name}: {value:.3f}")}</title></rect>'
        )
        parts.append(_text(left + w + 6, y + 15, f"{value:.3f}", size=11, fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))
