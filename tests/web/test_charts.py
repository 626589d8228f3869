"""The server-side SVG charts: well-formed, described in words, no outside reference."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from openscore.web import charts
from openscore.web.vocabulary import DIMENSIONS

DIMS = {
    "credit_history": 80,
    "fulfilment_capacity": 40,
    "behaviour": 100,
    "identity": 0,
    "relationships": 50,
}


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "svg" and root.get("role") == "img"
    labelled = root.get("aria-labelledby", "").split()
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert len(labelled) == 2 and all(i in ids for i in labelled)
    assert ids[labelled[0]].tag == "title" and ids[labelled[0]].text
    assert ids[labelled[1]].tag == "desc" and ids[labelled[1]].text
    assert "http" not in svg and "style=" not in svg  # nothing fetched, nothing inline-styled
    return root


def test_gauge_says_score_and_band() -> None:
    svg = charts.gauge(712, "excellent")
    root = parsed(svg)
    assert root.find("title").text == "Score 712: excellent"
    assert "712" in "".join(t.text or "" for t in root.iter("text"))
    assert "The marker outline shows 650" in charts.gauge(700, "excellent", before=650)
    for score in (350, 950, 300, 1000):  # the ends, and out of range, stay on the dial
        parsed(charts.gauge(score, "poor"))


def test_radar_labels_every_dimension_and_the_comparison() -> None:
    svg = charts.radar(DIMS, DIMENSIONS, compare={k: 50 for k in DIMS})
    root = parsed(svg)
    desc = root.find("desc").text
    for label in DIMENSIONS.values():
        assert label in desc
    assert "Dashed outline" in desc
    assert len(root.findall("polygon")) == 4 + 2  # rings, the comparison, the values


@pytest.mark.parametrize("n", [0, 1, 2, 30])
def test_history_with_any_number_of_points(n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(start + timedelta(days=i), 600 + (i * 7) % 90) for i in range(n)]
    root = parsed(charts.history(points))
    assert len(root.findall("circle")) == n
    if n == 0:
        assert root.find("desc").text == "No published scores yet."


def test_validation_charts() -> None:
    parsed(charts.roc([0, 0.2, 1], [0, 0.7, 1], auc=0.8))
    parsed(charts.roc([], [], auc=None))
    parsed(
        charts.bars(
            ["poor", "fair"],
            {"observed": [0.3, 0.1], "predicted": [0.25, None]},
            title="t",
            desc="d",
            chart_id="b",
            percent=True,
        )
    )
    parsed(
        charts.histogram(
            list(range(350, 951, 25)), {"people": [1] * 24}, title="t", desc="d", chart_id="h"
        )
    )
    parsed(charts.histogram([350, 950], {"people": [0]}, title="t", desc="d", chart_id="e"))
    parsed(
        charts.hbars(
            [("a", 0.3), ("b", 0.01)],
            title="t",
            desc="d",
            chart_id="p",
            thresholds=((0.1, "watch"), (0.25, "shifted")),
        )
    )


def test_text_is_escaped() -> None:
    svg = charts.bars(["<b>&"], {"x<": [1.0]}, title="<t>", desc="&", chart_id="x")
    parsed(svg)
    assert "<b>" not in svg
