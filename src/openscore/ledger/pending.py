"""Operations that span the registry and the ledger, recorded before they start.

An erasure and a consent revocation change two stores that cannot commit together: the
registry (a database) and the ledger (files). Whichever commits first, a crash in
between would leave one changed and the other not — a person erased from the registry
whose events stay in the ledger, or a revoked source whose events were never purged —
and a retry could not tell, because the registry step cannot be repeated (the person is
gone, the consent already revoked).

So the intent is committed to the ledger's manifest *first* (durable, like any manifest
commit), then the registry step runs, then the ledger step, which clears the intent in
the same manifest commit as its own change (or just after, for steps that follow it).
Whoever finds an intent left behind — the API at start-up, ``openscore ledger verify
--repair``, the next erasure or revocation — finishes it (``openscore.online.recover``).

An intent names the person (it must, to finish the job); it lives only as long as the
operation and the ledger it sits in holds that person's rows until then anyway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from openscore.ledger.manifest import Manifest, now_iso
from openscore.ledger.store import Ledger

Kind = Literal["erasure", "consent_purge"]


@dataclass(frozen=True, slots=True)
class PendingOp:
    """One unfinished cross-store operation."""

    kind: Kind
    person_id: str
    source: str | None = None
    actor: str = "system"
    since: str = ""

    def same(self, other: PendingOp | dict[str, Any]) -> bool:
        """The same operation on the same person (and source), whenever it began."""
        o = other if isinstance(other, PendingOp) else PendingOp.from_json(other)
        return (self.kind, self.person_id, self.source) == (o.kind, o.person_id, o.source)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> PendingOp:
        return cls(
            kind=body["kind"],
            person_id=body["person_id"],
            source=body.get("source"),
            actor=body.get("actor", "system"),
            since=body.get("since", ""),
        )


def pending_operations(ledger: Ledger) -> list[PendingOp]:
    """Every operation begun and not finished, oldest first."""
    return [PendingOp.from_json(p) for p in ledger.manifest().pending]


def begin(ledger: Ledger, op: PendingOp) -> PendingOp:
    """Record ``op`` durably before its first step (a no-op if it is already recorded)."""
    with ledger.writing() as txn:
        for entry in txn.manifest.pending:
            if op.same(entry):
                return PendingOp.from_json(entry)
        recorded = PendingOp(op.kind, op.person_id, op.source, op.actor, op.since or now_iso())
        txn.manifest.pending.append(recorded.to_json())
        txn.commit()
        return recorded


def clear(manifest: Manifest, op: PendingOp) -> bool:
    """Remove ``op`` from a manifest about to be committed; whether it was there."""
    before = len(manifest.pending)
    manifest.pending = [p for p in manifest.pending if not op.same(p)]
    return len(manifest.pending) != before


def finish(ledger: Ledger, op: PendingOp) -> bool:
    """Clear ``op`` (its last step is done); whether it was still recorded."""
    with ledger.writing() as txn:
        if not clear(txn.manifest, op):
            return False
        txn.commit()
        return True
