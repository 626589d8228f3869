"""Inquiries, disputes, published scores and decision records: what each keeps, and that
a person's objects are invisible to everyone else."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import sequencer

from .conftest import NOW, OPERATOR
from fixtures.postgres import TEST_SECRET_KEY


@pytest.fixture()
def grant(engine: Engine, alice: str, bikes: str) -> registry.Grant:
    with engine.begin() as conn:
        return registry.create_grant(
            conn,
            alice,
            partner_id=bikes,
            products=["bike"],
            purpose="deposit_waiver",
            expires_at=NOW + timedelta(days=30),
            actor="subject",
            now=NOW,
        )


def test_inquiries_record_who_when_why_and_what(
    engine: Engine, alice: str, bob: str, bikes: str, grant: registry.Grant
) -> None:
    with engine.begin() as conn:
        inquiry = registry.record_inquiry(
            conn,
            alice,
            partner_id=bikes,
            purpose="deposit_waiver",
            returned={"outcome": "approve", "deposit_waived": 50},
            grant_id=grant.id,
            actor=f"partner:{bikes}",
            now=NOW + timedelta(minutes=1),
        )
    with engine.connect() as conn:
        assert registry.list_inquiries(conn, alice) == [inquiry]
        assert registry.get_inquiry(conn, alice, inquiry.id).returned["deposit_waived"] == 50
        assert registry.list_inquiries(conn, bob) == []
        with pytest.raises(NotFound):
            registry.get_inquiry(conn, bob, inquiry.id)
        with pytest.raises(NotFound):
            registry.inquiry_proof(conn, bob, inquiry.id)
        proof = registry.inquiry_proof(conn, alice, inquiry.id)
        entry = registry.audit.get_entry(conn, inquiry.audit_seq)
        assert proof.seq == inquiry.audit_seq and proof.entry == entry.entry
        assert proof.verify(registry.derive_audit_key(TEST_SECRET_KEY))
        assert entry.action == "inquiry.recorded"
        assert registry.audit.linked_value_matches(conn, alice, entry, "inquiry", inquiry.id)
        assert registry.audit.linked_value_matches(conn, alice, entry, "grant", grant.id)
        assert not registry.audit.linked_value_matches(conn, bob, entry, "inquiry", inquiry.id)
        assert grant.id.encode() not in entry.entry and inquiry.id.encode() not in entry.entry

    with pytest.raises(NotFound):  # a grant is cited only by its own partner, for its person
        with engine.begin() as conn:
            registry.record_inquiry(
                conn,
                bob,
                partner_id=bikes,
                purpose="deposit_waiver",
                returned={},
                grant_id=grant.id,
                actor=f"partner:{bikes}",
            )
    with pytest.raises(InputError, match="only under a grant"):
        with engine.begin() as conn:
            registry.record_inquiry(
                conn,
                alice,
                partner_id=bikes,
                purpose="curiosity",
                returned={},
                actor=f"partner:{bikes}",
            )


def test_disputes_have_a_30_day_deadline_and_one_answer(
    engine: Engine, alice: str, bob: str
) -> None:
    with engine.begin() as conn:
        dispute = registry.file_dispute(
            conn,
            alice,
            record_ref="court-feed/j-77",
            reason="The judgment was set aside",
            exclude_while_open=True,
            actor="subject",
            now=NOW,
        )
        kept = registry.file_dispute(
            conn,
            alice,
            record_ref="bank-1/r-9",
            reason="Paid on time",
            exclude_while_open=False,
            actor="subject",
            now=NOW + timedelta(days=1),
        )
    assert dispute.deadline - dispute.filed_at == timedelta(days=30)
    assert dispute.deadline == NOW + timedelta(days=30)
    assert dispute.status == "open" and dispute.excluded and not kept.excluded
    assert not dispute.overdue(NOW + timedelta(days=30))
    assert dispute.overdue(NOW + timedelta(days=30, seconds=1))
    with engine.connect() as conn:
        assert registry.excluded_records(conn) == {alice: frozenset({"court-feed/j-77"})}
        assert registry.excluded_records(conn, [bob]) == {}
        assert [d.id for d in registry.dispute_queue(conn)] == [dispute.id, kept.id]
        with pytest.raises(NotFound):
            registry.get_dispute(conn, bob, dispute.id)
        assert registry.list_disputes(conn, bob) == []
    with pytest.raises(Conflict, match="open dispute"):
        with engine.begin() as conn:
            registry.file_dispute(
                conn,
                alice,
                record_ref="court-feed/j-77",
                reason="again",
                exclude_while_open=True,
                actor="subject",
            )

    with engine.begin() as conn:
        closed = registry.close_dispute(
            conn,
            dispute.id,
            status="resolved",
            resolution="Furnisher confirmed the error",
            actor=OPERATOR,
            now=NOW + timedelta(days=3),
        )
    assert (closed.status, closed.resolved_at) == ("resolved", NOW + timedelta(days=3))
    with engine.connect() as conn:
        assert registry.get_dispute(conn, alice, dispute.id) == closed
        assert registry.excluded_records(conn) == {}
        assert [d.id for d in registry.dispute_queue(conn, status="resolved")] == [dispute.id]
    with pytest.raises(Conflict, match="already resolved"):
        with engine.begin() as conn:
            registry.close_dispute(
                conn, dispute.id, status="rejected", resolution="no", actor=OPERATOR
            )
    with engine.begin() as conn:  # once closed, the same record can be disputed again
        registry.file_dispute(
            conn,
            alice,
            record_ref="court-feed/j-77",
            reason="new evidence",
            exclude_while_open=False,
            actor="subject",
        )
        entries = registry.audit.person_entries(conn, alice)
    assert [e.action for e in entries].count("dispute.filed") == 3
    assert not any(b"court-feed" in e.entry or b"set aside" in e.entry for e in entries)


def test_published_scores_keep_their_history(engine: Engine, alice: str, bob: str) -> None:
    def item(score: int, day: int) -> registry.ScoreToPublish:
        return registry.ScoreToPublish(
            alice,
            score,
            {"credit_history": 60, "identity": 40},
            [{"code": "utilisation", "text": "High use"}],
            "expert-20250301",
            NOW + timedelta(days=day),
        )

    with engine.begin() as conn:
        first = registry.publish_score(conn, item(612, 0), actor="system:scoring", now=NOW)
        second = registry.publish_score(conn, item(655, 1), actor="system:scoring", now=NOW)
    assert (first.band, second.band) == ("good", "very_good")
    with engine.connect() as conn:
        assert registry.current_score(conn, alice) == second
        assert registry.score_history(conn, alice) == [second, first]
        with pytest.raises(NotFound):
            registry.current_score(conn, bob)

    for bad, field in (
        (registry.ScoreToPublish(alice, 990, {}, [], "m", NOW), "score"),
        (registry.ScoreToPublish(alice, 640, {}, [], "m", NOW, band="poor"), "band"),
        (registry.ScoreToPublish(alice, 640, {"zodiac": 5}, [], "m", NOW), "dimensions"),
        (registry.ScoreToPublish(alice, 640, {"identity": 101}, [], "m", NOW), "dimensions"),
    ):
        with pytest.raises(InputError) as err:
            with engine.begin() as conn:
                registry.publish_score(conn, bad, actor="system:scoring")
        assert err.value.field == field

    with engine.begin() as conn:
        count = registry.publish_scores(
            conn,
            [
                registry.ScoreToPublish(p, s, {}, [], "batch-1", NOW)
                for p, s in ((alice, 700), (bob, 560))
            ],
            actor="system:scoring",
        )
        assert count == 2
        last = registry.audit.list_entries(conn, start=registry.audit.tree_size(conn) - 1)[0]
    assert last.action == "scores.published"
    assert last.content["details"]["count"] == 2 and alice.encode() not in last.entry
    with engine.connect() as conn:
        assert registry.current_score(conn, bob).score == 560
    with pytest.raises(NotFound):
        with engine.begin() as conn:
            registry.publish_scores(
                conn, [registry.ScoreToPublish("ghost", 600, {}, [], "m", NOW)], actor="system"
            )


def test_decision_records_and_human_review(
    engine: Engine, alice: str, bob: str, bikes: str, lender: str, grant: registry.Grant
) -> None:
    with engine.begin() as conn:
        decision = registry.record_decision(
            conn,
            alice,
            partner_id=bikes,
            product_id="bike",
            outcome="decline",
            terms={"deposit_due": 50},
            reasons=[{"code": "score_below_threshold", "text": "below 600"}],
            grant_id=grant.id,
            score=580,
            band="fair",
            actor=f"partner:{bikes}",
            now=NOW,
        )
    with engine.connect() as conn:
        assert registry.list_decisions(conn, alice) == [decision]
        assert registry.get_partner_decision(conn, bikes, decision.id) == decision
        for call in (
            lambda: registry.get_decision(conn, bob, decision.id),
            lambda: registry.get_partner_decision(conn, lender, decision.id),
        ):
            with pytest.raises(NotFound):
                call()
    with pytest.raises(InputError, match="adverse-action"):
        with engine.begin() as conn:
            registry.record_decision(
                conn,
                alice,
                partner_id=bikes,
                product_id="bike",
                outcome="decline",
                terms={},
                reasons=[],
                actor=f"partner:{bikes}",
            )
    with pytest.raises(NotFound):  # a grant of another partner cannot be cited
        with engine.begin() as conn:
            registry.record_decision(
                conn,
                alice,
                partner_id=lender,
                product_id="bike",
                outcome="approve",
                terms={},
                reasons=[],
                grant_id=grant.id,
                actor=f"partner:{lender}",
            )

    with pytest.raises(NotFound):
        with engine.begin() as conn:
            registry.request_review(conn, bob, decision.id, reason="mine?", actor="subject")
    with engine.begin() as conn:
        review = registry.request_review(
            conn, alice, decision.id, reason="I repaid that loan", actor="subject", now=NOW
        )
    with pytest.raises(Conflict):
        with engine.begin() as conn:
            registry.request_review(conn, alice, decision.id, reason="again", actor="subject")
    with engine.connect() as conn:
        assert registry.review_queue(conn) == [review]
        assert registry.list_reviews(conn, alice) == [review]
        with pytest.raises(NotFound):
            registry.get_review(conn, bob, review.id)
    with engine.begin() as conn:
        closed = registry.close_review(
            conn, review.id, status="overturned", resolution="Approved by hand", actor=OPERATOR
        )
    assert closed.status == "overturned" and closed.resolved_at is not None
    with engine.connect() as conn:
        assert registry.review_queue(conn) == []
        assert registry.get_review(conn, alice, review.id) == closed
    with pytest.raises(Conflict):
        with engine.begin() as conn:
            registry.close_review(conn, review.id, status="upheld", resolution="no", actor=OPERATOR)


def test_an_answered_decision_is_a_decision_and_its_inquiry_in_one_batch(
    engine: Engine, alice: str, bikes: str, grant: registry.Grant
) -> None:
    """``record_answered_decision`` (the API's decision path) keeps what
    ``record_decision`` then ``record_inquiry`` keep, with the same two audit entries."""
    actor = f"partner:{bikes}"
    answer = {"product_id": "bike", "outcome": "approve", "deposit_waived": 50, "reasons": []}
    decision_kw = {
        "product_id": "bike",
        "outcome": "approve",
        "terms": {"deposit_waived": 50},
        "reasons": [],
        "score": 700,
        "band": "excellent",
        "actor": actor,
        "now": NOW,
    }
    with engine.connect() as conn, conn.begin():
        start = registry.audit.tree_size(conn)
        savepoint = conn.begin_nested()
        old = registry.record_decision(
            conn, alice, partner_id=bikes, grant_id=grant.id, **decision_kw
        )
        old_inquiry = registry.record_inquiry(
            conn,
            alice,
            partner_id=bikes,
            grant_id=grant.id,
            purpose=grant.purpose,
            returned={"decision_id": old.id, **answer},
            actor=actor,
            now=NOW,
        )
        old_entries = [registry.audit.get_entry(conn, s) for s in (start, start + 1)]
        savepoint.rollback()
        usable = registry.usable_grant(
            conn, partner_id=bikes, grant_id=grant.id, product_id="bike", now=NOW
        )
        record, inquiry = registry.record_answered_decision(
            conn, usable, answer=answer, **decision_kw
        )
        # queued with receipts, not appended: the sequencer puts them in the tree
        assert (record.audit_seq, inquiry.audit_seq) == (None, None)
        assert record.receipt and inquiry.receipt
        assert registry.audit.tree_size(conn) == start
        assert sequencer.integrate(conn).integrated == 2
        record = registry.get_decision(conn, alice, record.id)
        inquiry = registry.get_inquiry(conn, alice, inquiry.id)
        entries = [registry.audit.get_entry(conn, s) for s in (start, start + 1)]
    # the same rows but for the fresh ids (and the receipt that says where the entry is)
    assert (record.audit_seq, inquiry.audit_seq) == (start, start + 1)
    assert replace(record, id=old.id, audit_receipt=None) == old
    assert inquiry.returned == {"decision_id": record.id, **answer}
    assert (
        replace(inquiry, id=old_inquiry.id, returned=old_inquiry.returned, audit_receipt=None)
        == old_inquiry
    )
    # the same entries but for the refs, which are HMACs of those ids, and the receipt
    for new, was in zip(entries, old_entries, strict=True):
        assert {**new.content, "refs": None, "receipt": None} == {
            **was.content,
            "refs": None,
            "receipt": None,
        }
        assert new.content["refs"].keys() == was.content["refs"].keys()
    with engine.connect() as conn:
        assert registry.get_decision(conn, alice, record.id) == record
        assert registry.get_inquiry(conn, alice, inquiry.id) == inquiry
        matches = registry.audit.linked_value_matches
        assert matches(conn, alice, entries[0], "decision", record.id)
        assert matches(conn, alice, entries[0], "grant", grant.id)
        assert matches(conn, alice, entries[1], "inquiry", inquiry.id)
        assert matches(conn, alice, entries[1], "grant", grant.id)
        returned = registry.audit.canonical_json(inquiry.returned).decode("ascii")
        assert matches(conn, alice, entries[1], "returned", returned)
        key = registry.derive_audit_key(TEST_SECRET_KEY)
        assert registry.inquiry_proof(conn, alice, inquiry.id).verify(key)
        assert registry.audit.verify(conn).ok
    with pytest.raises(InputError, match="adverse-action"):  # the same checks as before
        with engine.begin() as conn:
            registry.record_answered_decision(
                conn, usable, answer={}, **{**decision_kw, "outcome": "decline"}
            )
