"""Erasure of a person, and the purge of one source of a person after a revocation."""

from __future__ import annotations

from datetime import datetime

from openscore.domain.sources import Source
from openscore.ledger.pending import PendingOp
from openscore.ledger.rewrite import PersonRows, SourceRows, remove_rows
from openscore.ledger.store import Ledger


def erase_person(ledger: Ledger, person_id: str) -> int:
    """Remove every row about ``person_id``, including others' connections to them.

    Relationship rows of other people name the erased person as counterparty; they are
    personal data of the erased person too, so every segment is looked at. A pending
    erasure of the person (``pending.py``) is cleared in the same commit.
    """
    return remove_rows(
        ledger,
        PersonRows(person_id, counterparty=True),
        reason={"kind": "erasure"},
        finishes=PendingOp("erasure", person_id),
    )


def purge_source(
    ledger: Ledger,
    person_id: str,
    source: Source | str,
    *,
    ingested_before: datetime | None = None,
) -> int:
    """Remove a person's events of one source (their consent to it was revoked).

    ``ingested_before``: only rows ingested before then (a revocation followed by a new
    grant: what came under the new grant stays).
    """
    src = Source(source)
    return remove_rows(
        ledger,
        SourceRows(person_id, src, ingested_before=ingested_before),
        reason={"kind": "consent_purge", "source": src.value},
    )
