"""On the Taiwan data: the exported EBM point tables rank people as EBM itself does."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openscore.model import EBMScorecard, Scaling
from openscore.model.apply import clipped_scores
from openscore.model.metrics import auc
from openscore.model.tabular import prepare_tabular, read_table
from openscore.model.training import split_rows


def test_exported_ebm_matches_ebm_auc_on_taiwan_test_split(shared_dir: Path) -> None:
    df = read_table(shared_dir / "datasets/taiwan-default/UCI_Credit_Card.csv")
    data = prepare_tabular(df, "default.payment.next.month", id_column="ID")
    assert {"SEX", "EDUCATION", "MARRIAGE", "AGE"} <= set(data.excluded)
    parts = split_rows(data.y, test_size=0.3, random_state=42)
    tr, te = parts["train"], parts["test"]
    params = {"outer_bags": 2, "interactions": 6, "max_rounds": 2000, "n_jobs": -1}
    model = EBMScorecard(data.meta, scaling=Scaling(), params=params)
    model.fit(data.X.iloc[tr], data.y[tr])

    exported = clipped_scores(model.intercept_points_, model.terms_, data.X.iloc[te], Scaling())
    own = model.decision_function(data.X.iloc[te])
    assert abs(auc(data.y[te], exported) - auc(data.y[te], -own)) < 0.002
    assert np.all((exported >= 350) & (exported <= 950))
