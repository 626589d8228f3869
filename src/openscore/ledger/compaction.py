"""Compaction: rewrite the ledger as segments sorted by (person_id, occurred_at).

Sorted segments have narrow person ranges and row groups whose statistics locate one
person's rows, which is what one-person scoring and a consent purge rely on.
"""

from __future__ import annotations

import uuid

from openscore.engines.duckdb import connect, parquet_list, sql_literal
from openscore.ledger.durable import storage_guard
from openscore.ledger.rewrite import PARQUET_OPTIONS
from openscore.ledger.store import Ledger

#: row groups per compacted segment (x ROW_GROUP_ROWS rows): ~250 k rows a file. Small
#: enough that purging one person's source (a revocation) rewrites a quarter-second's
#: worth of rows; large enough that a 100 M-event ledger is ~400 files.
ROW_GROUPS_PER_SEGMENT = 2
SORT_KEY = "person_id, occurred_at, furnisher_id, event_id"


def compact(ledger: Ledger, *, force: bool = False) -> dict[str, int]:
    """Rewrite every segment into sorted ones; a no-op when the ledger is already compact."""
    with storage_guard(ledger.segments_dir / "segment"), ledger.writing() as txn:
        before = list(txn.manifest.segments)
        if not before or (not force and all(s.sorted for s in before) and _disjoint(before)):
            return {"segments_before": len(before), "segments_after": len(before), "rows": 0}
        out_dir = ledger.segments_dir / f".compact-{uuid.uuid4().hex}"
        con = connect(temp_dir=ledger.root.parent / "tmp")
        try:
            src = parquet_list([ledger.root / s.file for s in before])
            con.execute(
                f"COPY (SELECT * FROM read_parquet({src}) ORDER BY {SORT_KEY}) "
                f"TO {sql_literal(str(out_dir))} ({PARQUET_OPTIONS}, "
                f"ROW_GROUPS_PER_FILE {ROW_GROUPS_PER_SEGMENT}, FILENAME_PATTERN 'part_{{i}}')"
            )
        finally:
            con.close()
        parts = sorted(out_dir.glob("part_*.parquet"), key=lambda p: int(p.stem.split("_")[1]))
        rows = 0
        for part in parts:
            tmp, final = txn.new_segment_path()
            part.rename(tmp)
            rows += txn.add_segment(tmp, final, sorted=True, batch_id=None).rows
        out_dir.rmdir()
        for segment in before:
            txn.drop_segment(segment)
        txn.commit(removal=None)
        return {"segments_before": len(before), "segments_after": len(parts), "rows": rows}


def _disjoint(segments: list) -> bool:
    ranges = sorted((s.min_person or "", s.max_person or "") for s in segments)
    return all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
