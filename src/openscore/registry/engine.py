"""Engines for the registry: SQLite for a laptop, PostgreSQL in production.

SQLite is tuned for a web server in front of it: WAL (readers never block the writer),
foreign keys on (they are off by default, and erasure relies on ``ON DELETE CASCADE``), a
busy timeout instead of an immediate "database is locked", and ``BEGIN IMMEDIATE`` for
every transaction that may write. The last one matters for the audit log: a deferred
SQLite transaction that reads and then writes can fail at once with ``SQLITE_BUSY`` when
another writer got there first; an immediate one waits its turn (up to the busy timeout),
so appends are serialised instead of failing. Readers that never write can use
:func:`read_only`, whose transactions begin deferred and do not queue for the write lock.

PostgreSQL runs without ``pool_pre_ping``: a ping is one more round trip on every
checkout, the largest single cost of a decision there. A connection that a restarted
server killed fails its first statement instead; SQLAlchemy then sees a disconnect and
discards every pooled connection older than it, and the API answers that one request
503 with ``Retry-After`` (``api/errors.py``) — after which the pool is fresh. The audit
log serialises its appends with a row lock there; decisions do not append but queue
(``registry/sequencer.py``).

The audit key (for the MACs of tree heads) travels with the engine as an execution
option, so every repository function can stay ``f(conn, ...)`` without a key argument.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from openscore.config import Secret, Settings, get_settings, reveal
from openscore.errors import StorageError

#: Execution option under which the engine carries the derived audit key.
AUDIT_KEY_OPTION = "openscore_audit_key"
#: Execution option: this engine or connection only reads (SQLite then begins DEFERRED).
READ_ONLY_OPTION = "openscore_read_only"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def derive_audit_key(secret_key: Secret) -> bytes:
    """The audit log's MAC key, derived so the raw settings secret is used for one thing only."""
    return hmac.new(reveal(secret_key), b"openscore.audit.head-key.v1", hashlib.sha256).digest()


def create_registry_engine(
    url: str, *, secret_key: Secret | None = None, echo: bool = False, **engine_kw: Any
) -> Engine:
    """An engine for ``url`` (``sqlite:///FILE`` or ``postgresql+psycopg://...``).

    ``secret_key`` keys the audit log's tree-head MACs; an engine without one can read,
    migrate and verify hashes, but refuses to append to the audit log.
    """
    backend = sa.make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(url, echo=echo, **engine_kw)
        _tune_sqlite(engine)
    elif backend == "postgresql":
        engine_kw.setdefault("pool_pre_ping", False)
        engine = sa.create_engine(url, echo=echo, **engine_kw)
    else:
        raise StorageError(f"unsupported registry backend {backend!r}: use sqlite or postgresql")
    if secret_key is not None:
        engine = engine.execution_options(**{AUDIT_KEY_OPTION: derive_audit_key(secret_key)})
    return engine


def engine_from_settings(settings: Settings | None = None) -> Engine:
    """The registry engine the settings describe (URL and secret key)."""
    settings = settings or get_settings()
    url = settings.resolved_registry_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return create_registry_engine(url, secret_key=settings.secret_key)


def read_only(engine: Engine) -> Engine:
    """The same engine for reading only: on SQLite its transactions begin ``DEFERRED``, so
    readers do not queue behind one another for the write lock (PostgreSQL readers never
    block, and nothing changes there)."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def audit_key(conn: Connection) -> bytes | None:
    """The audit key the connection's engine carries, if any."""
    key = conn.get_execution_options().get(AUDIT_KEY_OPTION)
    return key if isinstance(key, bytes) else None


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours (and so that
        # SAVEPOINTs work): the documented recipe for SQLAlchemy with pysqlite.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power cut
            # can lose the last commits, which is SQLite's documented trade-off.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")
