"""The same trust-propagation expressions on Spark give DuckDB's answers (small graph)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.errors import InputError
from openscore.features.frame import DAYS_PER_MONTH, AsOf, as_of_view
from openscore.features.graph import (
    GraphParams,
    network_features,
    propagate_arrays,
    trust_propagation,
)

from fixtures.data import INPUT_SCHEMA

pytestmark = [pytest.mark.spark]

AS_OF = date(2025, 6, 30)
A = AsOf(AS_OF)
T0 = datetime(2025, 6, 30, 12, tzinfo=UTC)


def small_graph(seed: int = 7, n: int = 60) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    pairs = {tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(4 * n)}
    a, b = zip(*sorted(pairs), strict=True)
    since = [int(A.day - rng.integers(0, 1500)) for _ in a]
    name = [f"p{i:03d}" for i in range(n)]
    edges = pa.table(
        {
            "person_id": [name[i] for i in a] + [name[j] for j in b],
            "counterparty_id": [name[j] for j in b] + [name[i] for i in a],
            "since_day": pa.array(since * 2, pa.int64()),
        }
    )
    people = pa.table(
        {
            "person_id": name,
            "standing": np.where(rng.random(n) < 0.7, rng.random(n), 0.0),
            "vouches": rng.random(n) < 0.7,
        }
    )
    return edges, people


def trust_on(engine: Any, edges: pa.Table, people: pa.Table, *, strict: bool) -> dict:
    expr = trust_propagation(
        engine.table(edges, "g_edges"), engine.table(people, "g_people"), A, strict=strict
    )
    df = engine.to_pandas(expr)
    return dict(zip(df["person_id"], df["network_trust"], strict=True))


def test_propagation_on_spark_equals_duckdb(spark_engine: Any) -> None:
    edges, people = small_graph()
    duck = DuckDBEngine()
    want = trust_on(duck, edges, people, strict=True)
    got = trust_on(spark_engine, edges, people, strict=False)
    assert set(got) == set(want)
    assert sum(v > 0 for v in want.values()) > 10  # the graph carries trust
    assert got == want  # to the last bit: the sums are of fixed-point integers
    # and the batch job's arrays (numpy) give the same
    assert dict(zip(people["person_id"].to_pylist(), arrays(edges, people), strict=True)) == want
    # the checks run on Spark too
    bad = pa.concat_tables([edges, edges.slice(0, 1)])
    with pytest.raises(InputError, match="duplicate edges: 1"):
        trust_on(spark_engine, bad, people, strict=True)


def test_ledger_path_on_spark_equals_duckdb(spark_engine: Any) -> None:
    """Relationship events -> mutual edges, vouchers, propagation: the jobs' path."""
    edges, people = small_graph(seed=3, n=30)
    rows = []
    for r in edges.to_pylist():  # each directed edge is one relationship event
        rows.append(
            {
                "type": "relationship",
                "source": "social",
                "person_id": r["person_id"],
                "counterparty_id": r["counterparty_id"],
                "occurred_at": T0 - timedelta(days=A.day - r["since_day"]),
            }
        )
    for i, p in enumerate(people.to_pylist()):
        days = 30 if i % 4 == 0 else 800  # every fourth person is new
        when = T0 - timedelta(days=days)
        rows.append(
            {
                "type": "profile_fact",
                "source": "profile",
                "person_id": p["person_id"],
                "occurred_at": when,
                "fact": "identity",
                "verified": p["vouches"],
            }
        )
        rows.append(
            {
                "type": "payment",
                "source": "wallet",
                "person_id": p["person_id"],
                "occurred_at": when,
                "channel": "online",
                "amount": 1.0,
                "currency": "CNY",
            }
        )
    full = [
        {**dict.fromkeys(INPUT_SCHEMA.names), **r, "event_id": f"e{k}"} for k, r in enumerate(rows)
    ]
    events = pa.Table.from_pylist(full, schema=INPUT_SCHEMA)
    scores = pa.table(
        {
            "person_id": people["person_id"],
            "score": [600 + 100 * s for s in people["standing"].to_pylist()],
        }
    )

    def run(engine: Any) -> dict:
        ev = as_of_view(engine.table(events, "g_events"), A)
        df = engine.to_pandas(network_features(ev, A, engine.table(scores, "g_scores")))
        return dict(zip(df["person_id"], df["network_trust"], strict=True))

    want, got = run(DuckDBEngine()), run(spark_engine)
    assert sum(v > 0 for v in want.values()) > 5
    assert got == want


def test_a_sum_on_a_bin_edge_is_the_same_on_spark_in_any_order(spark_engine: Any) -> None:
    """Eight ties whose products add up to 3 exactly in real numbers (``network_trust``
    0.6, a bin edge of the expert card), as floats to either side of it by their order:
    Spark, DuckDB and numpy give one value whatever the order of the rows."""
    months = [6, 12, 17, 18, 22, 22, 23, 24]
    name = [f"p{i}" for i in range(9)]  # p8 is the hub: vouches for nobody
    since = [int(A.day - int(m * DAYS_PER_MONTH) - 1) for m in months]
    people = pa.table({"person_id": name, "standing": [1.0] * 9, "vouches": [True] * 8 + [False]})
    got = []
    for order in (list(range(8)), list(range(8))[::-1], [3, 7, 0, 5, 1, 6, 2, 4]):
        edges = pa.table(
            {
                "person_id": [name[k] for k in order] + ["p8"] * 8,
                "counterparty_id": ["p8"] * 8 + [name[k] for k in order],
                "since_day": pa.array([since[k] for k in order] * 2, pa.int64()),
            }
        )
        for engine in (spark_engine, DuckDBEngine()):
            got.append(trust_on(engine, edges, people, strict=True)["p8"])
        got.append(float(arrays(edges, people)[8]))
    assert got == [got[0]] * len(got)


def arrays(edges: pa.Table, people: pa.Table) -> np.ndarray:
    """``propagate_arrays`` over a directed edge list as ``small_graph`` gives it."""
    index = {p: k for k, p in enumerate(people["person_id"].to_pylist())}
    rows = [r for r in edges.to_pylist() if r["person_id"] < r["counterparty_id"]]
    months = np.floor((A.day - np.array([r["since_day"] for r in rows], float)) / DAYS_PER_MONTH)
    p = GraphParams()
    w = np.where(months >= p.min_tenure_months, np.minimum(1.0, months / p.full_tenure_months), 0.0)
    return propagate_arrays(
        people.num_rows,
        np.array([index[r["person_id"]] for r in rows], np.int64),
        np.array([index[r["counterparty_id"]] for r in rows], np.int64),
        w,
        people["standing"].to_numpy(),
        people["vouches"].to_numpy(zero_copy_only=False),
        p,
    )
