"""Choosing the engine that runs the Ibis expressions: DuckDB (embedded) or Spark.

An engine gives an Ibis backend, reads the ledger's segments and other Parquet files
in place, and writes a result to Parquet. Feature and scoring code never sees which.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import ibis.expr.types as ir
import pandas as pd


class Engine(Protocol):
    name: str

    @property
    def con(self) -> Any:
        """The Ibis backend."""

    def read_parquet(self, paths: Sequence[str | Path] | str | Path) -> ir.Table: ...

    def ledger(self, paths: list[Path]) -> ir.Table: ...

    def table(self, df: pd.DataFrame | Any, name: str) -> ir.Table: ...

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame: ...

    def to_parquet(self, expr: ir.Table, path: Path) -> None: ...

    def close(self) -> None: ...


def release_cached(con: Any) -> None:
    """Drop the tables ``.cache()`` materialised on an Ibis backend, before it closes.

    Ibis drops a cached table when its expression is garbage-collected; an expression
    that outlives its connection (a job's result, closed in a ``finally``) would then try
    on a closed connection and print an error at exit.
    """
    for name in list(getattr(con, "_cache_name_to_entry", {})):
        con._finalize_cached_table(name)


def get_engine(name: str | None = None, **options: Any) -> Engine:
    """The engine named (default: ``OPENSCORE_ENGINE``, else duckdb)."""
    from openscore.config import get_settings

    name = name or get_settings().engine
    if name == "duckdb":
        from openscore.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from openscore.engines.spark import SparkEngine

        return SparkEngine(**options)
    from openscore.errors import InputError

    raise InputError(f"unknown engine {name!r}; expected duckdb or spark", field="engine")
