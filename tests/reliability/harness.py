"""A small complete world for fault injection, and the integrity check every scenario
ends with.

:func:`make_world` builds a data directory with a registry (SQLite file or a PostgreSQL
database), registered people with their consents, the expert scorecard in service and a
ledger of several uncompacted segments ingested through the registry's consent gate.

:func:`check_integrity` is the one check: the ledger against its manifest (checksums,
row counts) with no (furnisher, event id) stored twice; the registry's own constraints
(SQLite ``integrity_check`` and ``foreign_key_check``; PostgreSQL enforces its own) and
at most one open consent per person and source; the audit log verifies; and across the
two stores: no ledger row of a person the registry no longer holds, nor of a source the
person does not share — unless an erasure or revocation of exactly that is pending (a
crash left it, ``online.recover`` finishes it).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore.config import Settings
from openscore.ledger import Ledger, pending_operations, verify
from openscore.registry import audit, consent_map, create_registry_engine, read_only, upgrade
from openscore.registry.metadata import consents, people

from fixtures.data import make_events, write_events
from fixtures.postgres import TEST_SECRET_KEY

AS_OF = date(2025, 9, 1)
SOURCES = ("wallet", "credit", "rentals", "profile", "social")
PASSWORD = "a long enough password"
CHILD = Path(__file__).with_name("crash_child.py")


def trials(name: str, default: int) -> int:
    """Trial count of a scenario: ``OPENSCORE_<NAME>_TRIALS`` (defaults sized for CI)."""
    return int(os.environ.get(f"OPENSCORE_{name.upper()}_TRIALS", default))


@dataclass
class World:
    data_dir: Path
    url: str
    engine: Engine
    settings: Settings
    people: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return Ledger.open(self.settings)

    def env(self) -> dict[str, str]:
        """The environment of a child process working on this world."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPENSCORE_")},
            "OPENSCORE_DATA_DIR": str(self.data_dir),
            "OPENSCORE_REGISTRY_URL": self.url,
            "OPENSCORE_SECRET_KEY": TEST_SECRET_KEY,
            "OPENSCORE_ENVIRONMENT": "test",
            "OPENSCORE_AS_OF": AS_OF.isoformat(),
        }

    def ingest(self, table: pa.Table, path: Path, furnisher: str = "fx") -> int:
        from openscore.ingest import Ingester
        from openscore.online import registry_consent_gate, registry_suppression_check

        write_events(table, path)
        gate = registry_consent_gate(self.engine)
        suppressed = registry_suppression_check(self.engine)
        return (
            Ingester(self.ledger, consent_gate=gate, suppressed=suppressed, settings=self.settings)
            .run([path], furnisher)
            .accepted
        )


def fresh_events(world: World, n: int, *, seed: int, prefix: str) -> pa.Table:
    """``n`` events over the world's people, less rows naming anyone erased: furnishers
    that know of an erasure send nothing more about the person (what the ledger does
    with data naming an erased person again: docs/reliability.md)."""
    with read_only(world.engine).connect() as conn:
        held = set(conn.execute(sa.select(people.c.id)).scalars())
    gone = pa.array(sorted(set(world.people) - held), pa.string())
    table = make_events(n, seed=seed, people=len(world.people), prefix=prefix)
    names = pc.or_kleene(
        pc.is_in(table["person_id"], gone), pc.is_in(table["counterparty_id"], gone)
    )
    return table.filter(pc.invert(pc.fill_null(names, False)))


def world_settings(data_dir: Path, url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        registry_url=url,
        secret_key=TEST_SECRET_KEY,
        environment="test",
        as_of=AS_OF,
    )


def make_world(
    root: Path,
    *,
    url: str | None = None,
    people: int = 40,
    batches: int = 4,
    events: int = 1_000,
) -> World:
    """Registered people sharing most sources, the expert model, a ledger of ``batches``
    segments of ``events`` events each (not compacted)."""
    from openscore import registry
    from openscore.features.expert import expert_scorecard
    from openscore.online import install_model

    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{data_dir / 'registry.sqlite'}"
    engine = create_registry_engine(url, secret_key=TEST_SECRET_KEY)
    upgrade(engine)
    settings = world_settings(data_dir, url)
    ids = [f"p{i:05d}" for i in range(people)]
    with engine.begin() as conn:
        for i, person in enumerate(ids):
            registry.create_person(conn, actor="system", person_id=person)
            for j, source in enumerate(SOURCES):
                if (i + j) % 7 != 0:  # everyone keeps a source or two to themselves
                    registry.grant_consent(conn, person, source, actor="subject")
    install_model(expert_scorecard().save(root / "expert.json"), settings)
    world = World(data_dir, url, engine, settings, ids)
    for b in range(batches):
        table = make_events(events, seed=100 + b, people=people, prefix=f"w{b}-")
        world.ingest(table, root / f"world-{b}.parquet")
    return world


def partner_and_subjects(
    world: World, n_people: int = 6
) -> tuple[str, dict[str, str], dict[tuple[str, str], bool]]:
    """A partner ``bikes`` and its key, a grant to it from each of the first
    ``n_people`` people, log-ins for them (``PERSON@example.org``, :data:`PASSWORD`);
    returns (key, grant id per person, whether each (person, source) is shared)."""
    from openscore import registry

    chosen = world.people[:n_people]
    grants = {}
    with world.engine.begin() as conn:
        registry.create_partner(conn, name="Bikes", actor="system", partner_id="bikes")
        key = registry.create_api_key(conn, "bikes", label="t", actor="system").secret
        for person in chosen:
            grants[person] = registry.create_grant(
                conn,
                person,
                partner_id="bikes",
                products=["bike"],
                purpose="deposit_waiver",
                expires_at=datetime.now(UTC) + timedelta(days=30),
                actor="subject",
            ).id
            registry.set_credentials(
                conn, person, login=f"{person}@example.org", password=PASSWORD, actor="system"
            )
        shared = consent_map(conn, chosen)
    state = {
        (p, s): s in {x.value for x in shared.get(p, frozenset())} for p in chosen for s in SOURCES
    }
    return key, grants, state


def login(url: str, person: str):
    """A client logged in as ``person`` (made by :func:`partner_and_subjects`), with its
    CSRF header set."""
    import httpx

    client = httpx.Client(base_url=url, timeout=30)
    answer = client.post("/v1/login", json={"login": f"{person}@example.org", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


# -- observing the state -------------------------------------------------------------------


def ledger_rows(
    ledger: Ledger, columns: tuple[str, ...] = ("furnisher_id", "event_id")
) -> pa.Table:
    import pyarrow.parquet as pq

    snap = ledger.snapshot()
    if snap.empty:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    tables = [pq.read_table(p, columns=list(columns)) for p in snap.paths]
    return pa.concat_tables(tables, promote_options="permissive")  # nullability varies


def id_set(ledger: Ledger) -> frozenset[str]:
    rows = ledger_rows(ledger)
    return frozenset(
        f"{f}/{e}"
        for f, e in zip(rows["furnisher_id"].to_pylist(), rows["event_id"].to_pylist(), strict=True)
    )


def digest(ids: frozenset[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def check_integrity(world: World, *, initial_people: list[str] | None = None) -> None:
    """The integrity check every scenario ends with (see the module docstring)."""
    ledger = world.ledger
    report = verify(ledger, deep=True)
    assert report.ok, report.problems
    assert report.duplicate_ids == 0
    engine = read_only(world.engine)
    with engine.connect() as conn:
        if world.engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        doubled = conn.execute(
            sa.select(consents.c.person_id, consents.c.source)
            .where(consents.c.revoked_at.is_(None))
            .group_by(consents.c.person_id, consents.c.source)
            .having(sa.func.count() > 1)
        ).all()
        assert doubled == [], doubled
        verdict = audit.verify(conn)
        assert verdict.ok, verdict.problem
        registered = set(conn.execute(sa.select(people.c.id)).scalars())
        shared = consent_map(conn)
    pending = pending_operations(ledger)
    erasing = {p.person_id for p in pending if p.kind == "erasure"}
    purging = {(p.person_id, p.source) for p in pending if p.kind == "consent_purge"}
    rows = ledger_rows(ledger, ("person_id", "source", "counterparty_id"))
    personal = rows.filter(pc.not_equal(rows["source"], "public_records"))
    for person, source in {
        (p, s)
        for p, s in zip(
            personal["person_id"].to_pylist(), personal["source"].to_pylist(), strict=True
        )
    }:
        if person in erasing or (person, source) in purging:
            continue
        assert person in registered, f"ledger rows of {person}, whom the registry erased"
        assert source in {s.value for s in shared.get(person, frozenset())}, (
            f"ledger rows of {person}'s {source}, which they do not share"
        )
    gone = set(initial_people or world.people) - registered - erasing
    if gone:
        named = set(rows["person_id"].to_pylist()) | set(rows["counterparty_id"].to_pylist())
        assert not (named & gone), f"erased people still in the ledger: {named & gone}"


# -- killing a child at a random moment ----------------------------------------------------


@dataclass
class ChildRun:
    killed: bool
    seconds: float
    returncode: int
    output: str


def start_child(world: World, *args: str) -> tuple[subprocess.Popen, list[str]]:
    """Start ``crash_child.py ARGS`` on the world and wait for its ``go``; its further
    output is collected into the returned list by a thread."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        env=world.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "go":
        proc.kill()
        raise AssertionError(f"the child did not start: {line}{proc.stdout.read()}")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    proc.reader = reader  # type: ignore[attr-defined]
    return proc, lines


def run_child(world: World, *args: str, kill_after: float | None, timeout: float = 120) -> ChildRun:
    """Run ``crash_child.py ARGS`` on the world; SIGKILL it ``kill_after`` seconds after
    it says ``go`` (its imports and setup done), or let it finish (``None``)."""
    proc, lines = start_child(world, *args)
    started = time.monotonic()
    try:
        proc.wait(timeout=timeout if kill_after is None else kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    seconds = time.monotonic() - started
    proc.reader.join(timeout=10)  # type: ignore[attr-defined]
    return ChildRun(proc.returncode == -signal.SIGKILL, seconds, proc.returncode, "".join(lines))


# -- the service as a process ----------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``openscore serve`` on the world, as a child process whose log goes to a file:
    started, killed with SIGKILL, started again on the same port."""

    def __init__(self, world: World, log: Path, *, log_level: str = "info", **env: str) -> None:
        self.world = world
        self.log_level = log_level
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **world.env(),
            "OPENSCORE_ENVIRONMENT": "production",
            "OPENSCORE_API_COOKIE_SECURE": "false",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        import httpx

        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "openscore",
                    "serve",
                    "--port",
                    str(self.port),
                    "--log-level",
                    self.log_level,
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# -- a PostgreSQL server of our own, to restart --------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster started for one test (``initdb`` as the unprivileged user the
    test fixtures use), so that stopping and restarting it disturbs no one else's server."""

    def __init__(self) -> None:
        import tempfile

        from fixtures.postgres import _installed_postgres, _system_user

        self.bindir = _installed_postgres()
        self.uid, self.gid = _system_user()
        # under /tmp, not pytest's tmp_path: the server's user must reach it
        self.root = Path(tempfile.mkdtemp(prefix="openscore-pg-restart-"))
        self.datadir = self.root / "pgdata"
        self.port = free_port()
        os.chown(self.root, self.uid, self.gid)
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-N",
            "-E",
            "UTF8",
            "--locale=C",
        )

    def _run(self, tool: str, *args: str) -> None:
        kw: dict = {"cwd": self.root, "capture_output": True, "text": True}
        if os.geteuid() == 0:
            kw |= {"user": self.uid, "group": self.gid, "extra_groups": []}
        env = {"PATH": f"{self.bindir}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run([str(self.bindir / tool), *args], env=env, check=False, **kw)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=100"
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-w",
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        import shutil

        try:
            self.stop("immediate")
        except AssertionError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
