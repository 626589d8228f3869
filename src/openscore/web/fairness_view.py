"""The fairness page's verdicts and charts: inline SVG drawn to be read at 390 px wide
(a narrow drawing, 13-14 px text, so that scaled to a phone's width the text stays near
its size) as well as on a laptop (the CSS caps the width).

Two charts per attribute, both carrying their limit: the four-fifths ratio at each
product threshold against the line at ``FOUR_FIFTHS``, and each group's calibration gap
in points against ± ``CALIBRATION_GAP_POINTS``. The limits come from
``openscore.fairness`` (the verdict's own), never from the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from openscore.fairness.verdict import Verdict
from openscore.web.charts import GRID, INK, MUTED

PASS_COLOUR, FLAG_COLOUR, NEUTRAL = "#1f5fae", "#b3261e", "#9aa5b1"
WIDTH = 360.0
ROW = 30.0
FONT = 15.0


def _svg_open(chart_id: str, height: float, title: str, desc: str) -> str:
    return (
        f'<svg class="chart readable" viewBox="0 0 {WIDTH:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{FONT:g}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def ratio_chart(verdict: Verdict, four_fifths: float, *, chart_id: str) -> Markup:
    """One bar per threshold: the lowest group's approval over the highest's, 0 to 1,
    with the four-fifths line; bars under it in red."""
    rows: Sequence[tuple[int, float | None]] = verdict.ratios
    left, right, top = 64.0, 44.0, 26.0
    plot = WIDTH - left - right
    height = top + ROW * len(rows) + 8
    desc = (
        f"Four-fifths ratio of {verdict.attribute} per score threshold (limit {four_fifths:g}): "
        + "; ".join(f"≥ {t}: {'none reach it' if r is None else f'{r:.2f}'}" for t, r in rows)
    )
    parts = [_svg_open(chart_id, height, f"{verdict.attribute}: four-fifths ratio", desc)]
    x_limit = left + plot * four_fifths
    parts.append(
        f'<line x1="{x_limit:.1f}" y1="{top - 6:.1f}" x2="{x_limit:.1f}" '
        f'y2="{top + ROW * len(rows):.1f}" stroke="{INK}" stroke-dasharray="4 3"/>'
    )
    parts.append(_text(x_limit, top - 10, f"limit {four_fifths:g}", anchor="middle", fill=MUTED))
    for i, (t, ratio) in enumerate(rows):
        y = top + ROW * i
        parts.append(_text(left - 8, y + 20, f"≥ {t}", anchor="end"))
        parts.append(
            f'<rect x="{left:.1f}" y="{y + 6:.1f}" width="{plot:.1f}" height="{ROW - 12:.1f}" '
            f'fill="none" stroke="{GRID}"/>'
        )
        if ratio is None:
            parts.append(_text(left + 6, y + 20, "nobody reaches it", fill=MUTED))
            continue
        colour = FLAG_COLOUR if ratio < four_fifths else PASS_COLOUR
        parts.append(
            f'<rect x="{left:.1f}" y="{y + 6:.1f}" width="{max(plot * min(ratio, 1), 1):.1f}" '
            f'height="{ROW - 12:.1f}" fill="{colour}"/>'
        )
        parts.append(_text(left + plot + 6, y + 20, f"{ratio:.2f}"))
    parts.append("</svg>")
    return Markup("".join(parts))


def gap_chart(verdict: Verdict, limit: float, *, chart_id: str) -> Markup:
    """One bar per compared group from 0: positive (scores too low) to the right,
    negative (too high) to the left; dashed lines at ± the limit."""
    rows = verdict.gaps
    left, right, top = 118.0, 14.0, 26.0
    plot = WIDTH - left - right
    span = max([abs(g) for _, g in rows if g is not None] + [limit]) * 1.9
    height = top + ROW * len(rows) + 8
    centre = left + plot / 2

    def x_of(points: float) -> float:
        return centre + plot / 2 * points / span

    desc = (
        f"Calibration gap of each {verdict.attribute} group in points (limit ±{limit:g}; "
        "positive: scores too low for the group's repayments): "
        + "; ".join(f"{g}: {'–' if v is None else f'{v:+.1f}'}" for g, v in rows)
    )
    parts = [_svg_open(chart_id, height, f"{verdict.attribute}: calibration gap", desc)]
    for sign in (-1, 1):
        x = x_of(sign * limit)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" y2="{top + ROW * len(rows):.1f}"'
            f' stroke="{INK}" stroke-dasharray="4 3"/>'
        )
        parts.append(_text(x, top - 10, f"{sign * limit:+g}", anchor="middle", fill=MUTED))
    parts.append(
        f'<line x1="{centre:.1f}" y1="{top:.1f}" x2="{centre:.1f}" '
        f'y2="{top + ROW * len(rows):.1f}" stroke="{NEUTRAL}"/>'
    )
    for i, (group, gap) in enumerate(rows):
        y = top + ROW * i
        name = group if len(group) <= 14 else group[:13] + "…"
        parts.append(_text(left - 8, y + 20, name, anchor="end"))
        if gap is None:
            parts.append(_text(centre + 6, y + 20, "too few outcomes", fill=MUTED))
            continue
        x0, x1 = sorted((centre, x_of(gap)))
        colour = FLAG_COLOUR if abs(gap) > limit else PASS_COLOUR
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 6:.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{ROW - 12:.1f}" fill="{colour}">'
            f"<title>{escape(f'{group}: {gap:+.1f} points')}</title></rect>"
        )
        label_x = x1 + 4 if gap >= 0 else x0 - 4
        parts.append(_text(label_x, y + 20, f"{gap:+.1f}", anchor="start" if gap >= 0 else "end"))
    parts.append("</svg>")
    return Markup("".join(parts))
