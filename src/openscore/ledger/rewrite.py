"""Removing rows from immutable segments: the one mechanism behind erasure, consent
purges, resolved disputes and expiry. Affected segments are rewritten without the rows,
then swapped in by a single manifest commit; the old files are deleted only after the
commit.

Which rows go is said with a typed selection (:class:`PersonRows`, :class:`SourceRows`,
:class:`EventRows`, :class:`ExpiredRows`), never with SQL text: the selection is turned
into a predicate here, every value quoted, and it also says which segments can hold the
rows (a person's rows are only in segments whose person range covers them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from openscore.domain.sources import Source
from openscore.engines.duckdb import connect, parquet_list, sql_literal
from openscore.ledger.durable import storage_guard
from openscore.ledger.manifest import Segment
from openscore.ledger.pending import PendingOp, clear
from openscore.ledger.store import ROW_GROUP_ROWS, Ledger

PARQUET_OPTIONS = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"


@dataclass(frozen=True)
class PersonRows:
    """Every row of ``person_id``; with ``counterparty``, also other people's rows that
    name them as counterparty (erasure: those are the person's data too)."""

    person_id: str
    counterparty: bool = False


@dataclass(frozen=True)
class SourceRows:
    """A person's rows of one source, optionally only those ingested before a time."""

    person_id: str
    source: Source
    ingested_before: datetime | None = None


@dataclass(frozen=True)
class EventRows:
    """A person's rows with these ``(furnisher_id, event_id)`` keys."""

    person_id: str
    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ExpiredRows:
    """Negative records past their retention at ``now`` (``expiry.py`` says which)."""

    now: datetime
    retention_years: int


RowSelection = PersonRows | SourceRows | EventRows | ExpiredRows


def selection_sql(rows: RowSelection) -> str:
    """The DuckDB predicate for ``rows`` (every value quoted with ``sql_literal``)."""
    if isinstance(rows, PersonRows):
        pid = sql_literal(rows.person_id)
        if rows.counterparty:
            return f"person_id = {pid} OR counterparty_id = {pid}"
        return f"person_id = {pid}"
    if isinstance(rows, SourceRows):
        where = (
            f"person_id = {sql_literal(rows.person_id)}"
            f" AND source = {sql_literal(Source(rows.source).value)}"
        )
        if rows.ingested_before is not None:
            at = sql_literal(rows.ingested_before.astimezone(UTC).isoformat())
            where += f" AND ingested_at < CAST({at} AS TIMESTAMPTZ)"
        return where
    if isinstance(rows, EventRows):
        if not rows.events:
            return "false"
        keys = " OR ".join(
            f"(furnisher_id = {sql_literal(furnisher)} AND event_id = {sql_literal(event)})"
            for furnisher, event in rows.events
        )
        return f"person_id = {sql_literal(rows.person_id)} AND ({keys})"
    if isinstance(rows, ExpiredRows):
        from openscore.ledger.expiry import expired_sql  # expiry.py calls remove_rows

        return expired_sql(rows.now, rows.retention_years)
    raise TypeError(f"not a row selection: {rows!r}")


def _candidates(rows: RowSelection) -> Callable[[Segment], bool] | None:
    """The segments that can hold ``rows`` (``None``: every segment)."""
    if isinstance(rows, SourceRows | EventRows) or (
        isinstance(rows, PersonRows) and not rows.counterparty
    ):
        person_id = rows.person_id
        return lambda segment: segment.may_hold(person_id)
    return None


def remove_rows(
    ledger: Ledger,
    rows: RowSelection,
    *,
    reason: dict,
    finishes: PendingOp | None = None,
) -> int:
    """Delete every row of the selection ``rows``; return how many went.

    Only the segments that can hold the rows are read (a person's: by person range). A
    row for which the predicate is NULL is kept. ``finishes``: a pending operation
    (``pending.py``) that this removal completes, cleared in the same commit.

    The rows are found first *without* the writer lock, in a snapshot of the manifest, so
    that ingestion and other writers wait only for the rewrite and the commit. Segment
    files are immutable and never reused, so a count made in the snapshot still holds for
    every segment the locked manifest still names; the segments that came since (an ingest
    batch, compaction's new files, another removal's rewrites) are counted again under the
    lock, and those that went are not touched.
    """
    where = selection_sql(rows)
    candidates = _candidates(rows)
    keep = f"NOT coalesce(({where}), false)"
    removed = 0
    with storage_guard(ledger.segments_dir / "segment"):
        con = connect(temp_dir=ledger.root.parent / "tmp")
        try:
            hits = _count(con, ledger, _held(ledger.manifest().segments, candidates), where)
            with ledger.writing() as txn:
                current = _held(txn.manifest.segments, candidates)
                hits.update(
                    _count(
                        con,
                        ledger,
                        [s for s in current if s.file not in hits],
                        where,
                        locked=True,
                    )
                )
                for segment in current:
                    hit = hits[segment.file]
                    if hit == 0:
                        continue
                    removed += hit
                    txn.drop_segment(segment)
                    if hit == segment.rows:
                        continue
                    src = sql_literal(str(ledger.root / segment.file))
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


def _held(segments: list[Segment], candidates: Callable[[Segment], bool] | None) -> list[Segment]:
    return [s for s in segments if candidates is None or candidates(s)]


def _count(
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    segments: list[Segment],
    where: str,
    *,
    locked: bool = False,
) -> dict[str, int]:
    """Rows matching ``where`` in each of ``segments``, by file, in one scan (row-group
    statistics skip what cannot match). Outside the lock a file may vanish under the
    scan (a concurrent compaction or removal committed and deleted it): then nothing is
    counted here and the locked pass counts what the manifest names by then."""
    if not segments:
        return {}
    by_path = {str(ledger.root / s.file): s.file for s in segments}
    try:
        found = con.execute(
            f"SELECT filename, count(*) FROM read_parquet({parquet_list(list(by_path))}, "
            f"filename = true) WHERE coalesce(({where}), false) GROUP BY filename"
        ).fetchall()
    except duckdb.IOException:
        if locked:
            raise
        return {}
    hits = dict.fromkeys(by_path.values(), 0)
    for path, count in found:
        hits[by_path[path]] = int(count)
    return hits


def segment_files(ledger: Ledger) -> list[Path]:
    return [ledger.root / s.file for s in ledger.manifest().segments]
