"""The feature table of everyone in the ledger, as of a date, on the chosen engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis.expr.types as ir

from openscore.engines.base import Engine
from openscore.features import build_features
from openscore.ledger import Ledger


def feature_table(
    engine: Engine, ledger: Ledger, as_of: date, people: ir.Table | None = None
) -> ir.Table:
    """One row per person (in the ledger, and in ``people`` if given), every feature."""
    events = engine.ledger(ledger.snapshot().paths)
    return build_features(events, as_of, people)


def write_features(engine: Engine, ledger: Ledger, as_of: date, out: Path) -> Path:
    engine.to_parquet(feature_table(engine, ledger, as_of), out)
    return out
