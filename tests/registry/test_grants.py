"""Grants: ownership on both sides, expiry, revocation, product coverage, the file lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, ConsentError, InputError, NotFound

from .conftest import NOW


def _grant(engine: Engine, person: str, partner: str, **kw: object) -> registry.Grant:
    args: dict[str, object] = {
        "partner_id": partner,
        "products": ["bike", "power_bank"],
        "purpose": "deposit_waiver",
        "expires_at": NOW + timedelta(days=30),
        "actor": "subject",
        "now": NOW,
    }
    args.update(kw)
    with engine.begin() as conn:
        return registry.create_grant(conn, person, **args)  # type: ignore[arg-type]


def test_expiry(engine: Engine, alice: str, bikes: str) -> None:
    grant = _grant(engine, alice, bikes, expires_at=NOW + timedelta(hours=1))
    assert grant.scope == "decision" and not grant.may_see_score and not grant.may_see_band
    with engine.connect() as conn:
        ok = registry.usable_grant(
            conn, partner_id=bikes, grant_id=grant.id, product_id="bike", now=NOW
        )
        assert ok == grant
        almost = NOW + timedelta(hours=1) - timedelta(microseconds=1)
        registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=almost)
        for later in (NOW + timedelta(hours=1), NOW + timedelta(days=3)):
            with pytest.raises(ConsentError, match="expired"):
                registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=later)
        assert registry.list_grants(conn, alice, active_only=True, now=NOW) == [grant]
        assert (
            registry.list_grants(conn, alice, active_only=True, now=NOW + timedelta(days=1)) == []
        )


def test_revocation(engine: Engine, alice: str, bikes: str) -> None:
    grant = _grant(engine, alice, bikes)
    with engine.begin() as conn:
        revoked = registry.revoke_grant(
            conn, alice, grant.id, actor="subject", now=NOW + timedelta(minutes=5)
        )
    assert revoked.revoked_at == NOW + timedelta(minutes=5)
    assert not revoked.active(NOW + timedelta(minutes=6))
    with engine.connect() as conn:
        with pytest.raises(ConsentError, match="revoked"):
            registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=NOW)
        assert registry.get_grant(conn, alice, grant.id).revoked_at == revoked.revoked_at
    with pytest.raises(Conflict, match="already revoked"):
        with engine.begin() as conn:
            registry.revoke_grant(conn, alice, grant.id, actor="subject")


def test_ownership_on_both_sides(
    engine: Engine, alice: str, bob: str, bikes: str, lender: str
) -> None:
    grant = _grant(engine, alice, bikes)
    with engine.begin() as conn:
        with pytest.raises(NotFound):
            registry.get_grant(conn, bob, grant.id)
        with pytest.raises(NotFound):
            registry.revoke_grant(conn, bob, grant.id, actor="subject")
        with pytest.raises(NotFound):  # another partner presenting it learns nothing
            registry.usable_grant(conn, partner_id=lender, grant_id=grant.id, now=NOW)
        with pytest.raises(NotFound):
            registry.usable_grant(conn, partner_id=bikes, grant_id="no-such-grant", now=NOW)
        assert registry.list_grants(conn, bob) == []
    with engine.connect() as conn:  # and bob's attempt changed nothing
        assert registry.get_grant(conn, alice, grant.id).revoked_at is None


def test_products_scope_and_lock(engine: Engine, alice: str, bikes: str) -> None:
    grant = _grant(engine, alice, bikes, scope="score")
    assert grant.may_see_score and grant.may_see_band
    with engine.begin() as conn:
        with pytest.raises(ConsentError, match="does not cover"):
            registry.usable_grant(
                conn, partner_id=bikes, grant_id=grant.id, product_id="car", now=NOW
            )
        registry.lock_file(conn, alice, actor="subject")
    with engine.begin() as conn:
        with pytest.raises(ConsentError, match="locked"):
            registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=NOW)
        registry.unlock_file(conn, alice, actor="subject")
    with engine.connect() as conn:
        registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=NOW)
    with engine.begin() as conn:
        registry.deactivate_partner(conn, bikes, actor="operator:ops")
        with pytest.raises(ConsentError, match="deactivated"):
            registry.usable_grant(conn, partner_id=bikes, grant_id=grant.id, now=NOW)


def test_bad_grants_name_the_field(
    engine: Engine,
    alice: str,
    bikes: str,
    make_partner,  # type: ignore[no-untyped-def]
) -> None:
    cases = [
        ({"products": []}, "products"),
        ({"products": ["Bike!"]}, "products"),
        ({"purpose": "to judge Alice Smith"}, "purpose"),
        ({"scope": "everything"}, "scope"),
        ({"expires_at": NOW - timedelta(seconds=1)}, "expires_at"),
        ({"expires_at": NOW + timedelta(days=800)}, "expires_at"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InputError) as err:
            _grant(engine, alice, bikes, **kwargs)
        assert err.value.field == field, kwargs
    make_partner("ops", role="operator")
    with pytest.raises(NotFound):  # only partners are grantees
        _grant(engine, alice, "ops")
    with pytest.raises(NotFound):
        _grant(engine, "nobody", bikes)
    with engine.connect() as conn:
        assert registry.list_grants(conn, alice) == []
