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


FILES = Path(__file__).parent / "files"


@pytest.mark.parametrize("name", ["expert-v1.json", "ebm-pair-v1.json"])
def test_files_written_before_the_declared_format_load_unchanged(name: str) -> None:
    """Files saved by the hand-written parser (kept in tests/model/files) load, and are
    written back byte for byte: the declared models did not change the JSON on disk."""
    path = FILES / name
    card = Scorecard.load(path)
    assert card.to_json() == path.read_text()
    assert card.checksum == json.loads(path.read_text())["checksum"]


def _resealed(tmp_path: Path, change) -> Path:
    """A file changed by ``change`` whose checksum is recomputed: only the rules stop it."""
    from openscore.model.format import checksum_of

    data = json.loads((FILES / "ebm-pair-v1.json").read_text())
    change(data)
    body = {k: v for k, v in data.items() if k != "checksum"}
    data["checksum"] = checksum_of(body)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda d: d["features"][1].update(monotonic="upwards"),
            "features[1].monotonic",
            "'ascending', 'descending' or 'none'",
        ),
        (
            lambda d: d["features"][0].update(dimension="astrology"),
            "features[0].dimension",
            "unknown dimension 'astrology'",
        ),
        (lambda d: d["terms"][1]["points"].__setitem__(1, 7.5), "terms[1].points[1]", "integers"),
        (lambda d: d["terms"][1]["points"].__setitem__(1, True), "terms[1].points[1]", "integers"),
        (
            lambda d: d["terms"][0]["binnings"][0].update(edges=[2.5, 1.0]),
            "terms[0].binnings[0].edges",
            "strictly increasing",
        ),
        (
            lambda d: d["terms"][0]["binnings"][1].update(type="ordinal"),
            "terms[0].binnings[1]",
            "ordinal",
        ),
        (lambda d: d.update(intercept_points="571"), "intercept_points", "integers"),
        (lambda d: d["scaling"].update(score_max=1000), "scaling", "range is 350-950"),
        (lambda d: d["scaling"].update(pdo=0), "scaling.pdo", "greater than 0"),
        (lambda d: d.update(method="magic"), "method", "'scorecard', 'ebm' or 'expert'"),
        (lambda d: d["terms"][0].update(colour="red"), "terms[0].colour", "Extra inputs"),
        (lambda d: d.pop("terms"), "terms", "Field required"),
        (lambda d: d["terms"][1]["points"].append(0), "terms[1]", "3 points expected, got 4"),
        (lambda d: d["terms"][0]["points"][3].__setitem__(0, 4), "terms[0]", "missing is neutral"),
    ],
)
def test_a_broken_rule_is_named_by_its_field(tmp_path: Path, change, field: str, message: str):
    path = _resealed(tmp_path, change)
    with pytest.raises(InputError) as caught:
        Scorecard.load(path)
    assert caught.value.field == field
    assert message in caught.value.reason
    assert str(path) in str(caught.value)


def test_rules_across_fields_name_the_term(tmp_path: Path) -> None:
    path = _resealed(tmp_path, lambda d: d["terms"][1].update(features=["nobody"]))
    with pytest.raises(InputError, match="term 'friends': feature 'nobody' is not among"):
        Scorecard.load(path)
    path = _resealed(tmp_path, lambda d: d["dimensions"]["relationships"].update(max_points=8))
    with pytest.raises(InputError, match="dimension relationships: min/max points"):
        Scorecard.load(path)
