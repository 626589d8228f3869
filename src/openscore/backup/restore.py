"""Restoring a backup into an empty data directory (and an empty registry database).

Order: every file of the backup is checked against its checksum first (nothing is
written from a damaged backup); the audit key is compared with the one the backup was
made under (another key would make every MAC of the audit log fail). Then the registry
(SQLite file copy, or rows loaded into a database migrated to the backup's revision —
either backend from either), the model/report/graph/run files, the ledger's segments and
last its manifest. ``DATA_DIR/.restore-incomplete`` exists from the first write to the
last: a restore that was interrupted is undone and redone by running it again. At the
end the audit log is verified and the ledger checked against its manifest.

Erasures and revocations that the backup caught half-way (their intent in the ledger's
manifest) are finished by the service once it runs, or by ``openscore ledger verify
--repair``: a person erased after the backup's registry snapshot never comes back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore.backup.catalog import Catalog, check
from openscore.backup.registry_copy import SQLITE_FILE, copy_sqlite_file, ensure_empty, load
from openscore.backup.take import FILE_TREES, key_check
from openscore.config import Settings, get_settings
from openscore.errors import Conflict, IntegrityError
from openscore.ledger import Ledger, Manifest, pending_operations
from openscore.ledger import verify as verify_ledger
from openscore.ledger.durable import atomic_write_bytes, fsync_dir, fsync_file
from openscore.registry import (
    audit,
    create_registry_engine,
    current_revision,
    head_revision,
    metadata,
    read_only,
    upgrade,
)
from openscore.registry.metadata import ingestion_runs

MARKER = ".restore-incomplete"


@dataclass(slots=True)
class RestoreResult:
    catalog: Catalog
    registry_rows: dict[str, int] = field(default_factory=dict)
    audit_size: int = 0
    ledger_rows: int = 0
    #: erasures and revocations caught half-way, to be finished by the service
    pending: int = 0
    seconds: float = 0.0


def check_backup(src: Path) -> Catalog:
    """The backup's catalog, after checking every file; :class:`IntegrityError` naming
    what is damaged or missing."""
    catalog = Catalog.load(src)
    problems = check(src, catalog)
    if problems:
        raise IntegrityError(
            f"the backup in {src} is damaged, nothing was restored: " + "; ".join(problems[:10])
        )
    return catalog


def restore_backup(
    src: Path, *, settings: Settings | None = None, engine: Engine | None = None
) -> RestoreResult:
    """Restore the backup in ``src`` into the (empty) data directory and registry of
    ``settings``."""
    started = time.perf_counter()
    settings = settings or get_settings()
    src = Path(src).absolute()
    catalog = check_backup(src)
    if catalog.audit_key_check != key_check(settings.secret_key):
        raise IntegrityError(
            "this backup was made under another OPENSCORE_SECRET_KEY: restored with this "
            "one, no MAC of the audit log would verify — set the key the service used"
        )
    data_dir = settings.data_dir.absolute()
    marker = data_dir / MARKER
    own_engine = engine is None
    engine = engine or create_registry_engine(
        settings.resolved_registry_url, secret_key=settings.secret_key
    )
    try:
        if marker.exists():
            _undo(settings, engine, marker)
        _refuse_if_not_empty(settings)
        data_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(
            marker,
            json.dumps({"backup": str(src), "registry": _url_id(engine)}).encode(),
        )
        result = RestoreResult(catalog)
        result.registry_rows = _restore_registry(src, catalog, engine)
        _fix_report_paths(engine, catalog.source_data_dir, str(data_dir))
        for tree in FILE_TREES:
            _copy_files(src, tree, data_dir)
        _restore_ledger(src, catalog, Ledger.open(settings))
        with read_only(engine).connect() as conn:
            verdict = audit.verify(conn)
        if not verdict.ok:
            raise IntegrityError(f"the restored audit log does not verify: {verdict.problem}")
        report = verify_ledger(Ledger.open(settings))
        if not report.ok:
            problems = "; ".join(report.problems)
            raise IntegrityError(f"the restored ledger does not verify: {problems}")
        result.audit_size = verdict.tree_size
        result.ledger_rows = report.rows
        result.pending = len(pending_operations(Ledger.open(settings)))
        marker.unlink()
        fsync_dir(data_dir)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        if own_engine:
            engine.dispose()


def _url_id(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database).absolute()


def _refuse_if_not_empty(settings: Settings) -> None:
    data_dir = settings.data_dir
    taken = [
        name
        for name in ("ledger/manifest.json", "models/current", "registry.sqlite")
        if (data_dir / name).exists()
    ]
    if taken:
        raise Conflict(
            f"{data_dir} is not empty ({', '.join(taken)} exist): restore into an empty "
            "data directory"
        )


def _restore_registry(src: Path, catalog: Catalog, engine: Engine) -> dict[str, int]:
    sqlite_target = _sqlite_path(engine)
    if catalog.registry_format == "sqlite-file" and sqlite_target is not None:
        if sqlite_target.exists():
            ensure_empty(engine)  # Conflict if it holds data; an empty one is replaced
        engine.dispose()  # no connection may stay on the file being replaced
        copy_sqlite_file(src / "registry" / SQLITE_FILE, sqlite_target)
    else:
        if catalog.registry_revision != head_revision():
            raise Conflict(
                f"the backup's registry is at revision {catalog.registry_revision}, this "
                f"openscore at {head_revision()}: restore it with the version that made it "
                f"({catalog.openscore_version}) into SQLite, then upgrade"
            )
        if ensure_empty(engine):
            if current_revision(engine) != catalog.registry_revision:
                raise Conflict("the target registry is migrated to another revision")
        else:
            upgrade(engine, catalog.registry_revision)
        if catalog.registry_format == "sqlite-file":
            with tempfile.TemporaryDirectory() as scratch:
                copy = Path(scratch) / SQLITE_FILE
                shutil.copyfile(src / "registry" / SQLITE_FILE, copy)
                load(engine, sqlite_file=copy)
        else:
            load(engine, files=src / "registry")
    with engine.connect() as conn:
        counts = {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }
    if counts != catalog.registry_rows:
        raise IntegrityError(
            f"the restored registry holds {counts}, the backup recorded {catalog.registry_rows}"
        )
    return counts


def _fix_report_paths(engine: Engine, old: str, new: str) -> None:
    """Ingestion runs name their rejection reports by absolute path: move them along."""
    if old == new:
        return
    col = ingestion_runs.c.report_path
    with engine.begin() as conn:
        conn.execute(
            ingestion_runs.update()
            .where(col.like(old.replace("%", r"\%").replace("_", r"\_") + "/%", escape="\\"))
            .values(report_path=sa.func.replace(col, old + "/", new + "/"))
        )


def _copy_files(src: Path, tree: str, data_dir: Path) -> None:
    base = src / tree
    if not base.is_dir():
        return
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        target = data_dir / tree / path.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        fsync_file(target)


def _restore_ledger(src: Path, catalog: Catalog, ledger: Ledger) -> None:
    manifest_path = src / "ledger" / "manifest.json"
    if not manifest_path.exists():
        return
    raw = manifest_path.read_bytes()
    manifest = Manifest.from_json(raw, manifest_path)
    ledger.segments_dir.mkdir(parents=True, exist_ok=True)
    for seg in manifest.segments:
        target = ledger.root / seg.file
        shutil.copyfile(src / "ledger" / seg.file, target)
        fsync_file(target)
    fsync_dir(ledger.segments_dir)
    atomic_write_bytes(ledger.manifest_path, raw)  # last: the ledger exists from here on


def _undo(settings: Settings, engine: Engine, marker: Path) -> None:
    """Remove what an interrupted restore wrote, so that it can run again."""
    try:
        wrote = json.loads(marker.read_text())
    except (OSError, ValueError):
        wrote = {}
    data_dir = settings.data_dir
    for name in ("ledger", *FILE_TREES):
        shutil.rmtree(data_dir / name, ignore_errors=True)
    sqlite_target = _sqlite_path(engine)
    if sqlite_target is not None:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_target}{suffix}").unlink(missing_ok=True)
    elif wrote.get("registry") == _url_id(engine):
        # the same database the interrupted restore was loading: empty it again
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    else:
        raise Conflict(
            f"{marker} says an interrupted restore loaded another registry "
            f"({wrote.get('registry')}): empty it by hand, or restore into a new directory"
        )
    marker.unlink()
