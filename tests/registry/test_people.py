"""People: creation, export, and erasure that leaves only a tombstone in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit, sequencer
from openscore.registry.metadata import metadata

from .conftest import NOW


def test_create_get_and_refuse(engine: Engine) -> None:
    with engine.begin() as conn:
        given = registry.create_person(conn, actor="system", person_id="p-42", now=NOW)
        fresh = registry.create_person(conn, actor="system")
    assert given.id == "p-42" and given.created_at == NOW
    assert len(fresh.id) == 32
    with engine.connect() as conn:
        assert registry.get_person(conn, "p-42") == given
        assert registry.person_exists(conn, fresh.id)
        with pytest.raises(NotFound):
            registry.get_person(conn, "nobody")
        before = registry.audit.tree_size(conn)

    with pytest.raises(Conflict):
        with engine.begin() as conn:
            registry.create_person(conn, actor="system", person_id="p-42")
    with pytest.raises(InputError) as err:
        with engine.begin() as conn:
            registry.create_person(conn, actor="system", person_id="has space")
    assert err.value.field == "person_id"
    with pytest.raises(InputError, match="actor"):  # actors are roles, never a person's name
        with engine.begin() as conn:
            registry.create_person(conn, actor="alice@example.org")
    with engine.connect() as conn:  # the failed attempts left no audit entry
        assert registry.audit.tree_size(conn) == before


def _populate(engine: Engine, person: str, partner: str) -> None:
    with engine.begin() as conn:
        registry.set_credentials(
            conn, person, login=f"{person}@example.org", password="correct horse", actor="subject"
        )
        registry.grant_consent(conn, person, "wallet", actor="subject")
        grant = registry.create_grant(
            conn,
            person,
            partner_id=partner,
            products=["bike"],
            purpose="deposit_waiver",
            expires_at=registry.utc_now() + timedelta(days=30),
            actor="subject",
        )
        registry.record_inquiry(
            conn,
            person,
            partner_id=partner,
            purpose="deposit_waiver",
            returned={"outcome": "approve"},
            grant_id=grant.id,
            actor=f"partner:{partner}",
        )
        decision = registry.record_decision(
            conn,
            person,
            partner_id=partner,
            product_id="bike",
            outcome="approve",
            terms={"deposit_waived": 50},
            reasons=[],
            grant_id=grant.id,
            actor=f"partner:{partner}",
        )
        registry.request_review(conn, person, decision.id, reason="why?", actor="subject")
        dispute = registry.file_dispute(
            conn,
            person,
            record_ref="furnisher-1/event-9",
            reason="not mine",
            exclude_while_open=True,
            actor="subject",
        )
        registry.record_correction_notices(
            conn,
            person_id=person,
            dispute_id=dispute.id,
            record_ref=dispute.record_ref,
            bodies={decision.id: {"kind": "correction", "text": "reconsider"}},
            actor="operator:ops",
        )
        # an entry still waiting for the sequencer (audit_pending) is the person's too
        sequencer.append_queued(
            conn, [audit.PendingEntry("inquiry.recorded", f"partner:{partner}", person_id=person)]
        )
        score = registry.publish_score(
            conn,
            registry.ScoreToPublish(person, 640, {"identity": 50}, [], "expert-1", NOW),
            actor="system:scoring",
        )
        now = registry.utc_now()
        registry.attestations.record_attestation(
            conn,
            attestation_id=registry.new_id(),
            person_id=person,
            kid="k",
            claims={"score_at_least": 600},
            audience=None,
            score_id=score.id,
            issued_at=now,
            expires_at=now + timedelta(days=30),
        )
        # a webhook of the person's own, and a notification queued for it
        registry.webhooks.set_person_endpoint(conn, person, "https://hooks.example.org/me")
        registry.notifications.notify(conn, person, "inquiry", "someone looked", {})
        registry.lock_file(conn, person, actor="subject")
        registry.run_idempotent(
            conn,
            principal=partner,
            key=f"k-{person}",
            request={"person": person},
            action=lambda: {"ok": True},
            person_id=person,
        )


def _count_rows_of(engine: Engine, person: str) -> dict[str, int]:
    counts = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            column = table.c.get("person_id") if table.name != "people" else table.c.id
            if column is not None:
                counts[table.name] = conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(column == person)
                ).scalar_one()
    return counts


def test_erasure_removes_every_row_and_leaves_a_tombstone_that_verifies(
    engine: Engine, alice: str, bob: str, bikes: str
) -> None:
    _populate(engine, alice, bikes)
    _populate(engine, bob, bikes)
    assert all(_count_rows_of(engine, alice).values())  # every person-owned table has a row
    with engine.connect() as conn:
        linked = registry.audit.person_entries(conn, alice)
        assert all(registry.audit.concerns(conn, alice, e) for e in linked)
        assert not any(registry.audit.concerns(conn, bob, e) for e in linked)

    with engine.begin() as conn:
        tombstone = registry.erase_person(conn, alice, actor="subject")
    # her entry still queued for the log is kept (the log promised it) until the sequencer
    # integrates it, under a one-off salt with no link to her, within the merge delay
    with engine.connect() as conn:
        assert _count_rows_of(engine, alice)["audit_pending"] == 1
    with engine.begin() as conn:
        sequencer.integrate(conn)

    left = {t: n for t, n in _count_rows_of(engine, alice).items() if n}
    assert left == {}
    # bob untouched (his queued entry was integrated too: an integrated row keeps no id)
    assert all(n for t, n in _count_rows_of(engine, bob).items() if t != "audit_pending")
    with engine.connect() as conn:
        assert tombstone.content["action"] == "person.erased"
        assert tombstone.content["details"] == {} and tombstone.content["refs"] == {}
        result = registry.audit.verify(conn)
        assert result.ok and result.tree_size > tombstone.seq
        # Nothing ties the log to alice any more, and her id is nowhere in it.
        assert registry.audit.person_entries(conn, alice) == []
        assert not any(registry.audit.concerns(conn, alice, e) for e in linked)
        entries = registry.audit.list_entries(conn, limit=1000)
        assert not any(alice.encode() in e.entry for e in entries)
        assert not any(b"@example.org" in e.entry for e in entries)
        with pytest.raises(NotFound):
            registry.get_person(conn, alice)


def test_pseudonyms_differ_per_entry(engine: Engine, alice: str) -> None:
    with engine.begin() as conn:
        registry.grant_consent(conn, alice, "wallet", actor="subject")
        registry.revoke_consent(conn, alice, "wallet", actor="subject")
    with engine.connect() as conn:
        entries = registry.audit.person_entries(conn, alice)
    subjects = {e.content["subject"] for e in entries}
    consent_refs = {e.content["refs"].get("consent") for e in entries[1:]}
    assert len(entries) == 3 and len(subjects) == 3  # entries cannot be linked to each other
    assert len(consent_refs) == 2  # even when they concern the same consent


def test_the_log_refuses_a_person_id_in_its_details(engine: Engine, alice: str) -> None:
    with pytest.raises(ValueError, match="person's id"):
        with engine.begin() as conn:
            registry.audit.append(
                conn, action="x.y", actor="system", person_id=alice, details={"who": alice}
            )


def test_export_holds_everything_but_secrets(engine: Engine, alice: str, bikes: str) -> None:
    _populate(engine, alice, bikes)
    with engine.connect() as conn:
        export = registry.export_person(conn, alice)
    assert export["person"]["login"] == f"{alice}@example.org"
    for key in ("consents", "grants", "disputes", "scores", "decisions", "reviews", "attestations"):
        assert len(export[key]) == 1, key
    assert len(export["inquiries"]) == 2  # the partner's, and issuing the attestation
    assert export["locked"] is True
    assert [e["entry"]["action"] for e in export["audit_entries"]][:2] == [
        "person.created",
        "credentials.set",
    ]
    flat = repr(export)
    assert "argon2" not in flat and "salt" not in flat
