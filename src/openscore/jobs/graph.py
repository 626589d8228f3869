"""Two-stage scoring for the relationships dimension, and the graph snapshot online reads.

The graph needs other people's standing, which is their score without the relationships
dimension; so scoring runs in two stages:

1. **stage 1**: everyone in the ledger is scored with the model *minus* its relationships
   terms (``model/relationships.py``), and each score becomes a standing in [0, 1];
2. **stage 2**: trust is propagated over mutual connections (``features/graph.py``), the
   result joins the feature table and everyone is scored with the full model.

On DuckDB the batch job (``jobs/score.py::features_in_memory``) holds everyone's features
in memory and runs both stages and the propagation on arrays (:func:`graph_of_table`);
:func:`compute_graph` runs stage 1 and the edges as Ibis queries (Spark, training), and
the rounds on arrays too unless the graph is larger than :data:`DRIVER_ROUNDS_MAX`.

The stage-2 graph features are stored under the data directory
(``graph/network.parquet``, one row per person with a value above 0, the as-of date,
model and parameters in the file's metadata) for the online path: one person's
``network_trust`` is looked up there, so it is as fresh as the last batch run. Their own
revocation of ``social`` takes effect at once nonetheless (the person's relationship
events are purged, and ``build_features`` keeps the feature missing for anyone who does
not share ``social``); what their *connections* did since (new ties, revocations, better
or worse standing) waits for the next batch. A snapshot older than :data:`MAX_AGE_DAYS`
before the scoring date, or later than it, is not used: the feature is then missing
(neutral) for everyone online.

The scorecard file has no field for "this term may only raise a score", so the rule is
checked on every card whose terms use the graph
(:func:`openscore.model.relationships.check_relationships_rule`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.engines.base import Engine
from openscore.features import build_features
from openscore.features.frame import AsOf, as_of_view
from openscore.features.graph import (
    GRAPH_FEATURES,
    GraphParams,
    graph_people,
    ledger_edges,
    mutual_edges,
    propagate,
    propagate_arrays,
    relationship_edges,
    weighted_edges,
)
from openscore.fsio import atomic_path
from openscore.ledger import Ledger
from openscore.model.format import Scorecard
from openscore.model.relationships import graph_params_of, stage_one_card
from openscore.scoring import score_table
from openscore.scoring.kernel import ScoringKernel

#: where the snapshot lives, under the data directory (beside ``ledger/``)
GRAPH_DIR = "graph"
SNAPSHOT_FILE = "network.parquet"
#: a snapshot this many days older than the scoring date is too stale to use
MAX_AGE_DAYS = 31
#: Parquet row groups small enough that one person's row is found by statistics
ROW_GROUP_ROWS = 65_536
_META_KEY = b"openscore.graph"
GRAPH_SCHEMA = pa.schema([("person_id", pa.string()), ("network_trust", pa.float64())])


# -- the model side: openscore.model.relationships ---------------------------------------


def stage_one_scores(
    events: ir.Table, card: Scorecard, as_of: date, features: ir.Table | None = None
) -> ir.Table:
    """``person_id, score`` of everyone in the ledger with :func:`stage_one_card`.

    ``features``: everyone's feature table already computed (e.g. materialised by the
    batch job, which scores stage 2 from it too); by default built from ``events``.
    """
    base = stage_one_card(card)
    if features is None:
        features = build_features(events, as_of)
    scores = score_table(base, features, "person_id", texts=False)
    return scores.select("person_id", "score")


def compute_graph(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    params: GraphParams | None = None,
    *,
    store: bool = True,
    events: ir.Table | None = None,
    features: ir.Table | None = None,
) -> ir.Table:
    """Run stages 1 and the propagation; store the snapshot; return it as a table.

    ``store`` writes ``graph/network.parquet`` beside the ledger unless a snapshot as of
    a later date is already there (a back-dated run never replaces a newer one).
    ``events``: the ledger table already opened by the caller (one ledger snapshot for
    both stages); by default the ledger's current segments. ``features``: everyone's
    feature table from those events, already materialised (stage 1 is scored from it
    instead of computing the features again).
    """
    params = params or graph_params_of(card)
    if events is None:
        events = engine.ledger(ledger.snapshot().paths)
    # Stage 1 and the edges are materialised (a temp table on DuckDB, a cached DataFrame
    # on Spark) before the rounds, which read each several times: as one expression,
    # Spark inlines the whole feature and scoring plan into every round and its planner
    # takes minutes on a few dozen people.
    a = AsOf(as_of)
    ev = as_of_view(events, a)
    people = graph_people(ev, a, stage_one_scores(events, card, as_of, features), params)
    people = people.cache()
    edges = mutual_edges(relationship_edges(ev)).cache()
    try:
        n_people = int(people.count().execute())
        n_edges = int(edges.count().execute())
        if max(n_people, n_edges) <= DRIVER_ROUNDS_MAX:
            table = _rounds_here(engine, people, weighted_edges(edges, a, params), params)
        else:
            frame = engine.to_pandas(propagate(edges, people, a, params))
            table = pa.Table.from_pandas(frame, preserve_index=False)
    finally:
        people.release()
        edges.release()
    table = _stored_rows(table.select(list(GRAPH_SCHEMA.names)).cast(GRAPH_SCHEMA))
    if store:
        _store(ledger, card, as_of, params, table, people_scored=n_people)
    return engine.table(table, f"graph_{uuid.uuid4().hex[:12]}")


#: up to this many people and mutual edges, :func:`compute_graph` runs the rounds here,
#: on arrays (a few hundred MB at most), beyond it as the engine's queries. On Spark the
#: rounds as queries are eight joins and aggregations deep, about 55 jobs: 16 s at 100,000
#: people in local mode, where fetching the graph and the arrays take 0.8 s.
DRIVER_ROUNDS_MAX = 10_000_000


def _rounds_here(
    engine: Engine, people: ir.Table, weighted: ir.Table, params: GraphParams
) -> pa.Table:
    """``person_id, network_trust`` of everyone in ``people`` (``person_id, standing,
    vouches``) over ``weighted`` edges (``a, b, w``), the rounds on arrays in this
    process: :func:`propagate`'s result to the last bit (``propagate_arrays``)."""
    got = engine.con.to_pyarrow(people.select("person_id", "standing", "vouches"))
    ids = got["person_id"].combine_chunks() if got.num_rows else pa.array([], pa.string())
    standing = got["standing"].fill_null(0.0).to_numpy().astype(np.float64)
    vouches = got["vouches"].fill_null(False).to_numpy()
    edges = engine.con.to_pyarrow(weighted.select("a", "b", "w"))
    trust = _trust(ids, standing, vouches, edges, params)
    return pa.table({"person_id": ids, "network_trust": trust})


def _trust(
    ids: pa.Array,
    standing: npt.NDArray[np.float64],
    vouches: npt.NDArray[np.bool_],
    edges: pa.Table,
    params: GraphParams,
) -> npt.NDArray[np.float64]:
    """``network_trust`` of the people ``ids`` over ``edges`` (``a, b, w``, by id; an edge
    to anyone not among ``ids`` carries nothing, as in :func:`propagate`)."""
    ends = [pc.index_in(edges[side].cast(ids.type), value_set=ids) for side in ("a", "b")]
    inside = pc.and_(ends[0].is_valid(), ends[1].is_valid())
    i, j = (pc.filter(e, inside).to_numpy().astype(np.int64) for e in ends)
    w = pc.filter(edges["w"], inside).to_numpy().astype(np.float64)
    return propagate_arrays(len(ids), i, j, w, standing, vouches, params)


#: rows per batch of stage 1 scored by the kernel in :func:`graph_of_table`
STAGE_ONE_ROWS = 122_880


def graph_of_table(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    features: pa.Table,
    params: GraphParams | None = None,
    *,
    store: bool = True,
    events: ir.Table | None = None,
    latest: datetime | None = None,
    threads: int = 1,
) -> dict[str, npt.NDArray[np.float64]]:
    """:func:`compute_graph` over everyone's features held in memory (the DuckDB batch job).

    ``features``: one row per person in the ledger, as
    ``build_features(events, as_of, shared_flags=True, vouchers=params)`` gives them (an
    Arrow table: the features, the sharing flags and ``vouches``). Stage 1 is scored from
    it by the kernel (``texts=False``, the scores of :func:`stage_one_scores`), the edges
    are read by one query (``features.graph.ledger_edges``, weighted on the engine by the
    same expression as :func:`propagate`'s), and the rounds run on arrays
    (``features.graph.propagate_arrays``: the same operations, each person's sum of
    fixed-point integers, so the values are :func:`propagate`'s to the last bit). The
    snapshot is stored as by :func:`compute_graph`. ``events`` and ``latest``: the
    ledger's table and its latest event time, if the caller has them (``as_of_view``).

    Returns each graph feature for every row of ``features``, NaN where the snapshot
    holds no row (no value above 0): what :func:`openscore.features.build.with_graph_arrays`
    takes.
    """
    params = params or graph_params_of(card)
    if events is None:
        events = engine.ledger(ledger.snapshot().paths)
    n = features.num_rows
    kernel = ScoringKernel(stage_one_card(card), "person_id", texts=False)
    kernel.check(features.column_names)
    batches = features.select(kernel.inputs).to_batches(max_chunksize=STAGE_ONE_ROWS)
    scored = [b.column("score") for b in kernel.score_batches(batches, threads=threads)]
    score = pa.chunked_array(scored, pa.int64())
    standing = np.zeros(n, dtype=np.float64)
    if n:
        known = score.is_valid().to_numpy()
        value = score.fill_null(0).to_numpy().astype(np.float64)
        span = params.full_score - params.neutral_score  # as features.graph.standing_of
        s = (value[known] - params.neutral_score) / span
        standing[known] = np.maximum(0.0, np.minimum(1.0, s))
    vouches = features["vouches"].fill_null(False).to_numpy()
    a = AsOf(as_of)
    ev = as_of_view(events, a, latest)
    edges = engine.con.to_pyarrow(weighted_edges(ledger_edges(ev), a, params))
    ids = features["person_id"].combine_chunks() if n else pa.array([], pa.string())
    # both ends of a mutual edge have events, so rows: an edge to no row would carry nothing
    trust = _trust(ids, standing, vouches, edges, params)
    has = trust > 0
    rows = {"person_id": ids.filter(pa.array(has)), "network_trust": trust[has]}
    table = pa.table(rows).cast(GRAPH_SCHEMA)
    if store:
        _store(ledger, card, as_of, params, _stored_rows(table), people_scored=n)
    (name,) = GRAPH_FEATURES
    return {name: np.where(has, trust, np.nan)}


def _stored_rows(table: pa.Table) -> pa.Table:
    """The snapshot's rows: values above 0, by person."""
    return table.filter(pc.greater(table["network_trust"], 0.0)).sort_by("person_id")


def _store(
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    params: GraphParams,
    table: pa.Table,
    *,
    people_scored: int,
) -> None:
    info = {
        "as_of": as_of.isoformat(),
        "model_id": card.model_id,
        "computed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "params": params.to_dict(),
        "people_scored": int(people_scored),
        "people_with_trust": int(table.num_rows),
    }
    write_snapshot(snapshot_path(ledger), table, info)


# -- the snapshot -------------------------------------------------------------------------


def snapshot_path(ledger: Ledger) -> Path:
    """``<data dir>/graph/network.parquet`` for the ledger at ``<data dir>/ledger``."""
    return Path(ledger.root).parent / GRAPH_DIR / SNAPSHOT_FILE


def snapshot_info(path: Path) -> dict[str, Any] | None:
    """The snapshot's metadata (as_of, model_id, computed_at, params, counts), if any."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (FileNotFoundError, OSError):
        return None
    raw = meta.get(_META_KEY)
    return json.loads(raw) if raw else None


def write_snapshot(path: Path, table: pa.Table, info: dict[str, Any]) -> bool:
    """Write atomically (temp file + rename); refuse to replace a later snapshot."""
    current = snapshot_info(path)
    if current and current.get("as_of", "") > info["as_of"]:
        return False
    table = table.replace_schema_metadata({_META_KEY: json.dumps(info, sort_keys=True)})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    return True


def snapshot_for(ledger: Ledger, person_id: str, as_of: date) -> pa.Table | None:
    """One person's stored graph row (0 or 1 rows), or None when no snapshot may be used.

    None: no snapshot, or one as of a date after ``as_of`` (the future) or more than
    :data:`MAX_AGE_DAYS` before it (stale). An empty table: the snapshot holds no value
    for the person (no trusted connection, 0 once ``build_features`` fills it).
    """
    path = snapshot_path(ledger)
    info = snapshot_info(path)
    if info is None:
        return None
    age = (as_of - date.fromisoformat(info["as_of"])).days
    if not 0 <= age <= MAX_AGE_DAYS:
        return None
    try:
        table = pq.read_table(path, filters=[("person_id", "=", person_id)])
    except FileNotFoundError:  # replaced in between: the new one is as good
        return snapshot_for(ledger, person_id, as_of)
    return table.select(list(GRAPH_SCHEMA.names)).cast(GRAPH_SCHEMA)


def forget_person(ledger: Ledger, person_id: str) -> bool:
    """Drop an erased person's row from the snapshot (the next batch would anyway)."""
    path = snapshot_path(ledger)
    info = snapshot_info(path)
    if info is None:
        return False
    table = pq.read_table(path)
    keep = pc.not_equal(table["person_id"], person_id)
    if pc.all(keep).as_py():
        return False
    write_snapshot(path, table.filter(keep).select(list(GRAPH_SCHEMA.names)), info)
    return True


__all__ = [
    "GRAPH_SCHEMA",
    "MAX_AGE_DAYS",
    "compute_graph",
    "forget_person",
    "graph_of_table",
    "snapshot_for",
    "snapshot_info",
    "snapshot_path",
    "write_snapshot",
]
