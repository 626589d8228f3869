"""The world carries the intended signal: a plain scorecard gets near 0.8 AUC, the oracle
more."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscore.synth.check import run_check
from openscore.synth.params import parse_params
from openscore.synth.run import generate


@pytest.mark.slow
def test_quick_scorecard_reaches_about_0_8_and_the_oracle_is_the_ceiling(tmp_path: Path) -> None:
    out = tmp_path / "world"
    generate(parse_params(people=16_000, months=24, seed=11), out)
    result = run_check(out)
    assert 0.065 < result["bad_rate"] < 0.095
    assert 0.74 < result["auc_scorecard"] < 0.88
    assert 0.82 < result["auc_oracle"] < 0.93
    assert result["auc_oracle"] > result["auc_scorecard"]
    # Sharing credit history helps; not sharing it still leaves a usable score.
    assert result["auc_scorecard_credit_non_sharers"] > 0.65
