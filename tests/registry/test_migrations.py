"""The migrations build the schema from nothing on both backends, and match the tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from openscore import registry
from openscore.errors import StorageError
from openscore.registry.metadata import metadata


def test_upgrade_from_empty_reaches_head_and_matches_the_metadata(registry_url: str) -> None:
    engine = registry.create_registry_engine(registry_url, secret_key="k")
    try:
        assert registry.current_revision(engine) is None
        with pytest.raises(StorageError, match="run the migrations"):
            registry.ensure_current(engine)

        registry.upgrade(registry_url)

        assert registry.current_revision(engine) == registry.head_revision()
        registry.ensure_current(engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
            assert diff == []
            assert registry.audit.tree_size(conn) == 0
            assert registry.audit.verify(conn).ok
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_reverses_it(registry_url: str) -> None:
    registry.upgrade(registry_url)
    registry.upgrade(registry_url)  # a second run is a no-op
    registry.downgrade(registry_url, "base")
    engine = registry.create_registry_engine(registry_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    engine = registry.create_registry_engine(registry_url)
    try:
        registry.upgrade(engine)  # and up again from empty, given an engine this time
        assert registry.current_revision(engine) == registry.head_revision()
    finally:
        engine.dispose()


def test_the_migrations_ship_inside_the_package() -> None:
    from openscore.registry.migrate import MIGRATIONS_DIR

    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert any((MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    # one chain: every migration but the first names the one before, and the head is the
    # one no other migration names (numbers are given per branch and re-chained on merge)
    import re

    chain = {}
    for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"):
        text = path.read_text()
        rev = re.search(r'^revision: str = "(\w+)"', text, re.M).group(1)
        down = re.search(r"^down_revision: str \| None = (None|\"(\w+)\")", text, re.M)
        chain[rev] = down.group(2)
    downs = [d for d in chain.values() if d is not None]
    assert len(downs) == len(set(downs)) == len(chain) - 1  # a single line, no branches
    (head,) = set(chain) - set(downs)
    assert registry.head_revision() == head
