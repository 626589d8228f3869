"""Credentials: argon2id hashes, never the password; answers that do not tell why."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry.metadata import credentials

PASSWORD = "correct horse battery"


def test_set_verify_and_refuse(engine: Engine, alice: str, bob: str) -> None:
    with engine.begin() as conn:
        registry.set_credentials(
            conn, alice, login=" Alice@Example.org ", password=PASSWORD, actor="subject"
        )
    with engine.connect() as conn:
        stored = conn.execute(sa.select(credentials.c.login, credentials.c.password_hash)).one()
        assert stored.login == "alice@example.org"
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert registry.verify_password(conn, "ALICE@example.org", PASSWORD) == alice
        assert registry.verify_password(conn, "alice@example.org", PASSWORD + "!") is None
        assert registry.verify_password(conn, "nobody@example.org", PASSWORD) is None
        assert registry.login_of(conn, alice) == "alice@example.org"
        assert registry.login_of(conn, bob) is None

    cases = [
        ("ab", PASSWORD, "login"),
        ("a b@x.org", PASSWORD, "login"),
        ("a@x.org", "short", "password"),
    ]
    for login, password, field in cases:
        with pytest.raises(InputError) as err:
            with engine.begin() as conn:
                registry.set_credentials(conn, bob, login=login, password=password, actor="subject")
        assert err.value.field == field
    with pytest.raises(NotFound):
        with engine.begin() as conn:
            registry.set_credentials(
                conn, "nobody", login="x@example.org", password=PASSWORD, actor="subject"
            )
    with pytest.raises(Conflict, match="taken"):
        with engine.begin() as conn:
            registry.set_credentials(
                conn, bob, login="alice@example.org", password=PASSWORD, actor="subject"
            )
