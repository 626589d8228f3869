"""``openscore backup`` and ``openscore restore``: consistent while writers run; a restore
into an empty data directory gives identical scores and a verifying audit log; damaged
or interrupted backups and restores are refused or redone, never half-used."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from openscore import online, registry
from openscore.backup import check_backup, restore_backup, take_backup
from openscore.backup.catalog import Catalog
from openscore.errors import Conflict, IntegrityError, NotFound
from openscore.ledger import compact, pending_operations
from openscore.registry import audit, create_registry_engine, metadata, read_only
from reliability.harness import (
    World,
    check_integrity,
    fresh_events,
    id_set,
    make_world,
    run_child,
    trials,
    world_settings,
)

from fixtures.data import write_events
from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.slow


def _activity(world: World) -> None:
    """Published scores, a revocation, an erasure, a decision: a registry with history."""
    for person in world.people[:12]:
        online.publish(world.engine, person, actor="system", settings=world.settings)
    online.revoke_source(
        world.engine, world.people[2], "wallet", actor="subject", settings=world.settings
    )
    online.erase(world.engine, world.people[3], actor="subject", settings=world.settings)
    with world.engine.begin() as conn:
        registry.create_partner(conn, name="Bikes", actor="system", partner_id="bikes")
        registry.record_decision(
            conn,
            world.people[4],
            partner_id="bikes",
            product_id="bike",
            outcome="approve",
            terms={"deposit": 0},
            reasons=[],
            actor="partner:bikes",
        )
        audit.sign_tree_head(conn)


def _restored(world: World, root: Path, url: str | None) -> World:
    data_dir = root / "data"
    url = url or f"sqlite:///{data_dir / 'registry.sqlite'}"
    engine = create_registry_engine(url, secret_key=TEST_SECRET_KEY)
    return World(data_dir, url, engine, world_settings(data_dir, url), list(world.people))


def _tables(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as conn:
        out = {}
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [
                tuple(v for k, v in r._mapping.items() if k != "report_path") for r in rows
            ]
        return out


def _scores(world: World) -> dict[str, tuple]:
    out = {}
    with read_only(world.engine).connect() as conn:
        held = [p for p in world.people if registry.person_exists(conn, p)]
    for person in held:
        result, _ = online.rescore(person, settings=world.settings)
        out[person] = (
            result.score,
            result.band,
            result.dimensions,
            result.contributions,
            [(r.code, r.points_lost) for r in result.reasons],
            result.model_id,
        )
    return out


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("sqlite", "sqlite"),
        pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
        pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
        pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres),
    ],
)
def test_restore_gives_identical_scores_and_a_verifying_audit_log(
    source: str, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_database") if source == "postgresql" else None
    world = make_world(tmp_path / "live", url=url, people=16, batches=2, events=700)
    _activity(world)
    compact(world.ledger)
    done = take_backup(tmp_path / "backup", settings=world.settings, engine=world.engine)
    assert check_backup(done.path).registry_backend == source

    target_url = None
    if target == "postgresql":
        from fixtures.postgres import PostgresServer

        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = server.create_database()
        request.addfinalizer(lambda: server.drop_database(name))
        target_url = server.url(name)
    copy = _restored(world, tmp_path / "restored", target_url)
    result = restore_backup(done.path, settings=copy.settings, engine=copy.engine)
    assert result.pending == 0
    with read_only(world.engine).connect() as a, read_only(copy.engine).connect() as b:
        va, vb = audit.verify(a), audit.verify(b)
        assert vb.ok and (vb.tree_size, vb.root) == (va.tree_size, va.root)
        assert vb.heads_checked == 1
    assert _tables(copy.engine) == _tables(world.engine)
    assert id_set(copy.ledger) == id_set(world.ledger)
    assert _scores(copy) == _scores(world)  # identical, person by person
    check_integrity(copy, initial_people=world.people)
    copy.engine.dispose()


def test_backups_taken_while_writers_run_are_consistent(tmp_path: Path) -> None:
    """A writer thread ingests, revokes, erases and compacts without pause while backups
    are taken; every backup restores into a world that passes the integrity check (the
    registry and the ledger caught at one moment: no revoked source with rows, no erased
    person with rows, unless the backup also caught the intent that finishes it)."""
    world = make_world(tmp_path / "live", people=40, batches=3, events=600)
    stop = threading.Event()
    errors: list[BaseException] = []
    done_ops: list[str] = []

    def writer() -> None:
        rng = random.Random(3)
        i = 0
        try:
            while not stop.is_set():
                i += 1
                op = rng.choice(["ingest", "ingest", "revoke", "erase", "compact"])
                if op == "ingest":
                    path = write_events(
                        fresh_events(world, 800, seed=500 + i, prefix=f"live{i}-"),
                        tmp_path / f"live-{i}.parquet",
                    )
                    _ingest(world, path)
                elif op == "revoke":
                    with read_only(world.engine).connect() as conn:
                        shared = registry.consent_map(conn)
                    person = rng.choice(sorted(shared))
                    source = rng.choice(sorted(s.value for s in shared[person]))
                    online.revoke_source(
                        world.engine, person, source, actor="subject", settings=world.settings
                    )
                elif op == "erase":
                    person = rng.choice(world.people)
                    try:
                        online.erase(world.engine, person, actor="subject", settings=world.settings)
                    except NotFound:
                        pass
                else:
                    compact(world.ledger, force=True)
                done_ops.append(op)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    backups = []
    try:
        deadline = time.monotonic() + 120
        while len(backups) < trials("backup_live", 3) or len(set(done_ops)) < 4:
            assert time.monotonic() < deadline, done_ops
            time.sleep(0.3)
            backups.append(
                take_backup(
                    tmp_path / f"b{len(backups)}", settings=world.settings, engine=world.engine
                ).path
            )
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not errors, errors
    for k, path in enumerate(backups):
        copy = _restored(world, tmp_path / f"r{k}", None)
        restore_backup(path, settings=copy.settings, engine=copy.engine)
        check_integrity(copy, initial_people=world.people)
        online.recover(copy.engine, settings=copy.settings, min_age_seconds=0)
        assert pending_operations(copy.ledger) == []
        check_integrity(copy, initial_people=world.people)
        copy.engine.dispose()
    print(f"backups under load: {len(backups)} taken while {len(done_ops)} writes ran")


def _ingest(world: World, path: Path) -> None:
    from openscore.ingest import Ingester
    from openscore.online import registry_consent_gate

    Ingester(
        world.ledger, consent_gate=registry_consent_gate(world.engine), settings=world.settings
    ).run([path], "fx")


def test_damaged_interrupted_and_misdirected_restores(tmp_path: Path) -> None:
    world = make_world(tmp_path / "live", people=20, batches=2, events=500)
    # a backup killed half-way leaves no directory by the name asked for, and the live
    # ledger as it was; the next backup clears the staging it left. The kill lands at a
    # random moment of a whole run (a child's run, timed first from its "go" as the kills
    # are): a directory by that name, if the kill came after its rename, is a whole
    # backup. If no random kill landed before the rename, kills at half, a quarter ... of
    # the run follow until one does, so the test always sees an interrupted backup
    rng = random.Random(11)
    seconds = run_child(world, "backup", str(tmp_path / "timed"), kill_after=None).seconds
    killed_midway = 0
    n = trials("backup_kill", 3)
    k = 0
    while k < n or (killed_midway == 0 and k < n + 8):
        after = rng.uniform(0, seconds * 1.1) if k < n else seconds * 0.5 ** (k - n + 1)
        dest = tmp_path / f"killed-{k}"
        k += 1
        run = run_child(world, "backup", str(dest), kill_after=after)
        assert run.killed or run.returncode == 0, run.output
        if dest.exists():
            check_backup(dest)
        else:
            assert run.killed and "done" not in run.output
            killed_midway += 1
    print(f"backups killed: {killed_midway} of {k} before their rename")
    assert killed_midway >= 1
    good = take_backup(tmp_path / "backup", settings=world.settings, engine=world.engine).path
    assert not list(world.ledger.root.glob(".backup-*"))
    check_integrity(world)

    # a damaged backup: named, nothing written
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    segment = next((bad / "ledger" / "segments").iterdir())
    segment.write_bytes(segment.read_bytes()[:-10] + b"0123456789")
    target = _restored(world, tmp_path / "t1", None)
    with pytest.raises(IntegrityError, match=f"ledger/segments/{segment.name}: checksum"):
        restore_backup(bad, settings=target.settings, engine=target.engine)
    assert not (target.data_dir / "ledger").exists()
    (bad / "backup.json").unlink()
    with pytest.raises(IntegrityError, match="not a complete backup"):
        check_backup(bad)

    # another secret key: refused before anything is written
    other = target.settings.model_copy(update={"secret_key": SecretStr("another-key")})
    with pytest.raises(IntegrityError, match="another OPENSCORE_SECRET_KEY"):
        restore_backup(good, settings=other)

    # an interrupted restore is redone by running it again
    env = {
        **world.env(),
        "OPENSCORE_DATA_DIR": str(target.data_dir),
        "OPENSCORE_REGISTRY_URL": target.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "openscore", "restore", str(good)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (target.data_dir / ".restore-incomplete").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    restore_backup(good, settings=target.settings, engine=target.engine)
    assert id_set(target.ledger) == id_set(world.ledger)
    check_integrity(target, initial_people=world.people)

    # never over a directory that holds data
    with pytest.raises(Conflict, match="not empty"):
        restore_backup(good, settings=target.settings, engine=target.engine)
    assert Catalog.load(good).ledger_rows == len(id_set(world.ledger))
    target.engine.dispose()
