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


def test_a_stale_hash_is_upgraded_in_a_write_of_its_own(
    engine: Engine, alice: str, bob: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking a password only reads, even when the stored hash has stale parameters: a
    deferred read that later wrote would fail at once on SQLite if anyone committed in
    between (what made logins answer 503 under load). The upgrade is its own write, and
    it does not overwrite a password changed meanwhile."""
    from argon2 import PasswordHasher

    from openscore.registry import credentials as module
    from openscore.registry.engine import read_only

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(module, "_hasher", cheap)
    with engine.begin() as conn:
        registry.set_credentials(
            conn, alice, login="alice@x.org", password=PASSWORD, actor="subject"
        )
    monkeypatch.setattr(module, "_hasher", stronger)

    with read_only(engine).begin() as conn:
        conn.execute(sa.select(credentials.c.login)).all()  # the read snapshot begins
        with engine.begin() as other:  # someone else commits a write meanwhile
            registry.set_credentials(
                other, bob, login="bob@x.org", password=PASSWORD, actor="subject"
            )
        match = registry.match_password(conn, "alice@x.org", PASSWORD)
    assert match is not None and match.person_id == alice and match.stale_hash is not None

    fresh = registry.hash_password(PASSWORD)
    with engine.begin() as conn:
        assert registry.upgrade_password_hash(conn, match, fresh)
    with engine.connect() as conn:
        again = registry.match_password(conn, "alice@x.org", PASSWORD)
        assert again == registry.PasswordMatch(alice, None)
        # A second upgrade from the old sighting writes nothing (the hash moved on).
        assert not registry.upgrade_password_hash(conn, match, cheap.hash("something else!"))
        assert registry.verify_password(conn, "alice@x.org", PASSWORD) == alice
