"""The scorecard file: round trip, schema version, checksum, the rules the loader checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from openscore.errors import InputError, SchemaVersionError
from openscore.model.format import (
    CategoricalBinning,
    Feature,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
)


def small_card(**kw) -> Scorecard:
    num = NumericBinning((0.1, 0.3, 0.7))
    cat = CategoricalBinning((("own",), ("rent", "free")))
    terms = [
        Term(
            "utilisation",
            ("utilisation",),
            "credit_history",
            (num,),
            (18, 9, -4, -21, 0),
            tuple(num.labels()),
            "Credit used is high",
            "Keep balances below 30 %",
        ),
        Term(
            "housing",
            ("housing",),
            "identity",
            (cat,),
            (5, -3, 0, 0),
            tuple(cat.labels()),
            "Housing",
            "Own",
        ),
    ]
    features = [
        Feature("utilisation", "credit_history", "numeric", monotonic="ascending"),
        Feature("housing", "identity", "categorical"),
    ]
    return build_scorecard(
        method="scorecard",
        scaling=Scaling(),
        intercept_points=560,
        features=features,
        terms=terms,
        **kw,
    )


def test_round_trip(tmp_path: Path) -> None:
    card = small_card(metrics={"test": {"auc": float("nan")}})
    path = card.save(tmp_path / "m.json")
    again = Scorecard.load(path)
    assert again.to_dict() == card.to_dict()
    data = json.loads(path.read_text())
    assert data["schema"] == "openscore.scorecard" and data["schema_version"] == 1
    assert data["metrics"]["test"]["auc"] is None  # NaN is not JSON
    assert re.fullmatch(r"scorecard-\d{14}-[0-9a-f]{8}", data["model_id"])
    assert data["dimensions"]["credit_history"] == {
        "min_points": -21,
        "max_points": 18,
        "weight": round(39 / 47, 4),
    }


def test_binning_indices_follow_the_format() -> None:
    b = NumericBinning((0.1, 0.3, 0.7))
    assert [b.index(v) for v in (-1, 0.1, 0.2999, 0.3, 0.7, 9, None, float("nan"))] == [
        0,
        1,
        1,
        2,
        3,
        3,
        4,
        4,
    ]
    c = CategoricalBinning((("own",), ("rent", "free")))
    assert [c.index(v) for v in ("own", "free", None, "boat")] == [0, 1, 2, 3]


def _tampered(tmp_path: Path, change) -> Path:
    path = small_card().save(tmp_path / "m.json")
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = _tampered(tmp_path, lambda d: d.update(schema_version=2))
    with pytest.raises(SchemaVersionError, match="schema_version 2 is not supported"):
        Scorecard.load(path)


def test_tampered_points_are_refused(tmp_path: Path) -> None:
    path = _tampered(tmp_path, lambda d: d["terms"][0]["points"].__setitem__(0, 99))
    with pytest.raises(SchemaVersionError, match="checksum does not match"):
        Scorecard.load(path)


def test_not_a_scorecard(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    with pytest.raises(SchemaVersionError, match="not an openscore scorecard"):
        Scorecard.load(p)
    p.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        Scorecard.load(p)


def test_missing_must_be_neutral(tmp_path: Path) -> None:
    num = NumericBinning((1.0,))
    with pytest.raises(InputError, match="missing is neutral"):
        build_scorecard(
            method="expert",
            scaling=Scaling(),
            intercept_points=600,
            features=[Feature("x", "behaviour")],
            terms=[Term("x", ("x",), "behaviour", (num,), (1, 2, 5))],
        )


def test_interactions_stay_within_a_dimension() -> None:
    a, b = NumericBinning((1.0,)), NumericBinning((2.0,))
    grid = ((1, 2, 0), (3, 4, 0), (0, 0, 0))
    with pytest.raises(InputError, match="interactions stay within one dimension"):
        build_scorecard(
            method="ebm",
            scaling=Scaling(),
            intercept_points=600,
            features=[Feature("a", "behaviour"), Feature("b", "identity")],
            terms=[Term("a x b", ("a", "b"), "behaviour", (a, b), grid)],
        )


def test_points_must_be_integers() -> None:
    num = NumericBinning((1.0,))
    with pytest.raises(InputError, match="integers"):
        build_scorecard(
            method="expert",
            scaling=Scaling(),
            intercept_points=600,
            features=[Feature("x", "behaviour")],
            terms=[Term("x", ("x",), "behaviour", (num,), (1.5, 2, 0))],
        )


def test_invalid_model_is_not_written(tmp_path: Path) -> None:
    from dataclasses import replace

    card = replace(small_card(), intercept_points=1.5)
    with pytest.raises(InputError):
        card.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []
