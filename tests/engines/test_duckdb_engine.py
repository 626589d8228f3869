"""The DuckDB engine's connection settings: each one alone, both, or none."""

from __future__ import annotations

import pytest

from openscore.engines.duckdb import DuckDBEngine


def _setting(engine: DuckDBEngine, name: str) -> str:
    return str(engine.con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0])


@pytest.mark.parametrize(
    ("threads", "memory_limit"), [(2, None), (None, "1GB"), (1, "512MB"), (None, None)]
)
def test_the_engine_takes_threads_and_memory_limit_alone_or_together(threads, memory_limit):
    engine = DuckDBEngine(threads=threads, memory_limit=memory_limit)
    if threads is not None:
        assert _setting(engine, "threads") == str(threads)
    if memory_limit is not None:
        # DuckDB reports the limit in its own units (e.g. "953.6 MiB" for 1GB)
        assert _setting(engine, "memory_limit").split()[1] in ("MiB", "GiB")
        assert _setting(engine, "memory_limit") != _setting(DuckDBEngine(), "memory_limit")
    assert _setting(engine, "TimeZone") == "UTC"
