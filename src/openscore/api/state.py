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

from openscore.api.metrics import Metrics
from openscore.api.ratelimit import (
    AttemptLimiter,
    LoginLimiter,
    PerSecond,
    key_prefix,
    redis_client,
    redis_windows,
)
from openscore.api.sessions import EnrolmentCodes, SessionSigner
from openscore.api.settings import ApiSettings
from openscore.config import Settings
from openscore.decisions import Catalogue, default_catalogue, load_catalogue
from openscore.jobs.history import history_job
from openscore.jobs.housekeeping import (
    Housekeeper,
    Job,
    Writer,
    compaction_job,
    expiry_job,
    sequencer_job,
)
from openscore.ledger import Ledger
from openscore.online import current_model, scoring_date
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


def housekeeping_jobs(
    settings: Settings, api: ApiSettings, ledger: Ledger, write: Writer
) -> list[Job]:
    """The background jobs of a server or ``openscore worker``, from the settings."""
    return [
        sequencer_job(write, max_merge_delay=api.audit_max_merge_delay_seconds),
        compaction_job(
            ledger,
            above_segments=api.compact_above_segments,
            memory_limit=api.compact_memory_limit,
            threads=api.compact_threads,
        ),
        expiry_job(
            ledger, retention_years=settings.retention_years, interval=api.expiry_interval_seconds
        ),
        history_job(
            ledger,
            write,
            load_card=lambda: current_model(settings),
            today=lambda: scoring_date(settings),
            engine_name=settings.engine,
            interval=api.history_interval_seconds,
        ),
    ]


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
    #: attestation checks per client address (the API's and the public page's together)
    verifications: AttemptLimiter
    #: decisions per partner per second (``api.partner_decisions_per_second``)
    partner_rate: PerSecond
    public_records: PublicRecordIndex
    #: SQLite has one writer at a time: they queue in :class:`SqliteWriters`
    _writers: SqliteWriters | None = None
    jobs: dict[str, dict] = field(default_factory=dict)
    #: background jobs under leases (audit sequencer, compaction, expiry), if enabled
    housekeeper: Housekeeper | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def build_housekeeper(self) -> Housekeeper:
        """The jobs this process offers to run (each runs only where its lease is held)."""
        return Housekeeper(
            write=self.write,
            jobs=housekeeping_jobs(self.settings, self.api, self.ledger, self.write),
        )

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
        client = redis_client(api.redis_url) if api.redis_url else None
        prefix = key_prefix(engine.url.render_as_string(hide_password=True))
        shared = redis_windows(client, prefix) if client is not None else None
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
                make=shared,
            ),
            signups=AttemptLimiter(
                api.signups_per_ip, api.signup_window_seconds, make=shared, name="signups"
            ),
            costly=AttemptLimiter(
                api.costly_requests_per_person,
                api.costly_window_seconds,
                make=shared,
                name="costly",
            ),
            verifications=AttemptLimiter(
                api.attestation_verifications_per_ip,
                api.attestation_verify_window_seconds,
                make=shared,
                name="attestation-checks",
            ),
            partner_rate=PerSecond(
                api.partner_decisions_per_second,
                client=client,
                prefix=f"{prefix}:decisions",
            ),
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
