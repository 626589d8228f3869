"""Removing rows from immutable segments: the one mechanism behind erasure, consent
purges and expiry. Affected segments are rewritten without the rows, then swapped in by a
single manifest commit; the old files are deleted only after the commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openscore.engines.duckdb import connect, sql_literal
from openscore.ledger.durable import storage_guard
from openscore.ledger.manifest import Segment
from openscore.ledger.pending import PendingOp, clear
from openscore.ledger.store import ROW_GROUP_ROWS, Ledger

PARQUET_OPTIONS = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"


def remove_rows(
    ledger: Ledger,
    where: str,
    *,
    reason: dict,
    candidates: Callable[[Segment], bool] | None = None,
    finishes: PendingOp | None = None,
) -> int:
    """Delete every row matching the SQL predicate ``where``; return how many went.

    ``candidates`` narrows the segments looked at (e.g. by person range); the predicate
    decides. A predicate that is NULL for a row keeps the row. ``finishes``: a pending
    operation (``pending.py``) that this removal completes, cleared in the same commit.
    """
    keep = f"NOT coalesce(({where}), false)"
    removed = 0
    with storage_guard(ledger.segments_dir / "segment"), ledger.writing() as txn:
        con = connect(temp_dir=ledger.root.parent / "tmp")
        try:
            for segment in list(txn.manifest.segments):
                if candidates is not None and not candidates(segment):
                    continue
                src = sql_literal(str(ledger.root / segment.file))
                hit = con.execute(
                    f"SELECT count(*) FROM read_parquet({src}) WHERE coalesce(({where}), false)"
                ).fetchall()[0][0]
                if hit == 0:
                    continue
                removed += hit
                txn.drop_segment(segment)
                if hit == segment.rows:
                    continue
                tmp, final = txn.new_segment_path()
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({src}) WHERE {keep}) "
                    f"TO {sql_literal(str(tmp))} ({PARQUET_OPTIONS})"
                )
                txn.add_segment(tmp, final, sorted=segment.sorted, batch_id=segment.batch_id)
            cleared = finishes is not None and clear(txn.manifest, finishes)
            if removed or cleared:
                txn.commit(removal={**reason, "rows": removed} if removed else None)
        finally:
            con.close()
    return removed


def segment_files(ledger: Ledger) -> list[Path]:
    return [ledger.root / s.file for s in ledger.manifest().segments]
