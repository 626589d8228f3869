"""Compaction: keep the ledger as one sorted run plus a bounded number of small segments.

The *compacted run* is the segments marked ``sorted``: rows ordered by
``(person_id, occurred_at)``, each file ~:data:`ROW_GROUPS_PER_SEGMENT` row groups, their
person ranges disjoint (two neighbours may share the one person at their boundary).
Narrow person ranges and row groups whose statistics locate one person's rows are what
one-person scoring and a consent purge rely on.

Everything else is *appended*: ingest batches, fulfilment reports, and pieces rewritten by
a purge of an appended segment. Two operations:

- :func:`compact` rewrites the whole ledger as a new run (``openscore ledger compact``,
  and the background job when the appended rows have grown large). Its cost is the whole
  ledger's.
- :func:`merge_appended` folds the appended segments alone into a few sorted files of
  the same size as the run's, still outside the run. Its cost is the appended rows',
  whatever the ledger's size; it is what the housekeeping job does most of the time
  (:func:`tidy`), so a 100 M-event ledger is not re-sorted because a report arrived.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from openscore.engines.duckdb import connect, parquet_list, sql_literal
from openscore.ledger.durable import storage_guard
from openscore.ledger.manifest import Segment
from openscore.ledger.rewrite import PARQUET_OPTIONS
from openscore.ledger.store import ROW_GROUP_ROWS, Ledger, WriteTxn

#: row groups per compacted segment (x ROW_GROUP_ROWS rows): ~123 k rows a file. A
#: revocation purges one person's source by rewriting the file(s) that hold them, so the
#: file's size is the purge's cost: at two row groups (~250 k rows) the rewrite was half
#: of a revocation on a 100 M-event ledger (benchmarks/revocation.py). A 100 M-event
#: ledger is then ~814 files; the manifest and the scans that read every file grow with
#: that count, but stay far below a second.
ROW_GROUPS_PER_SEGMENT = 1
SEGMENT_ROWS = ROW_GROUP_ROWS * ROW_GROUPS_PER_SEGMENT
SORT_KEY = "person_id, occurred_at, furnisher_id, event_id"
#: appended rows above this share of the run's rows: the job rewrites the whole ledger
FULL_COMPACTION_SHARE = 0.25


def is_compact(segments: Sequence[Segment]) -> bool:
    """Every segment is in the compacted run and the run's ranges do not overlap."""
    return all(s.sorted for s in segments) and _disjoint(segments)


def compact(
    ledger: Ledger,
    *,
    force: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Rewrite every segment into one sorted run; a no-op when the ledger is compact."""
    with storage_guard(ledger.segments_dir / "segment"), ledger.writing() as txn:
        before = list(txn.manifest.segments)
        if not before or (not force and is_compact(before)):
            return {"segments_before": len(before), "segments_after": len(before), "rows": 0}
        parts = _write_sorted(txn, before, run=True, memory_limit=memory_limit, threads=threads)
        txn.commit(removal=None)
        return {
            "segments_before": len(before),
            "segments_after": len(txn.manifest.segments),
            "rows": sum(p.rows for p in parts),
        }


def merge_appended(
    ledger: Ledger, *, memory_limit: str | None = None, threads: int | None = None
) -> dict[str, int]:
    """Fold the appended segments (outside the run) into as few sorted files as their rows
    need; the run is not touched."""
    with storage_guard(ledger.segments_dir / "segment"), ledger.writing() as txn:
        segments = list(txn.manifest.segments)
        appended = [s for s in segments if not s.sorted]
        if len(appended) < 2:
            return {"segments_before": len(segments), "segments_after": len(segments), "rows": 0}
        parts = _write_sorted(txn, appended, run=False, memory_limit=memory_limit, threads=threads)
        txn.commit(removal=None)
        return {
            "segments_before": len(segments),
            "segments_after": len(txn.manifest.segments),
            "rows": sum(p.rows for p in parts),
        }


def tidy(
    ledger: Ledger,
    *,
    above_segments: int,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> dict[str, int | str] | None:
    """The background job's pass: ``None`` while at most ``above_segments`` segments are
    outside the run; otherwise merge them, or compact the whole ledger once the appended
    rows are more than :data:`FULL_COMPACTION_SHARE` of the run's or would not fit in
    ``above_segments`` files."""
    segments = ledger.manifest().segments
    appended = [s for s in segments if not s.sorted]
    run = [s for s in segments if s.sorted]
    overlapping = not _disjoint(run)
    if len(appended) <= above_segments and not overlapping:
        return None
    appended_rows = sum(s.rows for s in appended)
    run_rows = sum(s.rows for s in run)
    full = (
        overlapping
        or appended_rows > FULL_COMPACTION_SHARE * run_rows
        or appended_rows > above_segments * SEGMENT_ROWS
    )
    if full:
        out = compact(ledger, memory_limit=memory_limit, threads=threads)
        return {"kind": "full", **out}
    return {
        "kind": "appended",
        **merge_appended(ledger, memory_limit=memory_limit, threads=threads),
    }


def _write_sorted(
    txn: WriteTxn,
    inputs: list[Segment],
    *,
    run: bool,
    memory_limit: str | None,
    threads: int | None,
) -> list[Segment]:
    """Write the rows of ``inputs`` sorted into files of ~SEGMENT_ROWS rows, add them to
    ``txn`` (``sorted=run``) and drop ``inputs``; the caller commits."""
    ledger = txn.ledger
    out_dir = ledger.segments_dir / f".compact-{uuid.uuid4().hex}"
    con = connect(temp_dir=ledger.root.parent / "tmp", memory_limit=memory_limit, threads=threads)
    try:
        src = parquet_list([ledger.root / s.file for s in inputs])
        con.execute(
            f"COPY (SELECT * FROM read_parquet({src}) ORDER BY {SORT_KEY}) "
            f"TO {sql_literal(str(out_dir))} ({PARQUET_OPTIONS}, "
            f"ROW_GROUPS_PER_FILE {ROW_GROUPS_PER_SEGMENT}, FILENAME_PATTERN 'part_{{i}}')"
        )
    finally:
        con.close()
    files = sorted(out_dir.glob("part_*.parquet"), key=lambda p: int(p.stem.split("_")[1]))
    added = []
    for part in files:
        tmp, final = txn.new_segment_path()
        part.rename(tmp)
        added.append(txn.add_segment(tmp, final, sorted=run, batch_id=None))
    out_dir.rmdir()
    for segment in inputs:
        txn.drop_segment(segment)
    return added


def _disjoint(segments: Sequence[Segment]) -> bool:
    """No two person ranges overlap; neighbours may share their boundary person (a sorted
    run cut into files of equal size splits a person's rows between two files)."""
    ranges = sorted((s.min_person or "", s.max_person or "") for s in segments)
    return all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False))
