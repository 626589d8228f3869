"""The pipeline benchmark's baseline (one hand-written DuckDB query) computes exactly what
``build_features`` computes (every feature but the graph's): otherwise the benchmark's
ratio compares different work."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.features import build_features
from openscore.ledger import Ledger
from openscore.synth import RunOptions, generate, parse_params

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def ledger_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from pipeline import build_ledger
    finally:
        sys.path.remove(str(BENCHMARKS))
    root = tmp_path_factory.mktemp("baseline")
    generate(
        parse_params(people=600, months=24, seed=5, as_of=AS_OF),
        root / "world",
        RunOptions(workers=1),
    )
    build_ledger(root / "world", root / "data")
    return [str(p) for p in Ledger(root / "data" / "ledger").snapshot().paths]


def test_handwritten_sql_equals_build_features(ledger_paths: list[str]) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from handwritten_features import handwritten_sql
    finally:
        sys.path.remove(str(BENCHMARKS))
    sql = handwritten_sql(AS_OF)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({ledger_paths!r})")
    hand = con.execute(sql).df().set_index("person_id").sort_index()

    engine = DuckDBEngine()
    try:
        ours = engine.to_pandas(build_features(engine.ledger(ledger_paths), AS_OF))
    finally:
        engine.close()
    ours = ours.set_index("person_id").sort_index()

    assert list(hand.index) == list(ours.index)
    # the graph feature needs a graph run; the baseline leaves it out (and only it: the
    # benchmark's ratio compares the same work)
    not_in_baseline = {"network_trust"}
    assert set(ours.columns) - set(hand.columns) == not_in_baseline
    assert ours["network_trust"].isna().all()
    for column in hand.columns:
        a = pd.to_numeric(hand[column]).to_numpy(dtype=float)
        b = ours[column].to_numpy(dtype=float)
        same = (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 1e-9)
        assert same.all(), (column, a[~same][:5], b[~same][:5])
        assert np.isfinite(b).any(), f"{column} is never computed in this world"
