"""Two-stage scoring on a real ledger: batch == one person, relationships only raise,
revoking ``social`` makes them missing at once, the snapshot's freshness rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.config import get_settings
from openscore.engines.duckdb import DuckDBEngine
from openscore.errors import InputError
from openscore.features.expert import expert_scorecard
from openscore.ingest import Ingester, no_consent_check
from openscore.jobs import batch_scores, snapshot_info
from openscore.jobs.graph import MAX_AGE_DAYS, forget_person, snapshot_path
from openscore.ledger import Ledger, purge_source
from openscore.model import Term
from openscore.model.relationships import (
    check_relationships_rule,
    relationships_cap,
    stage_one_card,
)
from openscore.online import person_features, rescore
from openscore.scoring import score_person

from fixtures.data import INPUT_SCHEMA, write_events

AS_OF = date(2025, 6, 30)
T0 = datetime(2025, 6, 30, 12, tzinfo=UTC)
N = 40


def _events(seed: int = 11) -> pa.Table:
    """N people: verified or not, long or short history, paying bills on time or late;
    most share ``social`` with mutual ties, a few one-sided ties, two share nothing."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []

    def add(**kw: object) -> None:
        r = dict.fromkeys(INPUT_SCHEMA.names)
        r.update(kw)
        r["event_id"] = f"t{len(rows):06d}"
        rows.append(r)

    pid = [f"q{i:03d}" for i in range(N)]
    for i, p in enumerate(pid):
        history = 60 if i % 6 == 0 else 900  # every sixth person is new
        add(
            type="profile_fact",
            source="profile",
            person_id=p,
            fact="identity",
            verified=i % 5 != 0,
            occurred_at=T0 - timedelta(days=history),
        )
        add(
            type="profile_fact",
            source="profile",
            person_id=p,
            fact="address",
            verified=True,
            occurred_at=T0 - timedelta(days=int(rng.integers(30, 2000))),
        )
        late = int(rng.integers(0, 4))
        for month in range(min(history // 30, 20)):
            due = (T0 - timedelta(days=30 * month + 5)).date()
            add(
                type="bill_payment",
                source="wallet",
                person_id=p,
                bill_kind="phone",
                occurred_at=T0 - timedelta(days=30 * month + 5),
                due_date=due,
                paid_date=due + timedelta(days=20 if month < late else 0),
                amount_due=50.0,
                amount_paid=50.0,
            )
            add(
                type="payment",
                source="wallet",
                person_id=p,
                channel="online",
                amount=float(rng.integers(20, 400)),
                currency="CNY",
                occurred_at=T0 - timedelta(days=30 * month + 2),
            )
    social = [p for i, p in enumerate(pid) if i not in (1, 2)]  # q001, q002 do not share
    ties = set()
    for p in social:
        for q in rng.choice(social, 3, replace=False):
            if q != p:
                ties.add(tuple(sorted((p, q))))
    for a, b in sorted(ties):
        since = int(rng.integers(30, 1500))
        for x, y in ((a, b), (b, a)):
            add(
                type="relationship",
                source="social",
                person_id=x,
                counterparty_id=y,
                occurred_at=T0 - timedelta(days=since),
            )
    add(
        type="relationship",
        source="social",
        person_id="q003",
        counterparty_id="q001",
        occurred_at=T0 - timedelta(days=700),
    )  # q001 does not share: one-sided
    table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    return table


@pytest.fixture()
def world(data_dir: Path) -> tuple[Ledger, object]:
    settings = get_settings()
    path = write_events(_events(), data_dir.parent / "events.parquet")
    ledger = Ledger.open(settings)
    result = Ingester(ledger, settings=settings, consent_gate=no_consent_check).run(
        [path], "test-furnisher"
    )
    assert result.rejected == 0, result.examples
    return ledger, settings


def _batch(ledger: Ledger, card, as_of: date = AS_OF, *, in_memory: bool = True) -> dict[str, dict]:
    engine = DuckDBEngine()
    try:
        df = engine.to_pandas(batch_scores(engine, ledger, card, as_of, in_memory=in_memory))
    finally:
        engine.close()
    df = df.astype(object).where(df.notna(), None)
    return {r["person_id"]: r for r in df.to_dict("records")}


def _most_trusted(ledger: Ledger) -> str:
    stored = pq.read_table(snapshot_path(ledger)).to_pylist()
    return max(stored, key=lambda r: r["network_trust"])["person_id"]


def test_batch_equals_one_person_and_relationships_only_raise(world) -> None:
    ledger, settings = world
    card = expert_scorecard()
    batch = _batch(ledger, card)
    info = snapshot_info(snapshot_path(ledger))
    assert info["as_of"] == AS_OF.isoformat() and info["model_id"] == card.model_id
    assert info["people_with_trust"] > 5
    cap = max(t.max_points for t in card.terms if t.dimension == "relationships")
    raised = 0
    for pid, row in batch.items():
        result, features = rescore(pid, as_of=AS_OF, card=card, settings=settings)
        assert result.score == row["score"], pid
        assert result.band == row["band"]
        assert result.dimensions == {d: row[f"dim_{d}"] for d in result.dimensions}
        assert [r.code for r in result.reasons] == [
            row[f"reason_{k}"] for k in range(1, 5) if row[f"reason_{k}"] is not None
        ]
        off = score_person(card, {**features, "network_trust": None}, as_of=AS_OF.isoformat())
        gain = result.score - off.score
        assert 0 <= gain <= cap
        assert result.contributions["network_trust"] >= 0
        raised += gain > 0
        if pid in ("q001", "q002"):  # not sharing social: missing, 0 points
            assert features["network_trust"] is None
            assert result.contributions["network_trust"] == 0
    assert raised >= 3


def test_revoking_social_makes_relationships_missing_at_once(world) -> None:
    ledger, settings = world
    card = expert_scorecard()
    _batch(ledger, card)
    pid = _most_trusted(ledger)
    before, features = rescore(pid, as_of=AS_OF, card=card, settings=settings)
    assert features["network_trust"] > 0 and before.contributions["network_trust"] > 0
    purge_source(ledger, pid, "social")  # what a revocation does to the ledger
    after, features = rescore(pid, as_of=AS_OF, card=card, settings=settings)
    assert features["network_trust"] is None  # the snapshot still holds a value: unused
    assert after.contributions["network_trust"] == 0
    assert before.score - card.terms[-1].max_points <= after.score <= before.score
    # the next batch sees the tie as one-sided for the person's connections too
    again = _batch(ledger, card)
    assert again[pid]["score"] == after.score


def test_a_stale_or_future_snapshot_is_not_used(world) -> None:
    ledger, settings = world
    card = expert_scorecard()
    _batch(ledger, card)
    pid = _most_trusted(ledger)
    fresh = AS_OF + timedelta(days=MAX_AGE_DAYS)
    assert person_features(pid, as_of=fresh, settings=settings)["network_trust"] > 0
    for when in (AS_OF + timedelta(days=MAX_AGE_DAYS + 1), AS_OF - timedelta(days=1)):
        assert person_features(pid, as_of=when, settings=settings)["network_trust"] is None
    # a back-dated batch run does not replace the newer snapshot
    _batch(ledger, card, AS_OF - timedelta(days=10))
    assert snapshot_info(snapshot_path(ledger))["as_of"] == AS_OF.isoformat()
    # an erased person's row can be dropped from it
    assert forget_person(ledger, pid)
    assert person_features(pid, as_of=AS_OF, settings=settings)["network_trust"] == 0.0


def test_a_model_whose_relationships_could_lower_a_score_is_refused(world) -> None:
    ledger, _ = world
    card = expert_scorecard()
    rel = card.terms[-1]
    assert rel.dimension == "relationships"
    lowering = replace(rel, points=(-3, *rel.points[1:]))
    with pytest.raises(InputError, match="can only raise a score"):
        check_relationships_rule(replace(card, terms=(*card.terms[:-1], lowering)))
    cap = relationships_cap(card.scaling)
    too_much = replace(rel, points=(0, 0, 0, 0, cap + 1, 0))
    with pytest.raises(InputError, match=f"at most {cap} points"):
        _batch(ledger, replace(card, terms=(*card.terms[:-1], too_much)))


def test_stage_one_is_the_card_without_its_relationships_terms() -> None:
    card = expert_scorecard()
    base = stage_one_card(card)
    assert [t.name for t in base.terms] == [t.name for t in card.terms if t.name != "network_trust"]
    assert base.intercept_points == card.intercept_points
    assert "network_trust" not in base.feature_names
    assert base.dimensions["relationships"].max_points == 0
    assert isinstance(card.terms[-1], Term)


@pytest.mark.spark
def test_two_stage_batch_on_spark_equals_duckdb(world, spark_engine) -> None:
    ledger, _ = world
    card = expert_scorecard()
    want = _batch(ledger, card)
    df = spark_engine.to_pandas(batch_scores(spark_engine, ledger, card, AS_OF, store_graph=False))
    df = df.astype(object).where(df.notna(), None)
    got = {r["person_id"]: r for r in df.to_dict("records")}
    assert got.keys() == want.keys()
    for pid, row in want.items():
        assert got[pid]["score"] == row["score"], pid
        assert got[pid]["dim_relationships"] == row["dim_relationships"], pid
    assert any(r["dim_relationships"] > 0 for r in want.values())


def test_the_materialised_feature_table_gives_the_same_graph_and_features(world) -> None:
    """Batch scoring computes everyone's features once (``shared_flags``), scores stage 1
    from that table and fills in the graph features with ``with_graph``: the graph and
    the stage-2 features must be exactly those of building them from the events."""
    from openscore.features import build_features, with_graph
    from openscore.jobs.graph import compute_graph

    ledger, _ = world
    engine = DuckDBEngine()
    try:
        card = expert_scorecard()
        events = engine.ledger(ledger.snapshot().paths)
        graph = compute_graph(engine, ledger, card, AS_OF, store=False, events=events)
        everyone = build_features(events, AS_OF, shared_flags=True).cache()
        again = compute_graph(
            engine, ledger, card, AS_OF, store=False, events=events, features=everyone
        )
        g1 = engine.to_pandas(graph).sort_values("person_id").reset_index(drop=True)
        g2 = engine.to_pandas(again).sort_values("person_id").reset_index(drop=True)
        assert len(g1) > 0
        assert g1.equals(g2)
        want = engine.to_pandas(build_features(events, AS_OF, None, graph))
        got = engine.to_pandas(with_graph(everyone, graph))
    finally:
        engine.close()
    want = want.sort_values("person_id").reset_index(drop=True)
    got = got.sort_values("person_id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    assert got.equals(want)
    trust = got.set_index("person_id")["network_trust"]
    assert trust.isna().sum() == 2 and (trust > 0).any()  # q001, q002 do not share social


def _graph_both_ways(engine, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """``compute_graph`` with the rounds on arrays here, then as the engine's queries."""
    from openscore.jobs import graph as graph_module

    card = expert_scorecard()
    events = engine.ledger(ledger.snapshot().paths)
    out = []
    for limit in (graph_module.DRIVER_ROUNDS_MAX, 0):
        monkeypatch.setattr(graph_module, "DRIVER_ROUNDS_MAX", limit)
        graph = graph_module.compute_graph(engine, ledger, card, AS_OF, store=False, events=events)
        frame = engine.to_pandas(graph)
        out.append(dict(zip(frame["person_id"], frame["network_trust"], strict=True)))
    return out


def test_the_rounds_here_and_as_queries_give_the_same_graph(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``compute_graph`` runs the rounds on arrays for a graph of up to
    ``DRIVER_ROUNDS_MAX`` people and edges, as the engine's queries beyond: the same
    snapshot to the last bit (on Spark: the test below)."""
    ledger, _ = world
    engine = DuckDBEngine()
    try:
        here, queries = _graph_both_ways(engine, ledger, monkeypatch)
    finally:
        engine.close()
    assert len(here) > 5 and here == queries


@pytest.mark.spark
def test_the_rounds_here_and_as_queries_give_the_same_graph_on_spark(
    world, spark_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, _ = world
    here, queries = _graph_both_ways(spark_engine, ledger, monkeypatch)
    assert len(here) > 5 and here == queries


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "queries"])
def test_the_score_file_is_the_batch_scores_on_two_threads(
    world, tmp_path: Path, in_memory: bool
) -> None:
    """``write_batch_scores`` (what ``openscore score`` runs on DuckDB: the features in
    memory by default, else the feature stream, through the kernel on the engine's threads
    into Parquet) holds exactly the rows of ``batch_scores`` by the queries' path (the
    graph by Ibis queries, what Spark runs), and the engine is usable and closes cleanly
    afterwards."""
    from openscore.jobs import write_batch_scores

    ledger, _ = world
    card = expert_scorecard()
    want = _batch(ledger, card, in_memory=False)
    engine = DuckDBEngine()
    engine.con.con.execute("SET threads = 2")
    try:
        path = tmp_path / "scores.parquet"
        out = write_batch_scores(engine, ledger, card, AS_OF, path, in_memory=in_memory)
        assert engine.con.con.sql("SELECT 1").fetchall() == [(1,)]
    finally:
        engine.close()
    got = {r["person_id"]: r for r in pq.read_table(out).to_pylist()}
    assert len(got) == N
    for pid, row in got.items():
        assert row.pop("as_of") == AS_OF.isoformat()
        w = {k: v for k, v in want[pid].items() if k != "as_of"}
        assert row == w, pid


def test_the_in_memory_batch_features_are_those_of_the_graph_queries(world) -> None:
    """On DuckDB the batch job holds everyone's features in memory (``features_in_memory``:
    one feature query that also takes the voucher rule, stage 1 by the kernel, one query
    for the edges, the rounds on arrays): the features and the snapshot are those of the
    Ibis path (``compute_graph`` and ``build_features(graph=...)``, what Spark runs),
    ``network_trust`` included, to the last bit (its sums are of fixed-point integers)."""
    import pandas as pd

    from openscore.features import build_features
    from openscore.features.frame import AsOf, as_of_view
    from openscore.features.graph import voucher_facts
    from openscore.jobs.graph import compute_graph
    from openscore.jobs.score import features_in_memory
    from openscore.model.relationships import graph_params_of

    ledger, _ = world
    card = expert_scorecard()
    params = graph_params_of(card)
    engine = DuckDBEngine()
    try:
        events = engine.ledger(ledger.snapshot().paths)
        graph = compute_graph(engine, ledger, card, AS_OF, store=False, events=events)
        want_graph = engine.to_pandas(graph)
        want = engine.to_pandas(build_features(events, AS_OF, None, graph))
        facts = engine.to_pandas(
            voucher_facts(as_of_view(events, AsOf(AS_OF)), AsOf(AS_OF), params)
        )
        flags = engine.to_pandas(build_features(events, AS_OF, shared_flags=True, vouchers=params))
        got = features_in_memory(engine, ledger, card, AS_OF).to_pandas()
    finally:
        engine.close()
    vouchers = set(facts.loc[facts["vouches"], "person_id"])
    assert 5 < len(vouchers) < N
    assert set(flags.loc[flags["vouches"], "person_id"]) == vouchers

    want = want.sort_values("person_id").reset_index(drop=True)
    got = got.sort_values("person_id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    trust = got["network_trust"]
    assert trust.isna().sum() == 2 and (trust > 0).sum() > 5  # q001, q002 do not share

    stored = pq.read_table(snapshot_path(ledger)).to_pandas()
    want_graph = want_graph.sort_values("person_id").reset_index(drop=True)
    assert stored["person_id"].tolist() == want_graph["person_id"].tolist()
    assert stored["network_trust"].tolist() == want_graph["network_trust"].tolist()
    info = snapshot_info(snapshot_path(ledger))
    assert info["people_scored"] == len(got) and info["people_with_trust"] == len(stored)
