"""Ledger statistics: events by source and type, people, segments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openscore.engines.duckdb import connect, parquet_list
from openscore.ledger.store import Ledger, Snapshot


def ledger_stats(ledger: Ledger) -> dict[str, Any]:
    snap = ledger.snapshot()
    manifest = snap.manifest
    out: dict[str, Any] = {
        "root": str(ledger.root),
        "manifest_version": manifest.version,
        "segments": len(manifest.segments),
        "sorted_segments": sum(s.sorted for s in manifest.segments),
        "bytes": sum(s.bytes for s in manifest.segments),
        "batches": len(manifest.batches),
        "total": manifest.rows,
        "people": 0,
        "by_source": {},
        "by_type": {},
    }
    if snap.empty:
        return out
    con = connect()
    try:
        src = parquet_list(snap.paths)
        con.execute(
            f"CREATE TEMP VIEW ledger AS SELECT source, type, person_id FROM read_parquet({src})"
        )
        out["people"] = con.execute("SELECT count(DISTINCT person_id) FROM ledger").fetchall()[0][0]
        for key in ("source", "type"):
            rows = con.execute(
                f"SELECT {key}, count(*) FROM ledger GROUP BY ALL ORDER BY 1"
            ).fetchall()
            out[f"by_{key}"] = {k: int(n) for k, n in rows}
    finally:
        con.close()
    return out


def latest_event(snapshot: Snapshot) -> datetime | None:
    """The latest ``occurred_at`` of the snapshot's events, from the segments' Parquet
    statistics (their footers, not their rows): None if there are none or a row group
    has no statistics for it.

    A feature query as of a date at or after it can leave out the as-of filter, which
    keeps every row then; DuckDB does not drop it by the statistics itself and decodes
    every event's time in each scan of the query (``docs/scale.md``).
    """
    if snapshot.empty:
        return None
    con = connect()
    try:
        row = con.execute(
            "SELECT sum(row_group_num_rows), count(*) FILTER (WHERE stats_max_value IS NULL), "
            "max(CAST(stats_max_value AS TIMESTAMPTZ)) "
            f"FROM parquet_metadata({parquet_list(snapshot.paths)}) "
            "WHERE path_in_schema = 'occurred_at'"
        ).fetchone()
    finally:
        con.close()
    rows, missing, latest = row if row is not None else (None, None, None)
    # every row of every segment under a statistic (a file without the column has none)
    if rows != snapshot.manifest.rows or missing or latest is None:
        return None
    return latest  # type: ignore[no-any-return]
