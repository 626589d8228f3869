"""Taking a backup while the service runs.

The ledger and the registry are caught at one moment: under the ledger's writer lock
(held for milliseconds) the manifest is read, the segments it names are hard-linked into
a staging directory beside the ledger (so a compaction or an erasure that deletes them a
moment later cannot take them from under the copy), and the registry's snapshot is taken
(SQLite: ``VACUUM INTO``; PostgreSQL: the first query of a REPEATABLE READ transaction).
Erasures and revocations write their intent to the ledger before they touch the
registry (``ledger/pending.py``), so a backup that sees a registry step also holds the
intent, and a restore finishes it: an erased person never comes back from a backup.

Then, without any lock, the segments are *copied* (a hard link shares the bytes: a
damaged disk block would damage the backup too) and checked against the checksums the
manifest recorded at write time, the registry rows are streamed out of their snapshot,
and the model, report, graph and run files are copied. Everything lands in
``.NAME.partial-PID`` beside the destination, with a checksum per file in
``backup.json``, written last; the directory is renamed to its name only then. A
backup that was killed leaves its ``.NAME.partial-PID`` behind; the next backup into the
same parent directory removes every such directory whose process is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore.backup.catalog import Catalog, record
from openscore.backup.registry_copy import (
    SQLITE_FILE,
    export_rows,
    open_snapshot,
    sqlite_facts,
    vacuum_into,
)
from openscore.config import Secret, Settings, get_settings
from openscore.errors import Conflict, IntegrityError
from openscore.ledger import Ledger, Manifest
from openscore.ledger.durable import fsync_dir, fsync_file, storage_error
from openscore.registry import derive_audit_key, engine_from_settings, ensure_current
from openscore.registry.metadata import audit_state

#: directories of the data directory copied as they are (besides ledger and registry)
FILE_TREES = ("models", "reports", "graph", "runs")
_STAGE_PREFIX = ".backup-"


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    catalog: Catalog
    seconds: float


def key_check(secret_key: Secret) -> str:
    """A fingerprint of the audit key that reveals nothing about it."""
    key = derive_audit_key(secret_key)
    return hmac.new(key, b"openscore.backup.key-check.v1", hashlib.sha256).hexdigest()[:32]


def take_backup(
    dest: Path, *, settings: Settings | None = None, engine: Engine | None = None
) -> BackupResult:
    """Back up the data directory of ``settings`` (ledger, registry, models, reports,
    graph snapshot, ingest runs) into the new directory ``dest``."""
    started = time.perf_counter()
    settings = settings or get_settings()
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} exists and is not empty: back up into a new directory")
    work = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    remove_stale_partials(dest.parent)
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise storage_error(exc, work) from exc
    own_engine = engine is None
    engine = engine or engine_from_settings(settings)
    ledger = Ledger.open(settings)
    stage = ledger.root / f"{_STAGE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        ensure_current(engine)
        catalog = _take(work, stage, ledger, engine, settings)
        catalog.save(work)
        fsync_dir(work)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        raise storage_error(exc, dest) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        if own_engine:
            engine.dispose()
    return BackupResult(dest, catalog, time.perf_counter() - started)


def _take(work: Path, stage: Path, ledger: Ledger, engine: Engine, settings: Settings) -> Catalog:
    _remove_stale_stages(ledger.root)
    registry_dir = work / "registry"
    registry_dir.mkdir()
    backend = engine.dialect.name
    snapshot = None
    manifest_bytes: bytes | None = None
    # -- one moment: the ledger's manifest and the registry's snapshot ---------------
    with ledger.writing() as txn:
        manifest = txn.manifest
        if ledger.manifest_path.exists():
            manifest_bytes = ledger.manifest_path.read_bytes()
        stage.mkdir()
        for seg in manifest.segments:
            _link_or_copy(ledger.root / seg.file, stage / Path(seg.file).name)
        if backend == "sqlite":
            vacuum_into(engine, registry_dir / SQLITE_FILE)
        else:
            snapshot = open_snapshot(engine)
    # -- the copies, with writers running again --------------------------------------
    if snapshot is not None:
        try:
            counts = export_rows(snapshot, registry_dir)
            revision = snapshot.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar_one()
            audit_size = snapshot.execute(sa.select(audit_state.c.size)).scalar_one()
        finally:
            snapshot.rollback()
            snapshot.close()
        registry_format = "rows"
    else:
        revision, audit_size, counts = sqlite_facts(registry_dir / SQLITE_FILE)
        registry_format = "sqlite-file"
    catalog = Catalog(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        openscore_version=package_version("openscore"),
        source_data_dir=str(settings.data_dir.absolute()),
        registry_format=registry_format,
        registry_backend=backend,
        registry_revision=str(revision),
        audit_key_check=key_check(settings.secret_key),
        audit_size=int(audit_size),
        ledger_manifest_version=manifest.version,
        ledger_segments=len(manifest.segments),
        ledger_rows=manifest.rows,
        registry_rows=counts,
    )
    for path in sorted(registry_dir.iterdir()):
        record(catalog, work, path)
    _copy_segments(manifest, stage, work, catalog)
    if manifest_bytes is not None:
        path = work / "ledger" / "manifest.json"
        path.write_bytes(manifest_bytes)
        fsync_file(path)
        record(catalog, work, path)
    for tree in FILE_TREES:
        _copy_tree(settings.data_dir / tree, work / tree, work, catalog)
    return catalog


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # a file system without hard links: copy while holding the lock
        shutil.copyfile(src, dest)


def _copy_segments(manifest: Manifest, stage: Path, work: Path, catalog: Catalog) -> None:
    segments = work / "ledger" / "segments"
    segments.mkdir(parents=True)
    for seg in manifest.segments:
        target = work / "ledger" / seg.file
        shutil.copyfile(stage / Path(seg.file).name, target)
        fsync_file(target)
        entry = record(catalog, work, target)
        if entry.sha256 != seg.sha256:
            raise IntegrityError(
                f"segment {seg.file} does not match the checksum recorded when it was "
                "written: the live ledger is damaged (openscore ledger verify names it; "
                "repair it from an earlier backup before taking a new one)"
            )
    fsync_dir(segments)


def _copy_tree(src: Path, dest: Path, work: Path, catalog: Catalog) -> None:
    """Copy regular files (not temporaries: names starting with a dot) of ``src``.

    ``models/current`` goes first: a model installed meanwhile writes its file before
    moving the pointer, so the pointer copied always names a file that is copied too."""
    if not src.is_dir():
        return
    files = sorted(
        (p for p in src.rglob("*") if p.is_file() and not p.name.startswith(".")),
        key=lambda p: (p.name != "current", str(p)),
    )
    for path in files:
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, target)
        except FileNotFoundError:
            continue  # removed while we copied (a report replaced): it was not needed
        fsync_file(target)
        record(catalog, work, target)


_PARTIAL = re.compile(r"^\..+\.partial-(\d+)$")


def remove_stale_partials(parent: Path) -> list[Path]:
    """Remove the ``.NAME.partial-PID`` directories in ``parent`` of backups whose process
    is gone (killed, or the machine restarted); returns what was removed. A directory of a
    live process (a backup still running) is left alone."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for path in parent.iterdir():
        match = _PARTIAL.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or not a pid we can ask about): keep it
    return True


def _remove_stale_stages(root: Path) -> None:
    """Staging directories of backups that were killed (their process is gone)."""
    if not root.exists():
        return
    for stage in root.glob(f"{_STAGE_PREFIX}*"):
        try:
            pid = int(stage.name[len(_STAGE_PREFIX) :].split("-")[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(stage, ignore_errors=True)
        except PermissionError:
            pass
