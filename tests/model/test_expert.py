"""The expert (cold-start) scorecard compiles to the same format with Sesame's weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscore.errors import InputError
from openscore.model import load_expert
from openscore.scoring import score_person

SPEC = """
intercept_points: 550
range_points: 400
features:
  utilisation:
    dimension: credit_history
    monotonic: ascending
    edges: [0.1, 0.3, 0.7]
    values: [1.0, 0.75, 0.4, 0.0]
    reason: Credit used is high compared with your limits
    improve: Keep balances below 30 % of your limits
  on_time_share:
    dimension: behaviour
    monotonic: descending
    edges: [0.8, 0.95]
    values: [0.0, 0.6, 1.0]
  verified_identity:
    dimension: identity
    type: categorical
    groups: [["true"], ["false"]]
    values: [1.0, 0.5]
  mutual_connections:
    dimension: relationships
    edges: [3, 10]
    values: [0.0, 0.5, 1.0]
    neutral: 0.0
"""


@pytest.fixture()
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "expert.yaml"
    p.write_text(SPEC)
    return p


def test_compiles_with_dimension_weights_and_neutral_missing(spec: Path) -> None:
    card = load_expert(spec)
    assert card.method == "expert"
    util = next(t for t in card.terms if t.name == "utilisation")
    # credit history: 35 % of 400 = 140 points for its only feature, neutral at 0.5
    assert util.points == (70, 35, -14, -70, 0)
    assert card.dimensions["credit_history"].min_points == -70
    rel = next(t for t in card.terms if t.name == "mutual_connections")
    assert min(rel.points) == 0  # relationships can only raise a score
    # nobody on file at all is not scored (not an invented 550)
    empty = score_person(card, {})
    assert (empty.status, empty.score) == ("unscorable", None)
    assert empty.intercept_points == 550
    best = score_person(
        card,
        {
            "utilisation": 0.05,
            "on_time_share": 1.0,
            "verified_identity": True,
            "mutual_connections": 20,
        },
    )
    assert best.score == 550 + 70 + 40 + 30 + 20
    assert best.reasons == []


def test_identity_unseen_category_is_neutral(spec: Path) -> None:
    card = load_expert(spec)
    r = score_person(card, {"verified_identity": "maybe"})
    assert r.contributions["verified_identity"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("edges: [3, 10]", "edges: [3]"), "need 2 values"),
        (("dimension: behaviour", "dimension: vibes"), "unknown dimension 'vibes'"),
        (("values: [0.0, 0.6, 1.0]", "values: [0.0, 0.6, 7]"), "0–1 scale"),
    ],
)
def test_bad_expert_files(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(SPEC.replace(*change))
    with pytest.raises(InputError, match=message):
        load_expert(p)
