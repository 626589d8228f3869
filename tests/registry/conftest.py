"""Fixtures of the registry tests: a migrated engine on each backend (``registry_engine``
from ``fixtures/postgres.py``) and a few people and partners on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from openscore import registry

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OPERATOR = "operator:ops"


@pytest.fixture()
def engine(registry_engine: Engine) -> Engine:
    return registry_engine


@pytest.fixture()
def make_person(engine: Engine) -> Callable[..., str]:
    """Create a person (committed) and return their id."""

    def make(person_id: str | None = None) -> str:
        with engine.begin() as conn:
            return registry.create_person(conn, actor="system", person_id=person_id).id

    return make


@pytest.fixture()
def alice(make_person: Callable[..., str]) -> str:
    return make_person("alice-0001")


@pytest.fixture()
def bob(make_person: Callable[..., str]) -> str:
    return make_person("bob-0002")


@pytest.fixture()
def make_partner(engine: Engine) -> Callable[..., str]:
    def make(partner_id: str, role: str = "partner") -> str:
        with engine.begin() as conn:
            return registry.create_partner(
                conn,
                name=partner_id.title(),
                actor=OPERATOR,
                role=role,  # type: ignore[arg-type]
                partner_id=partner_id,
            ).id

    return make


@pytest.fixture()
def bikes(make_partner: Callable[..., str]) -> str:
    return make_partner("bikes")


@pytest.fixture()
def lender(make_partner: Callable[..., str]) -> str:
    return make_partner("lender")
