"""Engine settings per backend, and the conventions every table relies on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.config import Settings
from openscore.errors import IntegrityError, StorageError
from openscore.registry.metadata import people


def test_engine_settings_and_timestamps(engine: Engine, registry_backend: str) -> None:
    if registry_backend == "sqlite":  # WAL, foreign keys on, a busy timeout
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    else:
        # no pre-ping per checkout (docs/reliability.md): a connection a restarted server
        # killed fails once, answers 503 + Retry-After, and the pool replaces it
        assert not engine.pool._pre_ping  # type: ignore[attr-defined]

    # Timestamps come back aware and in UTC; naive ones are refused.
    at = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(people.insert().values(id="p", created_at=at))
        stored = conn.execute(sa.select(people.c.created_at)).scalar_one()
    assert stored == at and stored.tzinfo == UTC
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with engine.begin() as conn:
            conn.execute(people.insert().values(id="q", created_at=datetime(2025, 1, 1)))


def test_readers_do_not_wait_for_a_writer(engine: Engine, alice: str) -> None:
    reader = registry.read_only(engine)
    with engine.begin() as writer:
        registry.lock_file(writer, alice, actor="subject")  # holds the write lock, uncommitted
        started = time.monotonic()
        with reader.connect() as conn:
            assert not registry.is_locked(conn, alice)  # sees the last committed state
        assert time.monotonic() - started < 2  # the busy timeout is 10 s
    with reader.connect() as conn:
        assert registry.is_locked(conn, alice)


def test_appending_without_the_audit_key_is_refused(engine: Engine) -> None:
    keyless = registry.create_registry_engine(str(engine.url.render_as_string(False)))
    try:
        with pytest.raises(IntegrityError, match="no audit key|no secret key"):
            with keyless.begin() as conn:
                registry.create_person(conn, actor="system")
        with keyless.connect() as conn:
            assert registry.audit.tree_size(conn) == 0
            result = registry.audit.verify(conn)  # hashes still check without the key
            assert result.ok and not result.macs_checked
    finally:
        keyless.dispose()


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(StorageError, match="unsupported registry backend"):
        registry.create_registry_engine("mysql://x@localhost/db")


def test_engine_from_settings_uses_the_data_dir_and_the_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "d", secret_key="s3cret")
    engine = registry.engine_from_settings(settings)
    try:
        assert engine.url.database == str((tmp_path / "d" / "registry.sqlite").resolve())
        key = engine.get_execution_options()["openscore_audit_key"]
        assert key == registry.derive_audit_key("s3cret") != b"s3cret"
    finally:
        engine.dispose()
