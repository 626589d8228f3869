"""One person's features and score, straight from the ledger: the online path.

The person's rows are found through the compacted ledger's person ranges and row-group
statistics, and the *same* Ibis feature expression as the batch path runs over them on
an in-process DuckDB, so a person's online score equals their batch score.

The relationships feature needs everyone's standing, so it is not recomputed here: the
person's row of the last batch graph run (``jobs/graph.py``: ``graph/network.parquet``
under the data directory) goes into the same expression. It is as fresh as that run,
except that a person who no longer shares ``social`` (their relationship events purged)
gets it missing at once; no usable snapshot (none, stale, or dated after the scoring
date) leaves it missing, i.e. neutral.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from openscore.config import Settings, get_settings
from openscore.domain.events import LEDGER_SCHEMA
from openscore.engines.duckdb import connect
from openscore.features import FEATURE_NAMES, build_features
from openscore.jobs.graph import GRAPH_SCHEMA, snapshot_for
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.online.models import current_model
from openscore.scoring.person import ScoreResult, score_person

_sql_cache: dict[tuple[date, bool], str] = {}
_sql_lock = threading.Lock()


def scoring_date(settings: Settings | None = None) -> date:
    """The as-of date of scores: ``OPENSCORE_AS_OF`` if set, else today (UTC)."""
    settings = settings or get_settings()
    return settings.as_of or datetime.now(UTC).date()


def _feature_sql(as_of: date, with_graph: bool = False) -> str:
    """The batch feature expression compiled once per as-of date, over table ``events``
    (and table ``graph``, the person's stored graph row, when ``with_graph``)."""
    with _sql_lock:
        sql = _sql_cache.get((as_of, with_graph))
        if sql is None:
            import ibis

            events = ibis.table(ibis.Schema.from_pyarrow(LEDGER_SCHEMA), name="events")
            graph = (
                ibis.table(ibis.Schema.from_pyarrow(GRAPH_SCHEMA), name="graph")
                if with_graph
                else None
            )
            sql = ibis.to_sql(build_features(events, as_of, graph=graph), dialect="duckdb")
            _sql_cache[(as_of, with_graph)] = sql
        return sql


def warm(settings: Settings | None = None) -> None:
    """Compile the feature SQL for today's scoring date, both forms, before the first
    rescore needs it (a server does this in the background as it starts: compiling takes
    about a second, which the first revocation would otherwise wait for)."""
    as_of = scoring_date(settings)
    _feature_sql(as_of, False)
    _feature_sql(as_of, True)


def drop_excluded(rows: pa.Table, excluded: frozenset[str] | set[str]) -> pa.Table:
    """Remove records under an open dispute that excludes them (``furnisher/event``)."""
    if not excluded or rows.num_rows == 0:
        return rows
    refs = pc.binary_join_element_wise(rows["furnisher_id"], rows["event_id"], "/")
    return rows.filter(pc.invert(pc.is_in(refs, pa.array(sorted(excluded)))))


def person_features(
    person_id: str,
    *,
    as_of: date | None = None,
    excluded: frozenset[str] | set[str] = frozenset(),
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Feature values of one person as of a date (missing ones are None)."""
    settings = settings or get_settings()
    as_of = as_of or scoring_date(settings)
    ledger = Ledger.open(settings)
    con = connect()  # one connection reads the rows and computes the features
    try:
        rows = drop_excluded(ledger.read_person(person_id, con=con), excluded)
        if rows.num_rows == 0:
            return dict.fromkeys(FEATURE_NAMES)
        graph = snapshot_for(ledger, person_id, as_of)
        con.register("events", rows)
        if graph is not None:
            con.register("graph", graph)
        table = con.sql(_feature_sql(as_of, graph is not None)).to_arrow_table()
    finally:
        con.close()
    if table.num_rows == 0:
        return dict.fromkeys(FEATURE_NAMES)
    values = table.to_pylist()[0]
    return {name: _clean(values.get(name)) for name in FEATURE_NAMES}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN is missing
        return None
    return value


def rescore(
    person_id: str,
    *,
    as_of: date | None = None,
    excluded: frozenset[str] | set[str] = frozenset(),
    card: Scorecard | None = None,
    settings: Settings | None = None,
) -> tuple[ScoreResult, dict[str, Any]]:
    """The person's score now (and the features it came from), with the model in service."""
    settings = settings or get_settings()
    as_of = as_of or scoring_date(settings)
    card = card or current_model(settings)
    features = person_features(person_id, as_of=as_of, excluded=excluded, settings=settings)
    return score_person(card, features, as_of=as_of.isoformat()), features
