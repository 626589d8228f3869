"""What one running app holds: settings, the registry engine, the catalogue, the limiters.

Built once by :func:`openscore.api.app.create_api` and kept on ``app.state.openscore``;
routes reach it through :data:`openscore.api.deps.StateDep`. Nothing here is global, so
two apps (two tests, two databases) never share state.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from openscore.api.ratelimit import AttemptLimiter, LoginLimiter
from openscore.api.sessions import EnrolmentCodes, SessionSigner
from openscore.api.settings import ApiSettings
from openscore.config import Settings
from openscore.decisions import Catalogue, default_catalogue, load_catalogue
from openscore.ledger import Ledger
from openscore.registry import create_registry_engine, read_only
from openscore.services.records import PublicRecordIndex


class SqliteWriters:
    """Writers of one SQLite file queue here: the threads of this process on a lock,
    the processes (several workers) on an ``flock`` beside the database. Both wake the
    next writer the moment the last one is done, where SQLite's own busy handler sleeps
    1, 2, 5, 10 ... ms between retries — a short write would wait far longer than the
    one before it took."""

    def __init__(self, database: Path) -> None:
        self._threads = threading.Lock()
        self._path = database.with_name(database.name + ".writers")
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _writers(engine: Engine) -> SqliteWriters | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return SqliteWriters(Path(database).resolve())


@dataclass
class AppState:
    settings: Settings
    api: ApiSettings
    engine: Engine
    reader: Engine
    catalogue: Catalogue
    ledger: Ledger
    sessions: SessionSigner
    enrolment: EnrolmentCodes
    logins: LoginLimiter
    signups: AttemptLimiter
    costly: AttemptLimiter
    public_records: PublicRecordIndex
    #: SQLite has one writer at a time: they queue in :class:`SqliteWriters`
    _writers: SqliteWriters | None = None
    jobs: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def build(
        cls, settings: Settings, api: ApiSettings, *, engine: Engine | None = None
    ) -> AppState:
        if engine is None:
            if settings.resolved_registry_url.startswith("sqlite:///"):
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            engine = create_registry_engine(
                settings.resolved_registry_url,
                secret_key=settings.secret_key,
                pool_size=api.pool_size,
                max_overflow=api.pool_max_overflow,
            )
        ledger = Ledger.open(settings)
        catalogue = (
            load_catalogue(api.catalogue_path) if api.catalogue_path else default_catalogue()
        )
        return cls(
            settings=settings,
            api=api,
            engine=engine,
            reader=read_only(engine),
            catalogue=catalogue,
            ledger=ledger,
            sessions=SessionSigner(
                settings.secret_key, max_age_seconds=api.session_max_age_seconds
            ),
            enrolment=EnrolmentCodes(
                settings.secret_key, max_age_seconds=api.enrolment_code_max_age_seconds
            ),
            logins=LoginLimiter(
                per_account=api.login_failures_per_account,
                per_ip=api.login_failures_per_ip,
                window=api.login_window_seconds,
            ),
            signups=AttemptLimiter(api.signups_per_ip, api.signup_window_seconds),
            costly=AttemptLimiter(api.costly_requests_per_person, api.costly_window_seconds),
            public_records=PublicRecordIndex(ledger),
            _writers=_writers(engine),
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (commit on success, roll back on error)."""
        with self._writers or contextlib.nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction (SQLite: deferred, so it never queues for writers)."""
        with self.reader.connect() as conn:
            yield conn
