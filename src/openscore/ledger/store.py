"""The ledger: append-only Parquet segments named by an atomically committed manifest.

Layout under the ledger root::

    manifest.json        the committed list of segments (see manifest.py)
    segments/*.parquet   immutable segment files, LEDGER_SCHEMA
    .lock                held (flock) by the one writer at a time

Writers take the lock, write new files, commit a new manifest, then delete files the
manifest no longer names. Readers never lock: they load the manifest and read the files
it names, retrying once if a concurrent change removed one in between.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from openscore.config import Settings, get_settings
from openscore.domain.events import (
    ALL_COLUMNS,
    COMMON_COLUMNS,
    LEDGER_COLUMNS,
    LEDGER_SCHEMA,
    Kind,
)
from openscore.engines.duckdb import connect, parquet_list, sql_literal
from openscore.errors import IntegrityError, StorageError
from openscore.ledger.durable import fsync_dir, publish_file, sha256_file
from openscore.ledger.manifest import Manifest, Segment, commit_manifest, load_manifest, now_iso

#: rows per Parquet row group: small enough that one person's rows are found by statistics
ROW_GROUP_ROWS = 122_880

#: columns of few distinct values: dictionary-encoded when pyarrow writes a segment. Ids,
#: amounts and times are written plain: their dictionaries would be as large as the
#: column, and trying them on every column made the write of 10 M rows 6.2 CPU s instead
#: of 4.5 (``docs/data-format.md``)
DICTIONARY_COLUMNS: tuple[str, ...] = tuple(
    c.name
    for c in ALL_COLUMNS
    if c.kind in (Kind.ENUM, Kind.CURRENCY, Kind.BOOL) or c.name in ("furnisher_id", "batch_id")
)


#: the ledger's schema as its segment files hold it: the columns every row has (the common
#: ones and the ledger's own) required, as DuckDB's ``COPY`` of validated rows marks them
#: — a ledger's files read back into one Arrow table only if they agree
_REQUIRED = {c.name for c in COMMON_COLUMNS + LEDGER_COLUMNS}
SEGMENT_FILE_SCHEMA = pa.schema([f.with_nullable(f.name not in _REQUIRED) for f in LEDGER_SCHEMA])


def write_segment_file(table: pa.Table, path: Path) -> int:
    """Write ``table`` (the ledger's columns, in any compatible types) as a segment file in
    the ledger's form (zstd, row groups of ``ROW_GROUP_ROWS``) with pyarrow, which encodes
    it for about a third of the CPU of DuckDB's ``COPY`` and lets go of the GIL while it
    does; the rows written."""
    # (``cast`` keeps the table's own nullability: the schema is set afterwards)
    typed = table.select(SEGMENT_FILE_SCHEMA.names).cast(LEDGER_SCHEMA)
    pq.write_table(
        pa.Table.from_arrays(typed.columns, schema=SEGMENT_FILE_SCHEMA),
        path,
        compression="zstd",
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=list(DICTIONARY_COLUMNS),
    )
    return table.num_rows


#: how many ingest batches and removals the manifest keeps on record. Older batch records
#: are kept only while a segment still names them (``repair`` reads them); the manifest is
#: rewritten on every commit, so an unbounded history made every write slower and the
#: manifest grew about 1 MB an hour in the soak.
HISTORY_KEPT = 256


@dataclass(slots=True)
class Snapshot:
    """A consistent view: one manifest version and the absolute paths of its segments."""

    manifest: Manifest
    paths: list[Path]

    @property
    def empty(self) -> bool:
        return not self.paths


class Ledger:
    """Handle on a ledger directory. Cheap to create; holds no open files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.segments_dir = self.root / "segments"
        self.manifest_path = self.root / "manifest.json"
        self.lock_path = self.root / ".lock"

    @classmethod
    def open(cls, settings: Settings | None = None) -> Ledger:
        return cls((settings or get_settings()).ledger_dir)

    # -- reading -----------------------------------------------------------------------

    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    def snapshot(self) -> Snapshot:
        manifest = self.manifest()
        return Snapshot(manifest, [self.root / s.file for s in manifest.segments])

    def read_person(
        self,
        person_id: str,
        columns: list[str] | None = None,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> pa.Table:
        """Every row of one person (``columns``: only those), found through segment ranges
        and row-group statistics; ``con``: a DuckDB connection to read with (else one of
        its own).

        Read with DuckDB: its Parquet reader skips the row groups whose statistics leave
        the person out and scans the rest in a few milliseconds, where a pyarrow dataset
        over the same files took ~150 ms (``benchmarks/revocation.py``). Columns a
        segment lacks come back null, as the ledger's schema says."""
        wanted = (
            LEDGER_SCHEMA
            if columns is None
            else pa.schema([LEDGER_SCHEMA.field(c) for c in columns])
        )
        for attempt in range(3):
            manifest = self.manifest()
            paths = [str(self.root / s.file) for s in manifest.segments if s.may_hold(person_id)]
            if not paths:
                return wanted.empty_table()
            try:
                return _person_rows(con, paths, person_id, wanted)
            except duckdb.IOException as exc:
                gone = [p for p in paths if not os.path.exists(p)]
                if not gone:
                    raise
                if attempt == 2:  # not a concurrent rewrite: the file is gone
                    raise IntegrityError(
                        f"a segment the ledger's manifest names is missing ({gone[0]})"
                        ": run openscore ledger verify"
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[WriteTxn]:
        """The exclusive writer: lock, clean leftovers, yield a transaction."""
        try:
            self.segments_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot open the ledger at {self.root}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            txn = WriteTxn(self, self.manifest())
            txn.removed_leftovers = txn.remove_leftovers()
            yield txn
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class WriteTxn:
    """Changes made under the writer lock; nothing is visible until :meth:`commit`."""

    def __init__(self, ledger: Ledger, manifest: Manifest) -> None:
        self.ledger = ledger
        self.manifest = manifest
        self._new: list[Segment] = []
        self._drop: set[str] = set()
        #: leftovers of interrupted writes removed when the transaction began
        self.removed_leftovers: list[Path] = []

    def new_segment_path(self) -> tuple[Path, Path]:
        """A (temporary, final) pair of paths for a segment about to be written."""
        name = f"seg-{uuid.uuid4().hex}.parquet"
        final = self.ledger.segments_dir / name
        return final.with_name(f".{name}.tmp"), final

    def add_segment(self, tmp: Path, final: Path, *, sorted: bool, batch_id: str | None) -> Segment:
        """Publish a finished temporary segment file (durable, but not yet in the manifest)."""
        publish_file(tmp, final)
        segment = describe_segment(self.ledger.root, final, sorted=sorted, batch_id=batch_id)
        self._new.append(segment)
        return segment

    def drop_segment(self, segment: Segment) -> None:
        self._drop.add(segment.file)

    def commit(self, *, batch=None, removal: dict | None = None) -> Manifest:
        """Commit the new manifest; afterwards delete the files it no longer names."""
        manifest = self.manifest
        manifest.segments = [s for s in manifest.segments if s.file not in self._drop]
        manifest.segments.extend(self._new)
        if batch is not None:
            manifest.batches.append(batch)
        if removal is not None:
            manifest.removals.append({"at": now_iso(), **removal})
        _trim_history(manifest)
        commit_manifest(self.ledger.manifest_path, manifest)
        for file in self._drop:
            (self.ledger.root / file).unlink(missing_ok=True)
        if self._drop:
            fsync_dir(self.ledger.segments_dir)
        self._new, self._drop = [], set()
        return manifest

    def remove_leftovers(self) -> list[Path]:
        """Delete segment files and temporaries that no committed manifest names."""
        # compared as strings: a Path per segment made this ~70 ms on ~800 segments, and
        # every writer runs it when it takes the lock
        root = str(self.ledger.root)
        named = {os.path.normpath(os.path.join(root, s.file)) for s in self.manifest.segments}
        removed: list[Path] = []
        with os.scandir(self.ledger.segments_dir) as entries:
            leftovers = [Path(e.path) for e in entries if os.path.normpath(e.path) not in named]
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        return removed


def _person_rows(
    con: duckdb.DuckDBPyConnection | None, paths: list[str], person_id: str, wanted: pa.Schema
) -> pa.Table:
    own = con is None
    con = connect() if con is None else con
    try:
        table = con.sql(
            f"SELECT * FROM read_parquet({parquet_list(paths)}, union_by_name = true) "
            f"WHERE person_id = {sql_literal(person_id)}"
        ).to_arrow_table()
    finally:
        if own:
            con.close()
    return pa.table(
        [
            table[f.name].cast(f.type)
            if f.name in table.column_names
            else pa.nulls(table.num_rows, f.type)
            for f in wanted
        ],
        schema=wanted,
    )


def _trim_history(manifest: Manifest) -> None:
    """Keep the last :data:`HISTORY_KEPT` removals, and the last batches plus any batch a
    segment still names."""
    del manifest.removals[:-HISTORY_KEPT]
    if len(manifest.batches) > HISTORY_KEPT:
        named = {s.batch_id for s in manifest.segments if s.batch_id}
        cut = len(manifest.batches) - HISTORY_KEPT
        manifest.batches = [
            b for i, b in enumerate(manifest.batches) if i >= cut or b.batch_id in named
        ]


def describe_segment(root: Path, path: Path, *, sorted: bool, batch_id: str | None) -> Segment:
    """Row count, person range and checksum of a written segment file."""
    meta = pq.ParquetFile(path).metadata
    idx = meta.schema.names.index("person_id")
    lo: str | None = None
    hi: str | None = None
    for rg in range(meta.num_row_groups):
        stats = meta.row_group(rg).column(idx).statistics
        if stats is None or not stats.has_min_max:
            lo = hi = None
            break
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    return Segment(
        file=str(path.relative_to(root)),
        rows=meta.num_rows,
        bytes=path.stat().st_size,
        sha256=sha256_file(path),
        min_person=lo,
        max_person=hi,
        sorted=sorted,
        created_at=now_iso(),
        batch_id=batch_id,
    )
