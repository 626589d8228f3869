"""Two-stage scoring for the relationships dimension, and the graph snapshot online reads.

The graph needs other people's standing, which is their score without the relationships
dimension; so scoring runs in two stages:

1. **stage 1**: everyone in the ledger is scored with the model *minus* its relationships
   terms (:func:`stage_one_card`), and each score becomes a standing in [0, 1];
2. **stage 2**: trust is propagated over mutual connections (``features/graph.py``), the
   result joins the feature table and everyone is scored with the full model.

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
checked on every card whose terms use the graph (:func:`check_relationships_rule`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.domain import DIMENSION_WEIGHTS, Dimension
from openscore.engines.base import Engine
from openscore.errors import InputError
from openscore.features import build_features
from openscore.features.frame import AsOf, as_of_view
from openscore.features.graph import (
    GRAPH_FEATURES,
    GraphParams,
    graph_people,
    mutual_edges,
    propagate,
    relationship_edges,
)
from openscore.fsio import atomic_path
from openscore.ledger import Ledger
from openscore.model.format import Scaling, Scorecard, dimension_ranges
from openscore.scoring import score_table

#: where the snapshot lives, under the data directory (beside ``ledger/``)
GRAPH_DIR = "graph"
SNAPSHOT_FILE = "network.parquet"
#: a snapshot this many days older than the scoring date is too stale to use
MAX_AGE_DAYS = 31
#: Parquet row groups small enough that one person's row is found by statistics
ROW_GROUP_ROWS = 65_536
_META_KEY = b"openscore.graph"
GRAPH_SCHEMA = pa.schema([("person_id", pa.string()), ("network_trust", pa.float64())])


# -- the model side --------------------------------------------------------------------


def is_graph_term(term: Any) -> bool:
    return term.dimension == Dimension.RELATIONSHIPS.value or any(
        f in GRAPH_FEATURES for f in term.features
    )


def uses_graph(card: Scorecard) -> bool:
    """Whether scoring with ``card`` needs the graph (stage 2)."""
    return any(is_graph_term(t) for t in card.terms)


def stage_one_card(card: Scorecard) -> Scorecard:
    """``card`` without its relationships terms: the score that standing comes from.

    Intercept and every other term are unchanged, so a person's stage-1 score is exactly
    their full score with the relationships points left out.
    """
    terms = tuple(t for t in card.terms if not is_graph_term(t))
    if len(terms) == len(card.terms):
        return card
    used = {f for t in terms for f in t.features}
    return replace(
        card,
        terms=terms,
        features=tuple(f for f in card.features if f.name in used),
        dimensions=dimension_ranges(terms),
    )


def relationships_cap(scaling: Scaling) -> int:
    """The most points relationships may add: their prior weight (5 %) of the scale."""
    weight = DIMENSION_WEIGHTS[Dimension.RELATIONSHIPS]
    return int(round(weight * (scaling.score_max - scaling.score_min)))


def check_relationships_rule(card: Scorecard) -> None:
    """Raise :class:`InputError` unless the card's relationships terms can only raise.

    Every such term is over one feature, has no cell below 0 (the missing cell, which is
    0, is the least) and none above :func:`relationships_cap`; all of its features are
    graph features and vice versa.
    """
    cap = relationships_cap(card.scaling)
    for t in card.terms:
        if not is_graph_term(t):
            continue
        where = f"model {card.model_id}, term {t.name!r}"
        if t.dimension != Dimension.RELATIONSHIPS.value or not all(
            f in GRAPH_FEATURES for f in t.features
        ):
            raise InputError(f"{where}: graph features belong to the relationships dimension")
        if t.is_pair:
            raise InputError(f"{where}: relationships terms are over one feature")
        if min(t.points) < 0:
            raise InputError(
                f"{where}: relationships can only raise a score, but a bin has "
                f"{min(t.points)} points (below the 0 of not sharing)"
            )
        if max(t.points) > cap:
            raise InputError(f"{where}: relationships may add at most {cap} points")


def graph_params_of(card: Scorecard) -> GraphParams:
    """The propagation parameters a card was trained with (defaults otherwise)."""
    stored = (card.training or {}).get("relationships", {}).get("graph")
    return GraphParams(**stored) if stored else GraphParams()


# -- the batch computation ------------------------------------------------------------


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
        people.count().execute()
        edges.count().execute()
        frame = engine.to_pandas(propagate(edges, people, a, params))
    finally:
        people.release()
        edges.release()
    table = pa.Table.from_pandas(frame, preserve_index=False).select(list(GRAPH_SCHEMA.names))
    table = table.cast(GRAPH_SCHEMA)
    table = table.filter(pc.greater(table["network_trust"], 0.0))
    table = table.sort_by("person_id")
    if store:
        info = {
            "as_of": as_of.isoformat(),
            "model_id": card.model_id,
            "computed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "params": params.to_dict(),
            "people_scored": int(len(frame)),
            "people_with_trust": int(table.num_rows),
        }
        write_snapshot(snapshot_path(ledger), table, info)
    return engine.table(table, f"graph_{uuid.uuid4().hex[:12]}")


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
    "check_relationships_rule",
    "compute_graph",
    "forget_person",
    "graph_params_of",
    "relationships_cap",
    "snapshot_for",
    "snapshot_info",
    "snapshot_path",
    "stage_one_card",
    "uses_graph",
    "write_snapshot",
]
