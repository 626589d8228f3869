"""The feature table of everyone in the ledger, as of a date, on the chosen engine."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import ibis.expr.types as ir

from openscore.engines.base import Engine
from openscore.features import build_features
from openscore.ledger import Ledger, Snapshot, latest_event


def feature_table(
    engine: Engine, ledger: Ledger, as_of: date, people: ir.Table | None = None
) -> ir.Table:
    """One row per person (in the ledger, and in ``people`` if given), every feature."""
    snapshot = ledger.snapshot()
    events = engine.ledger(snapshot.paths)
    return build_features(events, as_of, people, latest=known_latest(engine, snapshot))


def known_latest(engine: Engine, snapshot: Snapshot) -> datetime | None:
    """The snapshot's latest event time from its statistics, on DuckDB (where a query's
    as-of filter costs a pass over every event's time in each scan; measured there only,
    so the other engines keep the filter)."""
    return latest_event(snapshot) if engine.name == "duckdb" else None


def write_features(engine: Engine, ledger: Ledger, as_of: date, out: Path) -> Path:
    engine.to_parquet(feature_table(engine, ledger, as_of), out)
    return out
