"""An ingest run: files → validated rows → consent → deduplicated → one atomic batch.

Steps, in DuckDB and pyarrow over work files on disk (so memory stays bounded):

1. validate every row (``validation``) into Arrow, a batch of about a million rows at a
   time: a plain Parquet file read by DuckDB straight into one streaming query that
   takes its text to be clean and checks each batch for that (``_stage_direct``), any
   other file (or one whose text is not) read in batches (``readers``; the next batch in
   a thread: ``writer.read_ahead``), one query per batch; two threads beside
   (``writer.BackgroundWriter``) write the valid rows in the ledger's own form (zstd, the
   batch's id and time) as a ``part`` — the one write of the data — and a few columns of
   every row (ids, person, source, a hash of the id, the broken rules) as ``keys``, while
   the next batch is validated;
2. refuse the rows of erased people (the suppression check), then ask the consent gate
   about the distinct (person, source) pairs (there is no default gate: see ``consent``);
3. keep the first of rows sharing an ``event_id`` within the batch (found by the ids'
   hashes, then the ids themselves: usually none);
4. compare with what the ledger already holds from this furnisher (a snapshot): the same
   id with the same content is a duplicate (skipped, counted), with other content a
   conflict (rejected). The ledger's ``event_id`` column is read first and matched by
   hash, the other columns only of the rows whose id matched;
5. the segment: when every valid row is accepted, the parts are the batch's segments as
   they are; otherwise the accepted rows are written again from the parts (only then);
6. under the ledger's writer lock, ask the consent gate and the suppression check again
   (a revocation or an erasure that committed since step 2 purges the ledger only after
   this batch lets go of the lock, and would miss rows committed after its purge), and
   repeat step 4 for what another writer committed since the snapshot; only if either
   finds something is the segment written again. Then move the segment(s) into the
   ledger and commit them with the manifest.

Validation and the segment's write happen outside the writer lock, so other writers (a
revocation's purge, an API fulfilment) wait only for the checks and the commit.

A crash before step 6's manifest commit leaves the ledger exactly as it was; running the
same command again completes the batch, because steps 4 and 6 make it idempotent.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.config import Settings, get_settings
from openscore.domain.events import EVENT_COLUMNS, LEDGER_SCHEMA
from openscore.engines.duckdb import connect, parquet_list, sql_identifier, sql_literal
from openscore.errors import InputError, StorageError
from openscore.ingest import readers
from openscore.ingest.consent import ConsentGate, SuppressionCheck, no_consent_check
from openscore.ingest.readers import (
    RawFile,
    direct_parquet_types,
    iter_batches,
    open_raw,
    utf8_or_binary,
)
from openscore.ingest.rejections import Rejection
from openscore.ingest.validation import (
    assumed_facts,
    broken_assumption,
    column_facts,
    validation_sql,
)
from openscore.ingest.writer import BackgroundWriter, read_ahead
from openscore.ledger.durable import REFUSALS, out_of_space, storage_guard
from openscore.ledger.manifest import Batch, Segment, now_iso
from openscore.ledger.rewrite import PARQUET_OPTIONS
from openscore.ledger.store import Ledger, write_segment_file

EVENT_NAMES = [c.name for c in EVENT_COLUMNS]
#: the columns of every row kept beside the parts (the view ``staged``)
KEY_COLUMNS = ["_part", "_file", "_line", "_h", "event_id", "person_id", "source"]
KEY_COLUMNS += ["counterparty_id", "_errors"]
INPUT_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".gz")

#: a batch's parts become its segments as they are when each holds at least this many rows
#: (a compacted segment holds one row group of this size); smaller ones are written again
#: as one segment, so many small files do not make many small segments
MIN_PART_ROWS = 122_880

#: the lanes of the run's ``BackgroundWriter``
_PARTS, _KEYS = 0, 1

#: progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class IngestResult:
    run_id: str
    furnisher_id: str
    files: int = 0
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    no_consent: int = 0
    #: rows of erased people (the suppression list), rejected
    erased: int = 0
    unreadable: int = 0
    #: False when the run was told not to check consent (``--no-consent-check``)
    consent_checked: bool = True
    report_path: str | None = None
    batch_id: str | None = None
    file_errors: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Nothing could be ingested although something was wrong."""
        return (
            self.accepted == 0
            and self.duplicates == 0
            and (self.rejected > 0 or bool(self.file_errors) or self.rows_read == 0)
        )

    def to_dict(self) -> dict:
        out = asdict(self)
        out["failed"] = self.failed
        return out


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the data files inside directories named (sorted, recursive)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.name.lower().endswith(INPUT_SUFFIXES)
                    and not f.name.startswith(".")
                )
            )
        else:
            out.append(p)
    return out


class Ingester:
    """Ingests furnisher files into a ledger.

    ``consent_gate`` decides per (person, source) and has no default (the caller names
    it: the registry's, or ``no_consent_check`` for public datasets); ``suppressed``
    names the erased people among a batch's ids, whose rows are refused whatever the gate.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        consent_gate: ConsentGate,
        suppressed: SuppressionCheck | None = None,
        settings: Settings | None = None,
        now: datetime | None = None,
    ) -> None:
        self.ledger = ledger
        self.consent_gate = consent_gate
        self.suppressed = suppressed
        self.settings = settings or get_settings()
        self.now = now
        # the batch's people and (person, source) pairs, asked about before and under the lock
        self._ids: list[str] | None = None
        self._pairs: pa.Table | None = None

    def run(
        self, paths: Iterable[Path], furnisher_id: str, *, progress: Progress | None = None
    ) -> IngestResult:
        furnisher_id = furnisher_id.strip()
        if not furnisher_id or len(furnisher_id) > 128:
            raise InputError("--furnisher must be 1 to 128 characters", field="furnisher")
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        result = IngestResult(
            run_id=run_id,
            furnisher_id=furnisher_id,
            consent_checked=self.consent_gate is not no_consent_check,
        )
        run_dir = self.settings.runs_dir / run_id
        # The owner's pid is in the name, so the directory and its owner appear together:
        # another run's clean-up can never see it without knowing it is alive.
        work = self.settings.data_dir / "tmp" / f"ingest-{run_id}-p{os.getpid()}"
        # A full (or failing) disk anywhere on the way is one clear StorageError; nothing
        # is committed until the manifest is, so the ledger stays as it was.
        with storage_guard(work / "staged"):
            return self._run(paths, furnisher_id, result, run_dir, work, progress)

    def _run(self, paths, furnisher_id, result, run_dir, work, progress) -> IngestResult:
        _clean_stale_work(work.parent)
        self._ids, self._pairs = None, None
        try:
            work.mkdir(parents=True, exist_ok=True)
            files = expand_paths(paths)
            if not files:
                raise InputError("no input files given (or the directories hold none)")
            result.files = len(files)
            con = connect(temp_dir=work / "spill")
            # DuckDB turns an IN list of constants into a hash join per list; validation has
            # dozens of short lists, and as joins they cost more than the rest of it together
            con.execute("SET disabled_optimizers = 'in_clause'")
            try:
                # the parts are written in a lane of their own: the checks, which read
                # only the keys, start while the last of them are still being written
                with BackgroundWriter(lanes=2) as self._writer:
                    self._stage(con, files, furnisher_id, work, result, progress)
                    self._check_batch(con)
                    seen = self._check_ledger_unlocked(con, furnisher_id)
                # (every part is written now: what follows reads them)
                self._count(con, result)
                segments: list[Path] = []
                if result.accepted:
                    segments = self._segments(con, work, result, progress)
                with self.ledger.writing() as txn:
                    if self._recheck(con, furnisher_id, seen, txn):
                        self._count(con, result)
                        segments = []
                        if result.accepted:
                            segments = self._segments(con, work, result, progress)
                    with storage_guard(run_dir / "rejections.csv"):
                        self._write_report(con, run_dir, result)
                    if result.accepted:
                        with storage_guard(self.ledger.segments_dir / "segment"):
                            self._commit(txn, segments, result, files)
            finally:
                con.close()
            try:
                _write_json(run_dir / "summary.json", result.to_dict())
            except OSError as exc:  # committed already: a missing summary must not say otherwise
                if exc.errno not in REFUSALS:
                    raise
            return result
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # -- steps ---------------------------------------------------------------------------

    def _stage(self, con, files, furnisher_id, work, result, progress) -> None:
        """Read and validate every file, batch by batch, into the ``parts`` (valid rows,
        in the ledger's form) and the ``keys`` (every row's ids and broken rules, the view
        ``staged``); unreadable parts go to ``issues``. ``_errors`` is NULL for a valid
        row."""
        con.execute(
            "CREATE TABLE issues (file VARCHAR, line BIGINT, field VARCHAR, "
            "value VARCHAR, reason VARCHAR)"
        )
        con.execute("CREATE TABLE file_names (_file INTEGER, name VARCHAR)")
        con.executemany(
            "INSERT INTO file_names VALUES (?, ?)", [(i, str(p)) for i, p in enumerate(files)]
        )
        (work / "staged").mkdir()
        (work / "parts").mkdir()
        #: the parts written, in order: (part number, path, valid rows)
        self._parts: list[tuple[int, Path, int]] = []
        # stamped once, before the lock: a purge of rows "ingested before" a revocation
        # that commits while this batch waits for the lock is caught by the check under it
        self._ingested_at = now_iso()
        self._rewrites = 0
        part = 0
        for index, path in enumerate(files):
            part = self._stage_file(con, index, path, part, furnisher_id, work, result, progress)
        self._writer.wait(_KEYS)
        if any((work / "staged").iterdir()):
            con.execute(
                "CREATE VIEW staged AS SELECT * FROM "
                f"read_parquet({sql_literal(str(work / 'staged' / '*.parquet'))})"
            )
        else:
            con.execute(
                "CREATE VIEW staged AS SELECT 0 AS _part, 0 AS _file, CAST(0 AS BIGINT) AS "
                "_line, CAST(0 AS UBIGINT) AS _h, CAST(NULL AS VARCHAR) AS event_id, "
                "CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS source, "
                "CAST(NULL AS VARCHAR) AS counterparty_id, CAST(NULL AS VARCHAR[]) AS _errors "
                "WHERE false"
            )
        con.execute("CREATE TABLE part_files (_part INTEGER, path VARCHAR, valid BIGINT)")
        if self._parts:
            con.executemany(
                "INSERT INTO part_files VALUES (?, ?, ?)",
                [(n, str(path), rows) for n, path, rows in self._parts],
            )

    def _stage_file(self, con, index, path, part, furnisher_id, work, result, progress) -> int:
        """Read and validate one file, batch by batch, from part number ``part``; the next
        part number. A file that cannot be read is an ``issue``, and a Parquet file is
        taken whole or not at all."""
        if progress:
            progress(f"reading {path.name}", result.rows_read, 0)
        issues: list[Rejection] = []
        raw: RawFile | None = None
        first_part, rows = part, 0
        try:
            raw = open_raw(path, work)
            # a Parquet file DuckDB can read is read by it, whole; any other in batches
            direct = self._stage_direct(con, raw, index, part, furnisher_id, work, result, progress)
            if direct is not None:
                part, rows = direct
            batches = read_ahead(iter_batches(raw, EVENT_NAMES)) if direct is None else ()
            for table in batches:
                self._validate_batch(
                    con,
                    table,
                    index,
                    part,
                    furnisher_id,
                    work,
                    result,
                    utf8_checked=raw.format != "parquet",
                )
                part += 1
                rows += table.num_rows
                if progress:
                    progress(f"reading {path.name}", result.rows_read + rows, 0)
                if raw.format != "parquet":
                    result.rows_read += table.num_rows
                    rows = 0
            if raw.format == "parquet":  # counted once the whole file was read
                result.rows_read += rows
        except InputError as exc:
            if raw is not None and raw.format == "parquet":
                self._writer.wait()  # its parts written before they are forgotten
                self._drop_parts(work, first_part, part + 1)
            result.file_errors.append(exc.message)
            issues.append(Rejection(str(path), exc.line, exc.field, None, exc.reason))
        except duckdb.Error as exc:
            if raw is None or raw.format != "parquet" or out_of_space(exc):
                raise
            self._writer.wait()
            self._drop_parts(work, first_part, part + 1)
            message = f"Parquet file could not be read to the end ({exc})"
            result.file_errors.append(f"{path}: {message}")
            issues.append(Rejection(str(path), None, None, None, message))
        if raw is not None:
            issues.extend(raw.issues)
            # rows the reader could not parse count as read and rejected
            result.rows_read += raw.rows_rejected
            result.unreadable += raw.rows_rejected
            for name in raw.columns:
                if name not in EVENT_NAMES and name != "_line":
                    # a column without a name (JSON key "") is still named, by its quotes
                    issues.append(
                        Rejection(
                            str(path),
                            1 if raw.format == "csv" else None,
                            name or '""',
                            None,
                            "unknown column: not part of the event vocabulary, its values "
                            "were not stored",
                        )
                    )
            if raw.work_path is not None and raw.work_path != path:
                raw.work_path.unlink(missing_ok=True)
        if issues:
            con.executemany(
                "INSERT INTO issues VALUES (?, ?, ?, ?, ?)",
                [(r.file, r.line, r.field, r.value, r.reason) for r in issues],
            )
        return part

    def _drop_parts(self, work: Path, first: int, end: int) -> None:
        """Forget the parts ``first`` .. ``end - 1`` (of a file that failed half-way)."""
        for n in range(first, end):
            (work / "staged" / f"part-{n:06d}.parquet").unlink(missing_ok=True)
        for _, path, _ in [p for p in self._parts if first <= p[0] < end]:
            path.unlink(missing_ok=True)
        self._parts = [p for p in self._parts if not first <= p[0] < end]

    def _stage_direct(
        self, con, raw, index, part, furnisher_id, work, result, progress
    ) -> tuple[int, int] | None:
        """A Parquet file read by DuckDB straight into validation, in one streaming query
        (no pyarrow read, no Arrow table handed to DuckDB: about a third of the CPU of
        reading it in batches), validated as if its text were clean
        (``validation.assumed_facts``); each batch of validated rows is checked for that
        before it is kept. (next part number, rows) — or None when the file is not such a
        file, or a batch broke the assumption, or DuckDB could not read it: then its parts
        so far are dropped and the file is read the careful way (``iter_batches``), which
        also says what is wrong with it."""
        types = direct_parquet_types(raw, EVENT_NAMES)
        if types is None:
            return None
        assumed = assumed_facts(types)
        columns = ", ".join(sql_identifier(name) for name in types)
        source = f"read_parquet({sql_literal(str(raw.work_path))}, file_row_number = true)"
        sql = validation_sql(
            f"(SELECT {columns}, file_row_number + 1 AS _line FROM {source})",
            types,
            furnisher_id=furnisher_id,
            file_index=index,
            now=self.now,
            facts=assumed,
        )
        first, rows = part, 0
        try:
            reader = con.sql(self._with_batch_columns(sql, result)).to_arrow_reader(
                readers.BATCH_ROWS
            )
            for validated in _tables_of(reader, readers.BATCH_ROWS):
                if broken_assumption(assumed, validated) is not None:
                    reader.close()
                    raise _NotAsAssumed
                self._keep(validated, part, work)
                part += 1
                rows += validated.num_rows
                if progress:
                    progress(f"reading {raw.path.name}", result.rows_read + rows, 0)
        except (_NotAsAssumed, duckdb.Error) as exc:
            if isinstance(exc, duckdb.Error) and out_of_space(exc):
                raise
            self._writer.wait()  # its parts written before they are forgotten
            self._drop_parts(work, first, part + 1)
            return None
        return part, rows

    def _validate_batch(
        self,
        con,
        table: pa.Table,
        index: int,
        part: int,
        furnisher_id: str,
        work: Path,
        result: IngestResult,
        *,
        utf8_checked: bool,
    ) -> None:
        """Validate one batch into Arrow; the run's writer then writes its valid rows as a
        part (in the ledger's form) and every row's keys, while the next batch is
        validated."""
        # Only the vocabulary's columns and the reader's line numbers go on: a file's own
        # column named like an internal one (``_line``, ``__t_type`` ...) must not shadow it.
        names = table.column_names
        keep = [i for i, name in enumerate(names) if name in EVENT_NAMES]
        table = table.select([*keep, len(names) - 1 - names[::-1].index("_line")])
        table = _plain(table, utf8_checked=utf8_checked)
        raw_types = {f.name: f.type for f in table.schema if f.name != "_line"}
        con.register("raw_batch", table)
        try:
            sql = validation_sql(
                "raw_batch",
                raw_types,
                furnisher_id=furnisher_id,
                file_index=index,
                now=self.now,
                facts=column_facts(table),
            )
            # one pass: the typed rows, the batch's id and time, and each row's keys, as
            # Arrow (in the order of the lines: the connection preserves insertion order)
            validated = con.sql(self._with_batch_columns(sql, result)).to_arrow_table()
        finally:
            con.unregister("raw_batch")
        self._keep(validated, part, work)

    def _with_batch_columns(self, sql: str, result: IngestResult) -> str:
        """The validation query with the batch's id and time and each row's id hash."""
        return (
            f"SELECT *, {sql_literal(_batch_id(result))} AS batch_id, "
            f"CAST({sql_literal(self._ingested_at)} AS TIMESTAMPTZ) AS ingested_at, "
            f"hash(event_id) AS _h FROM ({sql})"
        )

    def _keep(self, validated: pa.Table, part: int, work: Path) -> None:
        """Part ``part`` of the run: the run's writer writes the valid rows of
        ``validated`` (in the ledger's form) and every row's keys, while the next batch is
        validated."""
        validated = validated.append_column(
            "_part", pa.array(np.full(validated.num_rows, part, np.int32))
        )
        valid = validated.column("_errors").null_count  # a valid row has no broken rule
        keys_path = work / "staged" / f"part-{part:06d}.parquet"
        keys = validated.select(KEY_COLUMNS)
        rows = validated.select([*EVENT_NAMES, "batch_id", "ingested_at"])
        if valid < validated.num_rows:
            rows = rows.filter(pc.is_null(validated.column("_errors")))
        del validated
        out = work / "parts" / f"part-{part:06d}.parquet"
        if valid:
            self._parts.append((part, out, valid))

        def write_part() -> None:
            with storage_guard(out):
                write_segment_file(rows, out)

        def write_keys_file() -> None:
            with storage_guard(keys_path):
                write_keys(keys, keys_path)

        if valid:
            self._writer.submit(write_part, _PARTS)
        self._writer.submit(write_keys_file, _KEYS)

    def _check_batch(self, con) -> None:
        """Rows that are valid but may not be stored: without consent, or a repeat of an
        event_id earlier in the batch. Kept as a small table of (file, line, status)."""
        con.execute("CREATE TABLE excluded (_file INTEGER, _line BIGINT, status VARCHAR)")
        self._exclude_erased(con)
        self._exclude_without_consent(con)
        # the repeated ids first (usually none): by the ids' hashes, sorted (a hash that
        # equals the one before it repeats; a third less CPU than grouping them), then the
        # ids themselves among the rows whose hash repeats
        con.execute(
            "CREATE TEMP TABLE repeated_h AS SELECT DISTINCT _h FROM (SELECT _h, lag(_h) "
            "OVER (ORDER BY _h) AS _before FROM staged WHERE _errors IS NULL) WHERE _h = _before"
        )
        if not con.execute("SELECT count(*) FROM repeated_h").fetchall()[0][0]:
            return
        con.execute(
            "CREATE TEMP TABLE repeated AS SELECT event_id FROM staged s SEMI JOIN repeated_h "
            "r ON s._h = r._h WHERE s._errors IS NULL GROUP BY event_id HAVING count(*) > 1"
        )
        if not con.execute("SELECT count(*) FROM repeated").fetchall()[0][0]:
            return
        seq = "(_file * 10000000000 + _line)"
        con.execute(
            "INSERT INTO excluded SELECT _file, _line, 'batch_duplicate' FROM ("
            f"SELECT _file, _line, {seq} AS seq, min({seq}) OVER (PARTITION BY event_id) AS first "
            "FROM staged s SEMI JOIN repeated r ON s.event_id = r.event_id "
            "WHERE s._errors IS NULL) d WHERE seq <> first "
            "AND NOT EXISTS (SELECT 1 FROM excluded x WHERE x._file = d._file "
            "AND x._line = d._line)"
        )

    _STILL_IN = (
        "s._errors IS NULL AND NOT EXISTS (SELECT 1 FROM excluded x "
        "WHERE x._file = s._file AND x._line = s._line)"
    )

    def _exclude_erased(self, con) -> None:
        """Rows about people on the erasure suppression list — as the person, or as the
        counterparty of someone else's relationship — are refused (``erased``,
        ``erased_counterparty``)."""
        if self.suppressed is None:
            return
        if self._ids is None:
            # the batch's people, found once: the check under the lock asks about them again
            self._ids = [
                r[0]
                for r in con.execute(
                    "SELECT person_id FROM staged s WHERE s._errors IS NULL UNION "
                    "SELECT counterparty_id FROM staged s WHERE s._errors IS NULL "
                    "AND counterparty_id IS NOT NULL"
                ).fetchall()
            ]
        erased = self.suppressed(self._ids) if self._ids else set()
        if not erased:
            return
        con.register("erased", pa.table({"id": pa.array(sorted(erased), pa.string())}))
        try:
            con.execute(
                "INSERT INTO excluded SELECT s._file, s._line, CASE WHEN s.person_id IN "
                "(SELECT id FROM erased) THEN 'erased' ELSE 'erased_counterparty' END "
                f"FROM staged s WHERE {self._STILL_IN} AND (s.person_id IN (SELECT id FROM "
                "erased) OR s.counterparty_id IN (SELECT id FROM erased))"
            )
        finally:
            con.unregister("erased")

    def _exclude_without_consent(self, con) -> None:
        """Rows whose (person, source) the gate does not allow (status ``no_consent``)."""
        if self.consent_gate is no_consent_check:
            return
        if self._pairs is None:
            self._pairs = con.sql(
                "SELECT DISTINCT person_id, source FROM staged s WHERE s._errors IS NULL "
                "ORDER BY ALL"
            ).to_arrow_table()
        pairs = self._pairs
        allowed = self.consent_gate(pairs) if pairs.num_rows else None
        if allowed is None:
            return
        denied = pairs.filter(pc.invert(pc.fill_null(allowed, False)))
        if not denied.num_rows:
            return
        con.register("denied", denied)
        try:
            con.execute(
                "INSERT INTO excluded SELECT s._file, s._line, 'no_consent' FROM staged s "
                f"JOIN denied d USING (person_id, source) WHERE {self._STILL_IN}"
            )
        finally:
            con.unregister("denied")

    def _recheck(self, con, furnisher_id: str, seen: list[Segment], txn) -> bool:
        """(Under the writer lock.) Both checks again, for the rows they allowed before: a
        consent revoked (or a person erased) in between is honoured. Revocation and
        erasure commit to the registry first and purge the ledger under this lock after,
        so a batch that passes here either commits before that purge (and is purged with
        the rest) or sees the revocation. Then the ledger check for what changed since
        the snapshot. Whether any row was excluded that was not before."""
        before = self._excluded_count(con)
        self._exclude_erased(con)
        self._exclude_without_consent(con)
        now = txn.manifest.segments
        old = {s.file for s in seen}
        current = {s.file for s in now}
        if not old <= current:
            # rows removed (erasure, expiry, a resolved dispute): a duplicate found before
            # may be gone, so the ledger is compared again from the start
            con.execute("DELETE FROM excluded WHERE status IN ('duplicate', 'conflict')")
            self._check_ledger(con, furnisher_id, now)
            before = -1
        elif current != old:
            # only additions (another batch, a compaction's new files): compare with those
            self._check_ledger(con, furnisher_id, [s for s in now if s.file not in old])
        return self._excluded_count(con) != before

    def _check_ledger_unlocked(self, con, furnisher_id: str) -> list[Segment]:
        """The ledger check before the writer lock, on a snapshot of the manifest; the
        segments it compared with (the check under the lock compares the rest).

        Another writer may commit meanwhile and delete a file the snapshot names (a
        revocation's purge rewrites segments, compaction replaces them): the scan then
        fails on the missing file. Then nothing is compared here, and the check under
        the lock compares every segment — as ``remove_rows`` counts (``ledger/rewrite``)."""
        segments = self.ledger.snapshot().manifest.segments
        try:
            self._check_ledger(con, furnisher_id, segments)
        except duckdb.IOException:
            if all((self.ledger.root / s.file).exists() for s in segments):
                raise  # not a concurrent rewrite: the ledger's own problem, said as it is
            con.execute("DELETE FROM excluded WHERE status IN ('duplicate', 'conflict')")
            return []
        return segments

    def _check_ledger(self, con, furnisher_id: str, segments: list[Segment]) -> None:
        """The same id stored before: duplicate or conflict. ``segments`` are those to look
        in; only those that can hold this furnisher's rows are read, and of them first the
        ids alone."""
        furnisher_of = {b.batch_id: b.furnisher_id for b in self.ledger.manifest().batches}
        paths = [
            self.ledger.root / s.file
            for s in segments
            if s.batch_id is None or furnisher_of.get(s.batch_id, furnisher_id) == furnisher_id
        ]
        if not paths:
            return
        fid = sql_literal(furnisher_id)
        candidates = "SELECT * FROM staged s WHERE _errors IS NULL"
        if self._has_exclusions(con):
            candidates += (
                " AND NOT EXISTS (SELECT 1 FROM excluded x WHERE x._file = s._file "
                "AND x._line = s._line)"
            )
        con.execute(f"CREATE OR REPLACE TEMP VIEW candidates AS {candidates}")
        # matched by the ids' hashes first (integers: a smaller, faster join than on the
        # text), then exactly, on the few stored rows that matched
        con.execute(
            "CREATE OR REPLACE TEMP TABLE hits AS SELECT l.event_id, l.filename FROM "
            f"read_parquet({parquet_list(paths)}, filename = true) l "
            "SEMI JOIN candidates c ON hash(l.event_id) = c._h "
            f"WHERE l.furnisher_id = {fid}"
        )
        files = [r[0] for r in con.execute("SELECT DISTINCT filename FROM hits").fetchall()]
        if not files:
            return
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stored AS SELECT * FROM read_parquet("
            f"{parquet_list(sorted(files))}) l SEMI JOIN hits h ON l.event_id = h.event_id "
            f"WHERE l.furnisher_id = {fid}"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE matched AS SELECT c._part, c._file, c._line, "
            "c.event_id FROM candidates c SEMI JOIN stored l ON c.event_id = l.event_id"
        )
        if not con.execute("SELECT count(*) FROM matched").fetchall()[0][0]:
            return
        # their content is in the parts: the same rows, in the same order as their lines
        self._locate(con, "matched", "matched_at")
        rows = self._rows_of(con, "matched_at", EVENT_NAMES)
        same = " AND ".join(f'c."{c}" IS NOT DISTINCT FROM l."{c}"' for c in EVENT_NAMES)
        con.execute(
            "INSERT INTO excluded SELECT c._file, c._line, CASE WHEN "
            f"{same} THEN 'duplicate' ELSE 'conflict' END FROM ({rows}) c "
            "JOIN stored l USING (event_id)"
        )

    def _locate(self, con, table: str, out: str) -> None:
        """Table ``out``: the rows of ``table`` (``_part``, ``_file``, ``_line``,
        ``event_id``) with the part file and the row in it (``_path``, ``_pos``): a part
        holds the valid rows of its batch in the order of their lines."""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT t.*, f.path AS _path, p._pos "
            f"FROM {table} t JOIN (SELECT _part, _file, _line, row_number() OVER (PARTITION "
            "BY _part ORDER BY _file, _line) - 1 AS _pos FROM staged s WHERE _errors IS NULL "
            f"AND _part IN (SELECT _part FROM {table})) p USING (_part, _file, _line) "
            "JOIN part_files f USING (_part)"
        )

    def _rows_of(self, con, table: str, columns: list[str]) -> str:
        """SQL for the parts' rows that ``table`` locates (see ``_locate``): ``columns``
        of them, with their ``_file`` and ``_line``. Checked first: a row missing, or with
        another id than expected, stops the run (the work files would be out of step;
        nothing is committed)."""
        self._writer.wait()  # the parts are all written
        paths = [r[0] for r in con.execute(f"SELECT DISTINCT _path FROM {table}").fetchall()]
        source = (
            f"read_parquet({parquet_list(sorted(paths))}, filename = true, "
            f"file_row_number = true) p JOIN {table} t "
            "ON p.filename = t._path AND p.file_row_number = t._pos"
        )
        found, same = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE p.event_id IS NOT DISTINCT FROM "
            f"t.event_id) FROM {source}"
        ).fetchall()[0]
        wanted = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        if not found == same == wanted:
            raise StorageError(
                f"ingest work files out of step: {wanted} rows sought in the parts, "
                f"{found} found, {same} with the expected id; nothing was stored"
            )
        cols = ", ".join(f'p."{c}"' for c in columns)
        return f"SELECT {cols}, t._file, t._line FROM {source}"

    @staticmethod
    def _excluded_count(con) -> int:
        return int(con.execute("SELECT count(*) FROM excluded").fetchall()[0][0])

    @staticmethod
    def _has_exclusions(con) -> bool:
        return bool(con.execute("SELECT count(*) FROM excluded").fetchall()[0][0])

    def _count(self, con, result: IngestResult) -> None:
        valid, invalid = con.execute(
            "SELECT count(*) FILTER (WHERE _errors IS NULL), count(*) FILTER "
            "(WHERE _errors IS NOT NULL) FROM staged"
        ).fetchall()[0]
        counts = dict(con.execute("SELECT status, count(*) FROM excluded GROUP BY ALL").fetchall())
        result.accepted = valid - sum(counts.values())
        result.duplicates = counts.get("duplicate", 0)
        result.conflicts = counts.get("conflict", 0)
        result.no_consent = counts.get("no_consent", 0)
        result.erased = counts.get("erased", 0) + counts.get("erased_counterparty", 0)
        result.rejected = (
            invalid
            + result.no_consent
            + result.erased
            + counts.get("batch_duplicate", 0)
            + result.conflicts
            + result.unreadable
        )

    def _write_report(self, con, run_dir: Path, result: IngestResult) -> None:
        """The rejection report (CSV: file, line, field, value, reason) beside the run."""
        report = (
            "SELECT n.name AS file, s._line AS line, split_part(e, chr(31), 1) AS field, "
            "split_part(e, chr(31), 3) AS value, split_part(e, chr(31), 2) AS reason "
            "FROM (SELECT _file, _line, unnest(_errors) AS e FROM staged "
            "WHERE _errors IS NOT NULL) s JOIN file_names n USING (_file) "
            "UNION ALL SELECT n.name, x._line, "
            "CASE x.status WHEN 'no_consent' THEN 'source' WHEN 'erased' THEN 'person_id' "
            "WHEN 'erased_counterparty' THEN 'counterparty_id' ELSE 'event_id' END, "
            # an erased person's id is not written anywhere again, not even in a report
            "CASE WHEN x.status = 'no_consent' THEN s.source WHEN x.status LIKE 'erased%' "
            "THEN NULL ELSE s.event_id END, "
            "CASE x.status "
            "WHEN 'no_consent' THEN 'the person has not consented to this source: not stored' "
            "WHEN 'erased' THEN 'the person was erased (suppression list): not stored' "
            "WHEN 'erased_counterparty' THEN "
            "'the counterparty was erased (suppression list): not stored' "
            "WHEN 'batch_duplicate' THEN 'event_id appears earlier in this batch: first kept' "
            "WHEN 'conflict' THEN 'event_id already stored with different content (conflict)' "
            "END FROM excluded x JOIN staged s ON s._file = x._file AND s._line = x._line "
            "JOIN file_names n ON n._file = x._file WHERE x.status <> 'duplicate' "
            "UNION ALL SELECT file, line, field, value, reason FROM issues"
        )
        con.execute(f"CREATE TEMP TABLE report AS {report}")
        total = con.execute("SELECT count(*) FROM report").fetchall()[0][0]
        if not total:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "rejections.csv"
        con.execute(
            f"COPY (SELECT * FROM report ORDER BY file, line NULLS FIRST, field) "
            f"TO {sql_literal(str(path))} (HEADER, DELIMITER ',')"
        )
        result.report_path = str(path)
        result.top_reasons = [
            (f"{field}: {reason}" if field else reason, int(n))
            for field, reason, n in con.execute(
                "SELECT field, reason, count(*) FROM report GROUP BY ALL "
                "ORDER BY 3 DESC, 1, 2 LIMIT 10"
            ).fetchall()
        ]
        result.examples = [
            Rejection(*row).describe()
            for row in con.execute(
                "SELECT file, line, field, value, reason FROM report "
                "ORDER BY file, line NULLS FIRST LIMIT 5"
            ).fetchall()
        ]

    def _segments(self, con, work: Path, result, progress) -> list[Path]:
        """The batch's segment files (in the work directory): the parts as they are when
        every valid row is accepted and none is small; else the accepted rows written
        again from the parts, as one segment."""
        if progress:
            progress("writing segment", result.rows_read, 0)
        excluded = self._has_exclusions(con)
        if not excluded and (
            len(self._parts) == 1 or all(rows >= MIN_PART_ROWS for _, _, rows in self._parts)
        ):
            written = sum(rows for _, _, rows in self._parts)
            if written != result.accepted:
                raise StorageError(
                    f"ingest work files out of step: {result.accepted} rows accepted, "
                    f"{written} in the parts; nothing was stored"
                )
            return [path for _, path, _ in self._parts]
        self._rewrites += 1
        out = work / f"segment-{self._rewrites}.parquet"
        cols = ", ".join(f'p."{c}"' for c in [*EVENT_NAMES, "batch_id", "ingested_at"])
        paths = parquet_list([str(path) for _, path, _ in self._parts])
        if excluded:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE dropped AS SELECT s._part, s._file, s._line, "
                "s.event_id FROM staged s SEMI JOIN excluded x ON s._file = x._file "
                "AND s._line = x._line WHERE s._errors IS NULL"
            )
            self._locate(con, "dropped", "dropped_at")
            self._rows_of(con, "dropped_at", ["event_id"])  # checks they are where expected
            source = (
                f"read_parquet({paths}, filename = true, file_row_number = true) p "
                "ANTI JOIN dropped_at d ON p.filename = d._path AND p.file_row_number = d._pos"
            )
        else:
            source = f"read_parquet({paths}) p"
        with storage_guard(out):
            written = con.execute(
                f"COPY (SELECT {cols} FROM {source}) TO {sql_literal(str(out))} ({PARQUET_OPTIONS})"
            ).fetchall()[0][0]
        if written != result.accepted:
            raise StorageError(
                f"ingest work files out of step: {result.accepted} rows accepted, "
                f"{written} written; nothing was stored"
            )
        return [out]

    def _commit(self, txn, segments: list[Path], result, files) -> None:
        """(Under the writer lock.) Move the segment(s) into the ledger and commit them:
        all of the batch or none."""
        batch_id = _batch_id(result)
        for segment in segments:
            tmp, final = txn.new_segment_path()
            try:
                os.replace(segment, tmp)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copyfile(segment, tmp)  # the ledger is on another file system
            txn.add_segment(tmp, final, sorted=False, batch_id=batch_id)
        txn.commit(
            batch=Batch(
                batch_id=batch_id,
                furnisher_id=result.furnisher_id,
                accepted=result.accepted,
                duplicates=result.duplicates,
                rejected=result.rejected,
                committed_at=now_iso(),
                files=[str(f) for f in files],
            )
        )
        result.batch_id = batch_id


def _batch_id(result: IngestResult) -> str:
    return f"b-{result.run_id}"


def _plain(table: pa.Table, *, utf8_checked: bool) -> pa.Table:
    """Dictionary columns decoded (their values are checked like any other), and the rows
    in chunks DuckDB's threads can share. Text not ``utf8_checked`` by its reader (Parquet's
    is not; pyarrow's CSV reader checks it, and JSONL's values are Python strings) is
    checked here."""
    if any(pa.types.is_dictionary(f.type) for f in table.schema):
        table = pa.table(
            {
                f.name: table.column(i).cast(f.type.value_type)
                if pa.types.is_dictionary(f.type)
                else table.column(i)
                for i, f in enumerate(table.schema)
            }
        )
    # time-of-day and duration columns (never a ledger type) as text: DuckDB 2.0 turns some
    # Arrow times into invalid UTF-8 when it casts them itself
    for i, f in enumerate(table.schema):
        if pa.types.is_time(f.type) or pa.types.is_duration(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    if not utf8_checked:
        table = utf8_or_binary(table)
    return pa.Table.from_batches(table.to_batches(max_chunksize=_CHUNK_ROWS), table.schema)


_CHUNK_ROWS = 122_880


def write_keys(keys: pa.Table, path: Path) -> None:
    """A part's keys, written to be read back once or twice within the run: not
    compressed, the source as a dictionary, statistics only of the numbers (``_locate``
    skips row groups by the part); half the CPU of lz4 with every default."""
    pq.write_table(
        keys,
        path,
        compression="none",
        use_dictionary=["source"],
        write_statistics=["_part", "_file", "_line"],
    )


def _tables_of(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """The reader's batches (DuckDB hands them over a row group at a time) as tables of
    about ``rows`` rows: each at least ``rows``, and the rest of the file — when it is less
    than half of that — joined to the last one, so no part is small (see
    ``MIN_PART_ROWS``) unless the whole file is."""
    held: list[pa.RecordBatch] = []  # a whole table, given out once the next one starts
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        if count >= rows:
            if held:
                yield pa.Table.from_batches(held)
            held, pending, count = pending, [], 0
        pending.append(batch)
        count += batch.num_rows
    if held and count < rows // 2:
        held, pending = held + pending, []
    for group in (held, pending):
        if group:
            yield pa.Table.from_batches(group)


class _NotAsAssumed(Exception):
    """A batch read straight from a Parquet file held what its validation took it not to."""


def _write_json(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2, default=str))


def _duck_type(name: str) -> str:
    t = LEDGER_SCHEMA.field(name).type
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "VARCHAR"


#: a work directory without an owner in its name (an older version's) is left this long
_UNOWNED_GRACE_SECONDS = 24 * 3600


def _clean_stale_work(parent: Path) -> None:
    """Remove work directories of ingest runs whose process is gone (killed runs).

    The owner's pid is part of the directory's name (``ingest-RUN-pPID``), so a directory
    never exists without its owner being known; a run in this process (another thread)
    is never touched, and nor is a directory of unknown owner younger than a day.
    """
    if not parent.exists():
        return
    for d in parent.glob("ingest-*"):
        owner = _work_owner(d)
        if owner is None:
            try:
                age = time.time() - d.stat().st_mtime
            except OSError:
                continue
            if age < _UNOWNED_GRACE_SECONDS:
                continue
        elif owner == os.getpid() or _alive(owner):
            continue
        shutil.rmtree(d, ignore_errors=True)


def _work_owner(d: Path) -> int | None:
    """The pid a work directory's name records (None for a name without one)."""
    head, sep, pid = d.name.rpartition("-p")
    if sep and head and pid.isdigit():
        return int(pid)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
