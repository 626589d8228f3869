"""Consents: grant and revoke timestamps, the current consents, and the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.domain import Source
from openscore.errors import Conflict, InputError, NotFound

from .conftest import NOW


def test_grant_revoke_and_regrant(engine: Engine, alice: str, bob: str) -> None:
    t1, t2, t3 = NOW, NOW + timedelta(hours=1), NOW + timedelta(days=2)
    with engine.begin() as conn:
        granted = registry.grant_consent(conn, alice, "wallet", actor="subject", now=t1)
        registry.grant_consent(conn, alice, Source.CREDIT, actor="subject", now=t1)
        registry.grant_consent(conn, bob, "wallet", actor="subject", now=t1)
    assert granted.granted_at == t1 and granted.current

    with engine.begin() as conn:
        revoked = registry.revoke_consent(conn, alice, "wallet", actor="subject", now=t2)
    assert (revoked.id, revoked.granted_at, revoked.revoked_at) == (granted.id, t1, t2)
    with engine.connect() as conn:
        assert set(registry.current_consents(conn, alice)) == {Source.CREDIT}
        assert set(registry.current_consents(conn, bob)) == {Source.WALLET}

    with engine.begin() as conn:
        again = registry.grant_consent(conn, alice, "wallet", actor="subject", now=t3)
    assert again.id != granted.id
    with engine.connect() as conn:
        current = registry.current_consents(conn, alice)
        assert current[Source.WALLET].granted_at == t3
        history = [
            (c.source, c.granted_at, c.revoked_at) for c in registry.consent_history(conn, alice)
        ]
        assert history == [  # by time, then source
            (Source.CREDIT, t1, None),
            (Source.WALLET, t1, t2),
            (Source.WALLET, t3, None),
        ]
        assert registry.consent_map(conn) == {
            alice: frozenset({Source.WALLET, Source.CREDIT}),
            bob: frozenset({Source.WALLET}),
        }
        assert registry.consent_map(conn, [bob, "nobody"]) == {bob: frozenset({Source.WALLET})}
        assert registry.consent_map(conn, []) == {}
        actions = [e.action for e in registry.audit.person_entries(conn, alice)]
    assert actions == [
        "person.created",
        "consent.granted",
        "consent.granted",
        "consent.revoked",
        "consent.granted",
    ]


def test_edge_cases(engine: Engine, alice: str) -> None:
    with engine.begin() as conn:  # granting twice is one consent and one entry
        first = registry.grant_consent(conn, alice, "social", actor="subject")
        second = registry.grant_consent(conn, alice, "social", actor="subject")
    assert first == second
    with engine.connect() as conn:
        assert len(registry.consent_history(conn, alice)) == 1
        assert registry.audit.tree_size(conn) == 2

    with pytest.raises(Conflict, match="not shared"):
        with engine.begin() as conn:
            registry.revoke_consent(conn, alice, "rentals", actor="subject")

    for source in ("public_records", "horoscope"):  # held on a legal basis / unknown
        with pytest.raises(InputError) as err:
            with engine.begin() as conn:
                registry.grant_consent(conn, alice, source, actor="subject")
        assert err.value.field == "source"

    with engine.begin() as conn:
        with pytest.raises(NotFound):
            registry.grant_consent(conn, "nobody", "wallet", actor="subject")
        with pytest.raises(NotFound):
            registry.current_consents(conn, "nobody")
    with engine.connect() as conn:
        assert registry.audit.tree_size(conn) == 2
