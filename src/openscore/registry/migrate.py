"""Running the registry's Alembic migrations from code (no ``alembic.ini`` at run time).

The migrations ship inside the package (``registry/migrations``); :func:`upgrade` builds
Alembic's configuration in memory and runs them on a URL or an engine. ``alembic.ini``
beside this module is only for developers writing a new revision (see docs/registry.md).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from openscore.errors import StorageError
from openscore.registry.engine import create_registry_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration for our migrations; with ``engine``, bound to it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise StorageError("the registry package ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Bring the database at ``target`` (a URL or an engine) up to ``revision``."""
    engine = create_registry_engine(target) if isinstance(target, str) else target
    try:
        command.upgrade(alembic_config(engine), revision)
    except sa.exc.OperationalError as exc:
        raise StorageError(f"cannot migrate the registry: {exc.orig}") from exc
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade(target: str | Engine, revision: str) -> None:
    """Step the database back to ``revision`` (``base``: empty)."""
    engine = create_registry_engine(target) if isinstance(target, str) else target
    try:
        command.downgrade(alembic_config(engine), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def ensure_current(engine: Engine) -> None:
    """:class:`StorageError` unless the database is at the package's head revision."""
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise StorageError(f"cannot reach the registry: {exc.orig}") from exc
    head = head_revision()
    if current != head:
        raise StorageError(
            f"the registry schema is at {current or 'nothing'}, not {head}: "
            "run the migrations (openscore.registry.upgrade)"
        )
