"""The same trust-propagation expressions on Spark give DuckDB's answers (small graph)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.errors import InputError
from openscore.features.frame import AsOf, as_of_view
from openscore.features.graph import network_features, trust_propagation

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
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-15)
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
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-15)
