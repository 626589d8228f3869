"""Partners and API keys: a key is shown once, only its hash is stored, and it stops
working when revoked or when its partner is switched off."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry.metadata import metadata

from .conftest import OPERATOR


def _every_stored_value(engine: Engine) -> str:
    with engine.connect() as conn:
        return repr([list(conn.execute(sa.select(t))) for t in metadata.sorted_tables])


def test_a_key_is_shown_once_and_only_its_hash_is_stored(engine: Engine, bikes: str) -> None:
    with engine.begin() as conn:
        new = registry.create_api_key(conn, bikes, label="production", actor=OPERATOR)
    assert new.secret.startswith("osk_") and len(new.secret) > 40
    assert new.key.prefix == new.secret[:12]
    stored = _every_stored_value(engine)
    assert new.secret not in stored and new.secret[12:] not in stored
    assert hashlib.sha256(new.secret.encode()).hexdigest() in stored
    with engine.connect() as conn:
        listed = registry.list_api_keys(conn, bikes)
        assert listed == [new.key]
        assert not hasattr(listed[0], "secret") and not hasattr(listed[0], "key_hash")
        principal = registry.authenticate_api_key(conn, new.secret)
        assert principal == registry.ApiPrincipal(bikes, "partner", new.key.id, "Bikes")
        assert principal.actor == "partner:bikes"
        assert registry.authenticate_api_key(conn, new.secret + "x") is None
        assert registry.authenticate_api_key(conn, "not-a-key") is None
        entry = registry.audit.list_entries(conn, limit=100)[-1]
    assert entry.action == "api_key.created" and new.secret.encode() not in entry.entry


def test_revoked_keys_and_deactivated_partners_do_not_authenticate(
    engine: Engine, bikes: str, lender: str
) -> None:
    with engine.begin() as conn:
        first = registry.create_api_key(conn, bikes, label="one", actor=OPERATOR)
        second = registry.create_api_key(conn, bikes, label="two", actor=OPERATOR)
        other = registry.create_api_key(conn, lender, label="lender", actor=OPERATOR)
    with engine.begin() as conn:
        with pytest.raises(NotFound):  # another partner's key id reveals nothing
            registry.revoke_api_key(conn, lender, first.key.id, actor=OPERATOR)
        revoked = registry.revoke_api_key(conn, bikes, first.key.id, actor=OPERATOR)
    assert revoked.revoked_at is not None
    with engine.connect() as conn:
        assert registry.authenticate_api_key(conn, first.secret) is None
        assert registry.authenticate_api_key(conn, second.secret) is not None
    with engine.begin() as conn:
        registry.deactivate_partner(conn, bikes, actor=OPERATOR)
    with engine.connect() as conn:
        assert registry.authenticate_api_key(conn, second.secret) is None
        assert registry.authenticate_api_key(conn, other.secret) is not None
    with pytest.raises(Conflict, match="deactivated"):
        with engine.begin() as conn:
            registry.create_api_key(conn, bikes, label="three", actor=OPERATOR)


def test_partners_and_operators(engine: Engine, bikes: str, make_partner) -> None:  # type: ignore[no-untyped-def]
    ops = make_partner("platform-ops", role="operator")
    with engine.begin() as conn:
        key = registry.create_api_key(conn, ops, label="console", actor="system")
        assert registry.authenticate_api_key(conn, key.secret).role == "operator"  # type: ignore[union-attr]
        assert [p.id for p in registry.list_partners(conn, role="partner")] == [bikes]
        assert {p.id for p in registry.list_partners(conn)} == {bikes, ops}
        with pytest.raises(NotFound):
            registry.get_partner(conn, "nobody")
    for kwargs, field in (
        ({"name": "X", "partner_id": "Bad Id"}, "partner_id"),
        ({"name": " ", "partner_id": "ok-id"}, "name"),
        ({"name": "X", "role": "admin"}, "role"),
    ):
        with pytest.raises(InputError) as err:
            with engine.begin() as conn:
                registry.create_partner(conn, actor=OPERATOR, **kwargs)  # type: ignore[arg-type]
        assert err.value.field == field
    with pytest.raises(Conflict):
        with engine.begin() as conn:
            registry.create_partner(conn, name="Again", actor=OPERATOR, partner_id=bikes)
