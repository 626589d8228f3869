"""Alembic environment for the registry.

Run from code (:func:`openscore.registry.upgrade`) the engine arrives in
``config.attributes["engine"]``; run from the ``alembic`` command line (developers, with
``-c src/openscore/registry/alembic.ini``) the URL comes from ``-x url=...`` or else the
settings (``OPENSCORE_REGISTRY_URL`` or the SQLite file in the data directory).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from openscore.registry.engine import create_registry_engine
from openscore.registry.metadata import metadata

config = context.config


def _engine() -> tuple[Engine, bool]:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine, False
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url is None:
        from openscore.config import get_settings

        url = get_settings().resolved_registry_url
    return create_registry_engine(url), True


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or "sqlite://"
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine, owned = _engine()
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
