"""The registry in a backup, and back.

SQLite: ``VACUUM INTO`` — a consistent, compact copy of the database file made by one
read transaction, so the service keeps running (WAL readers never block its writer).

PostgreSQL: every table's rows, read inside **one** ``REPEATABLE READ, READ ONLY``
transaction — one snapshot, so the copy is consistent (each committed transaction is in
it whole or not at all: the audit log and the rows it describes always agree) while the
service keeps writing. We do not shell out to ``pg_dump``: its major version must be at
least the server's (a client upgrade would be an ops step the backup depends on), its
archive restores only into PostgreSQL, and a copy of rows through the same table
definitions the application uses restores into either backend (a production backup can
be opened on a laptop's SQLite to answer a dispute) with one tested code path. At sizes
where a logical copy is too slow, use PostgreSQL's own physical backups (``pg_basebackup``
and WAL archiving); see docs/reliability.md.

Rows are files ``<table>.jsonl.gz``: a header line ``{"table", "columns"}``, then one JSON
array per row, in primary-key order. Times are ISO 8601 in UTC, binary values base64,
JSON columns as JSON. Restoring loads them in foreign-key order into a database migrated
to the backup's revision, then moves PostgreSQL's sequences past the highest ids.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from openscore.errors import Conflict, IntegrityError, StorageError
from openscore.ledger.durable import fsync_dir, fsync_file
from openscore.registry.metadata import UTCDateTime, metadata

#: rows fetched and inserted per round trip
BATCH = 1000
SQLITE_FILE = "registry.sqlite"


def _kind(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, UTCDateTime):
        return "time"
    if isinstance(t, sa.LargeBinary):
        return "bytes"
    if isinstance(t, sa.JSON):
        return "json"
    return "plain"


def _encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "time":
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "time":
        return datetime.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value)
    return value


def vacuum_into(engine: Engine, dest: Path) -> None:
    """A consistent copy of a SQLite registry into the new file ``dest``."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if driver is None:
            raise StorageError("the SQLite registry connection is closed: no copy made")
        driver.execute("VACUUM INTO ?", (str(dest),))
    finally:
        raw.close()
    fsync_file(dest)


def open_snapshot(engine: Engine) -> Connection:
    """A PostgreSQL connection inside a REPEATABLE READ, READ ONLY transaction whose
    snapshot is already taken (by a first query): what it reads is fixed from here on."""
    conn = engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    conn.begin()
    conn.execute(sa.text("SELECT count(*) FROM alembic_version")).all()
    return conn


def export_rows(conn: Connection, dest: Path) -> dict[str, int]:
    """Every registry table's rows into ``dest/<table>.jsonl.gz``; rows per table."""
    dest.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in metadata.sorted_tables:
        kinds = [_kind(c) for c in table.columns]
        path = dest / f"{table.name}.jsonl.gz"
        n = 0
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            header = {"table": table.name, "columns": [c.name for c in table.columns]}
            fh.write(json.dumps(header).encode() + b"\n")
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                sa.select(table).order_by(*table.primary_key.columns)
            )
            for row in result:
                line = [_encode(v, k) for v, k in zip(row, kinds, strict=True)]
                fh.write(json.dumps(line, separators=(",", ":"), allow_nan=False).encode())
                fh.write(b"\n")
                n += 1
        fsync_file(path)
        counts[table.name] = n
    fsync_dir(dest)
    return counts


def _rows_from_files(src: Path, table: sa.Table) -> Iterator[dict[str, Any]]:
    path = src / f"{table.name}.jsonl.gz"
    with gzip.open(path, "rb") as fh:
        header = json.loads(fh.readline())
        columns = header["columns"]
        known = {c.name: _kind(c) for c in table.columns}
        if header.get("table") != table.name or set(columns) != set(known):
            raise IntegrityError(
                f"{path}: columns {columns} do not match table {table.name} of this version"
            )
        kinds = [known[c] for c in columns]
        for line in fh:
            values = json.loads(line)
            yield {c: _decode(v, k) for c, v, k in zip(columns, values, kinds, strict=True)}


def _rows_from_engine(conn: Connection, table: sa.Table) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        sa.select(table).order_by(*table.primary_key.columns)
    )
    for row in result:
        yield dict(row._mapping)


def table_counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for t in metadata.sorted_tables
    }


def ensure_empty(engine: Engine) -> bool:
    """Whether the target database has the registry's tables already (migrated, empty);
    :class:`Conflict` if any holds data: a restore never merges into a live registry."""
    names = set(sa.inspect(engine).get_table_names())
    ours = {t.name for t in metadata.sorted_tables}
    if not names & ours:
        return False
    with engine.connect() as conn:
        counts = table_counts(conn)
        audit_size = conn.execute(
            sa.text("SELECT coalesce(max(size), 0) FROM audit_state")
        ).scalar_one()
    busy = sorted(t for t, n in counts.items() if n and t != "audit_state")
    if busy or audit_size:
        raise Conflict(
            "the target registry already holds data ("
            + ", ".join(busy[:5] or ["audit log"])
            + "): restore into an empty database"
        )
    return True


def load(target: Engine, *, files: Path | None = None, sqlite_file: Path | None = None) -> dict:
    """Load a backup's rows (``files``: a rows directory; ``sqlite_file``: a SQLite copy,
    which is opened read-write: pass a scratch copy) into ``target``, migrated and empty;
    rows per table."""
    from openscore.registry import create_registry_engine

    source_engine = create_registry_engine(f"sqlite:///{sqlite_file}") if sqlite_file else None
    counts: dict[str, int] = {}
    try:
        source = source_engine.connect() if source_engine is not None else None
        try:
            with target.begin() as conn:
                conn.execute(metadata.tables["audit_state"].delete())
                for table in metadata.sorted_tables:
                    rows = (
                        _rows_from_engine(source, table)
                        if source is not None
                        else _rows_from_files(files, table)  # type: ignore[arg-type]
                    )
                    counts[table.name] = _insert(conn, table, rows)
                if target.dialect.name == "postgresql":
                    _advance_sequences(conn)
        finally:
            if source is not None:
                source.close()
    finally:
        if source_engine is not None:
            source_engine.dispose()
    return counts


def _insert(conn: Connection, table: sa.Table, rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            n += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        n += len(batch)
    return n


def _advance_sequences(conn: Connection) -> None:
    """Rows came with their ids: move each serial column's sequence past the highest."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True and isinstance(column.type, sa.Integer):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                        f'coalesce(max("{column.name}"), 1), max("{column.name}") IS NOT NULL) '
                        f'FROM "{table.name}"'
                    ),
                    {"t": table.name, "c": column.name},
                )


def sqlite_facts(path: Path) -> tuple[str | None, int, dict[str, int]]:
    """Revision, audit log size and rows per table of a SQLite copy, read without
    changing the file (a plain engine would switch it to WAL)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
        size = con.execute("SELECT coalesce(max(size), 0) FROM audit_state").fetchone()[0]
        counts = {
            t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
            for t in metadata.sorted_tables
        }
    finally:
        con.close()
    return (revision[0] if revision else None), int(size), counts


def copy_sqlite_file(src: Path, dest: Path) -> None:
    """Put a SQLite copy in place as the registry file (written beside, then renamed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    tmp = dest.with_name(f".{dest.name}.restore")
    shutil.copyfile(src, tmp)
    fsync_file(tmp)
    os.replace(tmp, dest)
    fsync_dir(dest.parent)
