"""Correction notices after a dispute resolved in the person's favour (FCRA §1681i(d)).

The person has just been rescored without the record. Every decision about them in the
look-back window gets a notice for its partner: which decision, that the file was
corrected after a dispute, and what the same product's decision would be now (outcome
and terms only: no score, whatever the grant said, so a notice never tells a partner
more than its decision did).
"""

from __future__ import annotations

from typing import Any

from openscore import registry
from openscore.decisions import decide
from openscore.errors import NotFound
from openscore.registry import CorrectionNotice, Dispute
from openscore.registry.webhooks import enqueue_event
from openscore.services.context import Context


def notify_partners(state: Context, dispute: Dispute, *, actor: str) -> list[CorrectionNotice]:
    """Record a correction notice for every decision on the person in the window."""
    person_id = dispute.person_id
    with state.write() as conn:
        score = registry.current_score(conn, person_id)
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
        records = state.public_records.live_for(person_id, excluded)
        bodies: dict[str, dict[str, Any]] = {}
        for row in registry.decisions_to_correct(conn, person_id):
            body: dict[str, Any] = {
                "kind": "correction",
                "decision_id": row.id,
                "product_id": row.product_id,
                "decided_at": row.decided_at.isoformat(),
                "outcome_then": row.outcome,
                "dispute_id": dispute.id,
                "text": (
                    "A record used in this decision was disputed and corrected in the "
                    "person's favour; reconsider the decision on the corrected file."
                ),
            }
            try:
                product = state.catalogue.get(row.product_id)
            except NotFound:
                product = None
            if product is not None:
                now = decide(product, score.score, score.band, score.reasons, records)
                body["outcome_now"] = now.outcome
                body["terms_now"] = now.terms()
            bodies[row.id] = body
        notices = registry.record_correction_notices(
            conn,
            person_id=person_id,
            dispute_id=dispute.id,
            record_ref=dispute.record_ref,
            bodies=bodies,
            actor=actor,
        )
        # pushed to partners with an endpoint, in the same transaction (the outbox)
        for notice in notices:
            enqueue_event(
                conn,
                notice.partner_id,
                "decision.data_corrected",
                {"notice_id": notice.id, "person_id": notice.person_id, **notice.body},
                dedupe_key=f"correction:{notice.id}",
            )
        return notices
