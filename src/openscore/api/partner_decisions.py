"""The decision a partner asks for: the one hot path of the API.

A read transaction, then a short write transaction, in this order:

1. the grant must be this partner's, usable now (not revoked or expired, covering the
   product, the partner active, the person's file not locked), for the person the
   partner names and for the purpose it states — otherwise nothing is read;
2. the person's *published* score and their live public records (from the in-memory
   index, less records under a dispute that excludes them) go into
   :func:`openscore.decisions.decide`, a pure function;
3. the answer is cut down to the grant's scope (data minimisation: pass/fail and the
   terms by default; the band, or the score too, only where the grant says so);
4. in the write transaction, the grant is checked again (revoked or locked meanwhile:
   nothing is stored), and the decision and the inquiry (exactly what was returned) are
   recorded, each with its audit entry — a partner never holds an answer that is not on
   the record (:func:`openscore.registry.record_answered_decision`: the two rows and the
   two entries in one batch).

Only when the person has no published score yet does the request publish one (a rescore
from the ledger), then decide.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from openscore import registry
from openscore.api.deps import authenticate
from openscore.api.state import AppState
from openscore.decisions import BELOW_THRESHOLD, Decision, Product, decide
from openscore.errors import ConsentError, NotFound, NotReady
from openscore.registry import Grant, PublishedScore
from openscore.services.schemas import DecisionAnswer, DecisionRequest
from openscore.services.scores import publish_now


def _minimised(decision: Decision, product: Product, grant: Grant) -> list[dict[str, Any]]:
    """Adverse-action reasons as this partner may read them: without the score's number
    unless the grant's scope is ``score``."""
    out = []
    for reason in decision.reasons:
        item = reason.to_json()
        if reason.code == BELOW_THRESHOLD and not grant.may_see_score:
            item["text"] = (
                f"The score is below the {product.min_score} that {product.name} needs "
                "(score below the product's threshold)."
            )
        out.append(item)
    return out


def _answer(
    decision: Decision, product: Product, grant: Grant, score: PublishedScore
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "product_id": decision.product_id,
        "kind": decision.kind.value,
        "outcome": decision.outcome,
        "approved": decision.approved,
        "deposit_waived": decision.deposit_waived,
        "deposit_due": decision.deposit_due,
        "credit_line": decision.credit_line,
        "apr": decision.apr,
        "rate_band": decision.rate_band,
        "reasons": _minimised(decision, product, grant),
    }
    answer["scorable"] = score.scored
    answer["open_dispute"] = answer["human_review_offered"] = False
    if grant.may_see_band:
        answer["band"] = score.band
    if grant.may_see_score:
        answer["score"] = score.score
        answer["dimensions"] = dict(score.dimensions)
        answer["score_reasons"] = [dict(r) for r in score.reasons]
    return answer


def decide_for_partner(state: AppState, key: str, request: DecisionRequest) -> DecisionAnswer:
    """Authenticate ``key`` (a partner's), then answer, record and log one decision (see
    the module docstring).

    Everything the answer needs is read in a read transaction, which never queues for the
    registry's writers; the write transaction holds only the grant's re-check (a grant
    revoked, or a file locked, after it was read stores nothing and answers as if it had
    been so before) and the two rows and their audit entries."""
    # Catch up with the ledger before any transaction.
    state.public_records.refresh()
    for _ in range(2):
        with state.read() as conn:
            principal = authenticate(conn, key, "partner")
            state.partner_rate.check(principal.partner_id, "decisions")
            product = state.catalogue.get(request.product_id)
            grant = _grant(conn, principal.partner_id, request)
            person_id = grant.person_id
            try:
                score = registry.current_score(conn, person_id)
            except NotFound:
                score = None
            if score is not None:
                records = state.public_records.live_for(person_id)
                if records:  # most people have none: then disputes cannot matter
                    excluded = registry.excluded_records(conn, [person_id])
                    records = state.public_records.live_for(
                        person_id, excluded.get(person_id, frozenset())
                    )
                decision = decide(product, score.score, score.band, score.reasons, records)
                answer = _answer(decision, product, grant, score)
                terms = decision.terms()
                if registry.has_open_dispute(conn, person_id):
                    # Decided on a file under dispute: the partner is told, the person is
                    # offered a human review (and a correction notice follows if the
                    # dispute is resolved in their favour).
                    answer["open_dispute"] = answer["human_review_offered"] = True
                    terms["open_dispute"] = True
        if score is None:
            # No published score yet: publish one (its own transactions), then decide.
            publish_now(state, person_id, actor=principal.actor)
            continue
        with state.write() as conn:
            grant = _grant(conn, principal.partner_id, request)
            record, inquiry = registry.record_answered_decision(
                conn,
                grant,
                product_id=product.id,
                outcome=decision.outcome,
                terms=terms,
                reasons=[r.to_json() for r in decision.reasons],
                score=score.score,
                band=score.band,
                answer=answer,
                actor=principal.actor,
                max_merge_delay=state.api.audit_max_merge_delay_seconds,
                partner=principal.name,
            )
        receipts = [r.to_json() for r in (record.receipt, inquiry.receipt) if r]
        state.metrics.decisions.labels(decision.outcome).inc()
        return DecisionAnswer(
            **inquiry.returned,
            inquiry_id=inquiry.id,
            decided_at=record.decided_at,
            receipts=receipts,
        )
    raise NotReady("the score could not be published: retry")  # pragma: no cover


def _grant(conn: Connection, partner_id: str, request: DecisionRequest) -> Grant:
    """The grant the request presents, usable now for its person, product and purpose."""
    grant = registry.usable_grant(
        conn, partner_id=partner_id, grant_id=request.grant_id, product_id=request.product_id
    )
    if grant.person_id != request.person_id:
        # Same answer as a grant that does not exist: ids reveal nothing.
        raise NotFound(f"grant {request.grant_id!r} not found")
    if grant.purpose != request.purpose:
        raise ConsentError(
            f"this grant was given for the purpose {grant.purpose!r}, not {request.purpose!r}"
        )
    return grant
