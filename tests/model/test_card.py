"""The model card is written from the model file alone and says what it measured."""

from __future__ import annotations

import json
from pathlib import Path

from openscore.model import Scaling, train_model, write_model_card
from openscore.model.tabular import prepare_tabular

from .data import credit_table


def test_card_reports_both_cv_aucs_bands_and_charts(tmp_path: Path) -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    fast = {"outer_bags": 2, "max_rounds": 300, "interactions": 2, "n_jobs": 1}
    card = train_model(
        data.X,
        data.y,
        data.meta,
        "auto",
        cv_folds=2,
        params={"ebm": fast},
        excluded=data.excluded,
        scaling=Scaling(),
    )
    md = write_model_card(card, tmp_path / "card").read_text()
    cv = card.metrics["cv"]
    assert f"{cv['scorecard']['auc_mean']:.4f}" in md and f"{cv['ebm']['auc_mean']:.4f}" in md
    assert "(chosen)" in md
    assert "Bad rate falls band by band" in md
    assert "| SEX | protected attribute (sex/gender) |" in md
    js = json.loads((tmp_path / "card" / "model-card.json").read_text())
    assert js["model_id"] == card.model_id
    assert js["metrics"]["test"]["auc"] == card.metrics["test"]["auc"]
    for chart in ("roc", "score_distribution", "calibration"):
        assert (tmp_path / "card" / f"{chart}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (tmp_path / "card" / f"{chart}.svg").read_bytes()[:500]
