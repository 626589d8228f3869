"""DuckDB connections, set up the same way everywhere (UTC, bounded memory, temp dir)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from openscore.fsio import atomic_path


def connect(
    database: str = ":memory:",
    *,
    temp_dir: Path | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC; spills to ``temp_dir`` when memory runs short."""
    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{_sql_str(str(temp_dir))}'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{_sql_str(memory_limit)}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _sql_str(value: str) -> str:
    return value.replace("'", "''")


def sql_literal(value: str) -> str:
    """A SQL string literal for ``value``."""
    return "'" + _sql_str(value) + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier for ``name``."""
    return '"' + name.replace('"', '""') + '"'


def parquet_list(paths: list[Path] | list[str]) -> str:
    """``[...]`` list literal of Parquet paths for ``read_parquet``."""
    return "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"


def ibis_connect(*, threads: int | None = None, memory_limit: str | None = None):
    """An Ibis DuckDB backend in UTC."""
    import ibis

    # only the settings given: DuckDB refuses ``memory_limit = None`` ("Memory must have a
    # number"), so ``threads`` alone must not send it
    config = {
        k: v for k, v in (("threads", threads), ("memory_limit", memory_limit)) if v is not None
    }
    con = ibis.duckdb.connect(**config)
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def ledger_table(con, paths: list[Path]):
    """The ledger's segments as one Ibis table (an empty table with the schema if none)."""
    import ibis

    from openscore.domain.events import LEDGER_SCHEMA

    if not paths:
        return ibis.memtable(LEDGER_SCHEMA.empty_table())
    return con.read_parquet([str(p) for p in paths])


class DuckDBEngine:
    """The embedded default: Ibis on an in-process DuckDB."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self._con = ibis_connect(threads=threads, memory_limit=memory_limit)

    @property
    def con(self):
        return self._con

    def read_parquet(self, paths):
        paths = [paths] if isinstance(paths, (str, Path)) else paths
        return self._con.read_parquet([str(p) for p in paths])

    def ledger(self, paths: list[Path]):
        return ledger_table(self._con, paths)

    def table(self, df, name: str):
        return self._con.create_table(name, df, overwrite=True, temp=True)

    def to_pandas(self, expr):
        return self._con.execute(expr)

    def to_parquet(self, expr, path: Path) -> None:
        with atomic_path(path) as tmp:
            self._con.to_parquet(expr, str(tmp))

    def close(self) -> None:
        from openscore.engines.base import release_cached

        release_cached(self._con)
        self._con.disconnect()
