"""Ledger statistics: events by source and type, people, segments."""

from __future__ import annotations

from typing import Any

from openscore.engines.duckdb import connect, parquet_list
from openscore.ledger.store import Ledger


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
