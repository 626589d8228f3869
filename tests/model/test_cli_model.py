"""``openscore train / score / model show / model export`` end to end on small files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from openscore.model import Scorecard
from openscore.model.tabular import coerce_for_model
from openscore.scoring import score_person

from .data import credit_table
from fixtures.cli import run_cli as run

FAST = ["--method", "scorecard"]


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    path = tmp_path / "credit.csv"
    credit_table(800).to_csv(path, index=False)
    return path


@pytest.fixture()
def model(tmp_path: Path, table: Path, monkeypatch, capsys) -> Path:
    out = tmp_path / "model.json"
    code, text = run(
        monkeypatch,
        capsys,
        "train",
        "--table",
        table,
        "--target",
        "default",
        "--id",
        "customer_id",
        *FAST,
        "--out",
        out,
        "--card",
        tmp_path / "card",
    )
    assert code == 0, text
    return out


def test_train_writes_model_and_card_and_notices(
    tmp_path: Path, table: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "m.json"
    code, text = run(
        monkeypatch,
        capsys,
        "train",
        "--table",
        table,
        "--target",
        "default",
        "--id",
        "customer_id",
        *FAST,
        "--out",
        out,
        "--card",
        tmp_path / "card",
    )
    assert code == 0, text
    assert "SEX not used: protected attribute" in text
    assert "constant (constant: one value (1) on every row, nothing to learn from)" in " ".join(
        text.split()
    )
    # every notice comes before training starts
    assert text.index("dropped automatically") < text.index("test AUC")
    assert "every feature goes to credit_history" in text
    data = json.loads(out.read_text())
    assert data["id_column"] == "customer_id" and data["target"] == "default"
    assert "Unnamed: 0" in data["training"]["excluded"]
    for name in (
        "model-card.md",
        "model-card.json",
        "roc.png",
        "roc.svg",
        "score_distribution.png",
        "calibration.svg",
    ):
        assert (tmp_path / "card" / name).stat().st_size > 0


def test_score_keeps_order_and_ids_and_matches_the_model(
    tmp_path: Path, table: Path, model: Path, monkeypatch, capsys
) -> None:
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"scores.{suffix}"
        code, text = run(
            monkeypatch, capsys, "score", "--table", table, "--model", model, "--out", out
        )
        assert code == 0, text
        got = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
        src = pd.read_csv(table)
        assert got["customer_id"].tolist() == src["customer_id"].tolist()
        assert list(got.columns[:3]) == ["customer_id", "score", "band"]
        assert {"dim_credit_history", "reason_1", "reason_1_text", "model_id"} <= set(got)
        assert got["score"].between(350, 950).all()
        card = Scorecard.load(model)
        features = coerce_for_model(src, card.features)
        for i in (0, 1, 7, 42):
            want = score_person(card, features.iloc[i].to_dict())
            assert got["score"].iloc[i] == want.score
            for k, reason in enumerate(want.reasons, start=1):
                assert got[f"reason_{k}"].iloc[i] == reason.code
                assert got[f"reason_{k}_text"].iloc[i] == reason.text
                assert got[f"reason_{k}_improve"].iloc[i] == reason.improve


def test_score_names_the_missing_columns_and_ignores_extra(
    tmp_path: Path, table: Path, model: Path, monkeypatch, capsys
) -> None:
    df = pd.read_csv(table).drop(columns=["late_payments", "housing"])
    df["extra"] = 1
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    out = tmp_path / "scores.csv"
    code, text = run(monkeypatch, capsys, "score", "--table", bad, "--model", model, "--out", out)
    assert code == 2
    assert "lacks columns the model needs: late_payments, housing" in text
    assert not out.exists()


def test_tampered_model_is_refused(
    tmp_path: Path, table: Path, model: Path, monkeypatch, capsys
) -> None:
    data = json.loads(model.read_text())
    data["intercept_points"] += 1
    model.write_text(json.dumps(data))
    code, text = run(
        monkeypatch,
        capsys,
        "score",
        "--table",
        table,
        "--model",
        model,
        "--out",
        tmp_path / "s.csv",
    )
    assert code == 2 and "checksum does not match" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "target column 'nope' is not in the table"),
        (["--target", "housing"], "target must be binary; it has 3 distinct values"),
        (["--target", "constant"], "one class only"),
        (["--target", "default", "--dimensions", "MAP"], "lacks: not_a_column"),
        (["--target", "default", "--dimensions", "PROTECTED"], "never model inputs: SEX"),
        (["--target", "default"], "column 'customer_id' looks like an id"),
        (
            ["--target", "default", "--id", "customer_id", "--dimensions", "CONSTANT"],
            "names column 'constant', which has one value (1) on every row",
        ),
        (
            ["--target", "default", "--id", "customer_id", "--table", "SMALL"],
            "training needs at least 200 goods and 200 bads",
        ),
    ],
)
def test_train_bad_input_writes_nothing(
    tmp_path: Path, table: Path, monkeypatch, capsys, args: list[str], message: str
) -> None:
    (tmp_path / "map.yaml").write_text("credit_history: [late_payments, not_a_column]\n")
    (tmp_path / "prot.yaml").write_text("credit_history: [late_payments, SEX]\n")
    (tmp_path / "const.yaml").write_text("credit_history: [late_payments, constant]\n")
    credit_table(300).to_csv(tmp_path / "small.csv", index=False)
    names = {
        "MAP": "map.yaml",
        "PROTECTED": "prot.yaml",
        "CONSTANT": "const.yaml",
        "SMALL": "small.csv",
    }
    args = [str(tmp_path / names[a]) if a in names else a for a in args]
    if "--table" not in args:
        args = ["--table", str(table), *args]
    out = tmp_path / "m.json"
    code, text = run(monkeypatch, capsys, "train", *args, *FAST, "--out", out)
    assert code == 2, text
    assert message in " ".join(text.split())
    assert not out.exists()


def test_audit_only_model_cannot_score(tmp_path: Path, table: Path, monkeypatch, capsys) -> None:
    (tmp_path / "prot.yaml").write_text("credit_history: [late_payments, SEX]\n")
    out = tmp_path / "audit.json"
    code, text = run(
        monkeypatch,
        capsys,
        "train",
        "--table",
        table,
        "--target",
        "default",
        "--dimensions",
        tmp_path / "prot.yaml",
        "--audit-only",
        *FAST,
        "--out",
        out,
    )
    assert code == 0, text
    assert json.loads(out.read_text())["audit_only"] is True
    code, text = run(
        monkeypatch, capsys, "score", "--table", table, "--model", out, "--out", tmp_path / "s.csv"
    )
    assert code == 2 and "audit-only" in text and "cannot be used to score people" in text


def test_model_show_and_sql_export(
    tmp_path: Path, table: Path, model: Path, monkeypatch, capsys
) -> None:
    code, text = run(monkeypatch, capsys, "model", "show", model, "--bins")
    assert code == 0 and "late_payments" in text and "intercept" in text
    sql_path = tmp_path / "score.sql"
    code, text = run(monkeypatch, capsys, "model", "export", "--sql", model, "--out", sql_path)
    assert code == 0, text
    code, _ = run(
        monkeypatch,
        capsys,
        "score",
        "--table",
        table,
        "--model",
        model,
        "--out",
        tmp_path / "s.csv",
    )
    con = duckdb.connect()
    src = pd.read_csv(table)
    src["housing"] = src["housing"].astype(str)
    con.register("src", src)
    con.execute("CREATE TABLE features AS SELECT * FROM src")
    via_sql = con.execute(sql_path.read_text().rstrip().rstrip(";")).df()
    cli = pd.read_csv(tmp_path / "s.csv")
    assert via_sql["score"].tolist() == cli["score"].tolist()
    assert via_sql["reason_1"].fillna("").tolist() == cli["reason_1"].fillna("").tolist()
