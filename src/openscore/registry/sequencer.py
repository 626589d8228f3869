"""Queued audit entries, their signed receipts, and the sequencer that integrates them.

A decision (and the inquiry that returned it) must be on the record before the partner
holds the answer, but it must not wait for every other decision: appending to the Merkle
tree takes the log's one lock (``audit_state``) until commit. So the hot path does what
Certificate Transparency logs do (Trillian's sequencer, RFC 6962's *signed certificate
timestamp*):

1. :func:`append_queued` writes the entry to ``audit_pending`` **in the request's own
   transaction** (durable with the decision, gone with it if it rolls back; no lock on the
   log) and returns a :class:`Receipt`: the entry's hash, when it was queued, the maximum
   merge delay promised, and an HMAC under the audit key — a promise that the entry will
   be in the tree within that delay, without saying at which index.
2. :func:`integrate` (the sequencer; one at a time, see ``housekeeping.py``'s lease)
   locks the log, takes a batch of queued entries oldest first, hashes them into the tree
   as ordinary entries that also carry ``"receipt": <entry hash>``, marks each queued row
   with its ``seq`` and clears its content, all in one transaction: killed mid-batch, it
   leaves the batch queued; run twice, the second finds nothing left to take.
3. :func:`check_receipt` tells whether a receipt is genuine, still queued, or in the tree
   (with an inclusion proof), or does not match what the log holds.

A sequencer that meets a queued row whose content does not hash to its receipt, or a
tree whose stored state does not end where its entries end (a gap), raises
:class:`SequencerHalted` and integrates nothing; the server goes on queueing and issuing
receipts, and the problem is shown where operators look (the console, ``/metrics``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import InputError, IntegrityError, OpenscoreError
from openscore.registry import audit, merkle
from openscore.registry.metadata import (
    audit_entries,
    audit_pending,
    audit_salts,
    new_id,
    utc_now,
)

#: The promise a receipt makes unless the caller states another (seconds).
MAX_MERGE_DELAY_SECONDS = 1.0
#: Entries integrated per transaction at most.
BATCH_SIZE = 2000
RECEIPT_VERSION = 1
_PENDING_DOMAIN = b"openscore.audit.pending.v1\x00"
_RECEIPT_DOMAIN = b"openscore.audit.receipt.v1\x00"


class SequencerHalted(IntegrityError):
    """The sequencer found something it must not integrate past; nothing was written."""


def entry_hash(body: bytes) -> bytes:
    """The hash a receipt promises: SHA-256 over the queued entry's canonical bytes."""
    return hashlib.sha256(_PENDING_DOMAIN + body).digest()


@dataclass(frozen=True, slots=True)
class Receipt:
    """A signed promise that entry ``entry_hash`` will be in the log within
    ``max_merge_delay`` seconds of ``queued_at``."""

    receipt_id: str
    entry_hash: bytes
    queued_at: datetime
    max_merge_delay: float
    mac: bytes

    def signed_part(self) -> dict[str, Any]:
        return {
            "v": RECEIPT_VERSION,
            "receipt_id": self.receipt_id,
            "entry_hash": self.entry_hash.hex(),
            "queued_at": audit.format_time(self.queued_at),
            "max_merge_delay_seconds": self.max_merge_delay,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.signed_part(), "mac": self.mac.hex()}

    @classmethod
    def from_json(cls, value: Any) -> Receipt:
        """Parse a receipt as :meth:`to_json` wrote it; :class:`InputError` names the field."""
        if not isinstance(value, Mapping):
            raise InputError("a receipt is a JSON object", field="receipt")
        if value.get("v") != RECEIPT_VERSION:
            raise InputError(f"unknown receipt version {value.get('v')!r}", field="v")

        def text(name: str) -> str:
            item = value.get(name)
            if not isinstance(item, str) or not item:
                raise InputError("missing or not a string", field=name)
            return item

        def hex_bytes(name: str, size: int) -> bytes:
            try:
                raw = bytes.fromhex(text(name))
            except ValueError:
                raise InputError("not hexadecimal", field=name) from None
            if len(raw) != size:
                raise InputError(f"must be {size} bytes", field=name)
            return raw

        try:
            queued_at = datetime.strptime(text("queued_at"), "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            raise InputError(
                "not a UTC time like 2026-01-02T03:04:05.000000Z", field="queued_at"
            ) from None
        delay = value.get("max_merge_delay_seconds")
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay <= 0:
            raise InputError("must be a positive number", field="max_merge_delay_seconds")
        return cls(
            text("receipt_id"),
            hex_bytes("entry_hash", 32),
            queued_at.replace(tzinfo=UTC),
            float(delay),
            hex_bytes("mac", 32),
        )


def receipt_mac(key: bytes, receipt: Receipt) -> bytes:
    return hmac.new(
        key, _RECEIPT_DOMAIN + audit.canonical_json(receipt.signed_part()), hashlib.sha256
    ).digest()


def _body(
    receipt_id: str, item: audit.PendingEntry, details: dict[str, Any], at: datetime
) -> bytes:
    return audit.canonical_json(
        {
            "receipt_id": receipt_id,
            "action": item.action,
            "actor": item.actor,
            "person_id": item.person_id,
            "subject": item.subject,
            "details": details,
            "linked": {k: v for k, v in (item.linked or {}).items() if v is not None},
            "at": format_at(at),
        }
    )


def format_at(at: datetime) -> str:
    return audit.format_time(at)


_INSERT_PENDING = audit_pending.insert()


def append_queued(
    conn: Connection,
    pending: Sequence[audit.PendingEntry],
    *,
    max_merge_delay: float = MAX_MERGE_DELAY_SECONDS,
) -> list[Receipt]:
    """Queue entries in the caller's transaction and return one signed receipt each.

    Checked exactly as :func:`audit.append_many` checks them, so the sequencer never
    meets an entry the log would refuse; no lock on the log is taken.
    """
    key = audit._require_key(conn)
    now = utc_now()
    receipts: list[Receipt] = []
    rows: list[dict[str, Any]] = []
    for position, item in enumerate(pending):
        details = item.check()
        # Entries of one transaction integrate in the order given: the sequencer takes
        # the oldest first, so each is queued a microsecond after the one before.
        queued_at = now + timedelta(microseconds=position)
        receipt_id = new_id()
        body = _body(receipt_id, item, details, item.at or now)
        digest = entry_hash(body)
        unsigned = Receipt(receipt_id, digest, queued_at, max_merge_delay, b"")
        receipts.append(
            Receipt(receipt_id, digest, queued_at, max_merge_delay, receipt_mac(key, unsigned))
        )
        rows.append(
            {
                "id": receipt_id,
                "entry_hash": digest,
                "body": body,
                "person_id": item.person_id,
                "queued_at": queued_at,
                "seq": None,
            }
        )
    if rows:
        conn.execute(_INSERT_PENDING, rows)
    return receipts


@dataclass(frozen=True, slots=True)
class Integration:
    """What one :func:`integrate` call did."""

    integrated: int
    tree_size: int
    still_queued: bool


def _parse_body(row: Any) -> audit.PendingEntry:
    """The queued entry in ``row``; :class:`SequencerHalted` if it is not intact."""
    where = f"queued audit entry {row.id!r} (audit_pending)"
    if row.body is None:
        raise SequencerHalted(f"{where} has no content but no seq either")
    if not isinstance(row.body, bytes | memoryview):
        raise SequencerHalted(f"{where}: its content is not bytes")
    body = bytes(row.body)
    if not hmac.compare_digest(entry_hash(body), bytes(row.entry_hash)):
        raise SequencerHalted(f"{where}: its content does not match its receipt's hash")
    try:
        content = json.loads(body)
        if content["receipt_id"] != row.id or content["person_id"] != row.person_id:
            raise ValueError("its ids do not match its row")
        at = datetime.strptime(content["at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        item = audit.PendingEntry(
            action=content["action"],
            actor=content["actor"],
            person_id=content["person_id"],
            subject=content["subject"],
            details=content["details"],
            linked=content["linked"],
            at=at.replace(tzinfo=UTC),
        )
        item.check()
    except (ValueError, KeyError, TypeError, OpenscoreError) as exc:
        raise SequencerHalted(f"{where} is not a valid entry: {exc}") from None
    return item


_LAST_ENTRY = (
    sa.select(audit_entries.c.seq, audit_entries.c.tree_root)
    .order_by(audit_entries.c.seq.desc())
    .limit(1)
)
_QUEUED = (
    sa.select(
        audit_pending.c.id,
        audit_pending.c.entry_hash,
        audit_pending.c.body,
        audit_pending.c.person_id,
    )
    .where(audit_pending.c.seq.is_(None))
    .order_by(audit_pending.c.queued_at, audit_pending.c.id)
    .limit(sa.bindparam("limit"))
)
_MARK = (
    audit_pending.update()
    .where(audit_pending.c.id == sa.bindparam("b_id"))
    .values(seq=sa.bindparam("b_seq"), body=None, person_id=None)
)


def integrate(conn: Connection, *, limit: int = BATCH_SIZE) -> Integration:
    """Integrate up to ``limit`` queued entries, oldest first, in the caller's transaction.

    Raises :class:`SequencerHalted` (writing nothing) on a corrupt queued entry or a gap
    between the log's state and its stored entries.
    """
    key = audit._require_key(conn)
    state = conn.execute(audit._LOCK_STATE).one_or_none()
    if state is None:
        raise SequencerHalted("the audit log is not initialised: run the registry migrations")
    size = int(state.size)
    try:
        frontier = audit._frontier(state.frontier, size)
    except IntegrityError as exc:
        raise SequencerHalted(str(exc)) from None
    last = conn.execute(_LAST_ENTRY).one_or_none()
    last_seq = -1 if last is None else int(last.seq)
    if last_seq != size - 1:
        raise SequencerHalted(
            f"the audit log's state says {size} entries but the last stored is entry "
            f"{last_seq}: a gap or a lost write; run `openscore audit verify`"
        )
    if last is not None and bytes(last.tree_root) != merkle.frontier_root(frontier):
        raise SequencerHalted(
            f"the audit log's stored frontier does not give the root of entry {last_seq}: "
            "run `openscore audit verify`"
        )
    rows = conn.execute(_QUEUED, {"limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return Integration(0, size, False)
    items = [(row, _parse_body(row)) for row in rows]
    persons = sorted({i.person_id for _, i in items if i.person_id is not None})
    salts: dict[str, bytes] = {}
    if persons:
        for chunk_start in range(0, len(persons), 500):
            chunk = persons[chunk_start : chunk_start + 500]
            for person_id, salt in conn.execute(
                sa.select(audit_salts.c.person_id, audit_salts.c.salt).where(
                    audit_salts.c.person_id.in_(chunk)
                )
            ):
                salts[person_id] = bytes(salt)
    written = audit._write_entries(
        conn,
        key,
        size,
        frontier,
        [
            (item, dict(item.details or {}), salts.get(item.person_id or ""), bytes(row.entry_hash))
            for row, item in items
        ],
    )
    conn.execute(
        _MARK,
        [{"b_id": row.id, "b_seq": e.seq} for (row, _), e in zip(items, written, strict=True)],
    )
    return Integration(len(written), size + len(written), more)


@dataclass(frozen=True, slots=True)
class QueueState:
    """How far the sequencer is behind: queued entries and the oldest one's age."""

    queued: int
    oldest_queued_at: datetime | None

    def lag_seconds(self, now: datetime | None = None) -> float:
        if self.oldest_queued_at is None:
            return 0.0
        return max(0.0, ((now or utc_now()) - self.oldest_queued_at).total_seconds())


def queue_state(conn: Connection) -> QueueState:
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.min(audit_pending.c.queued_at)).where(
            audit_pending.c.seq.is_(None)
        )
    ).one()
    oldest = row[1]
    if isinstance(oldest, str):  # SQLite's min() returns the stored text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    elif oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return QueueState(int(row[0]), oldest)


def resolve_seq(conn: Connection, receipt_id: str) -> int | None:
    """The seq a queued entry was integrated at (``None`` while it is queued)."""
    return conn.execute(
        sa.select(audit_pending.c.seq).where(audit_pending.c.id == receipt_id)
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """The outcome of :func:`check_receipt`. ``status``: ``integrated`` (``proof`` holds
    the inclusion proof), ``queued`` (genuine, not in the tree yet), ``mismatch`` (the
    log holds something else, or the MAC is wrong)."""

    status: str
    message: str
    seq: int | None = None
    proof: audit.InclusionProof | None = None

    @property
    def ok(self) -> bool:
        return self.status == "integrated"


def check_receipt(
    conn: Connection, receipt: Receipt, *, now: datetime | None = None
) -> ReceiptCheck:
    """Check ``receipt`` against this log (see :class:`ReceiptCheck`)."""
    key = audit._require_key(conn)
    if not hmac.compare_digest(receipt_mac(key, receipt), receipt.mac):
        return ReceiptCheck(
            "mismatch",
            f"receipt {receipt.receipt_id}: its MAC does not verify: this log did not issue "
            "it, or it was altered",
        )
    row = conn.execute(
        sa.select(audit_pending.c.entry_hash, audit_pending.c.seq).where(
            audit_pending.c.id == receipt.receipt_id
        )
    ).one_or_none()
    if row is None:
        return ReceiptCheck(
            "mismatch",
            f"receipt {receipt.receipt_id}: the log holds no entry with this receipt "
            "(its transaction never committed here, or the registry was replaced)",
        )
    if bytes(row.entry_hash) != receipt.entry_hash:
        return ReceiptCheck(
            "mismatch", f"receipt {receipt.receipt_id}: the log's entry has another hash"
        )
    if row.seq is None:
        age = ((now or utc_now()) - receipt.queued_at).total_seconds()
        late = age > receipt.max_merge_delay
        return ReceiptCheck(
            "queued",
            f"receipt {receipt.receipt_id}: genuine, not yet integrated (queued {age:.1f} s "
            f"ago; promised within {receipt.max_merge_delay:g} s"
            + ("; LATE: is the sequencer running?)" if late else ")"),
        )
    seq = int(row.seq)
    entry = audit.get_entry(conn, seq)
    if entry.content.get("receipt") != receipt.entry_hash.hex():
        return ReceiptCheck(
            "mismatch",
            f"receipt {receipt.receipt_id}: entry {seq} does not carry this receipt's hash",
            seq,
        )
    proof = audit.inclusion_proof(conn, seq)
    if not proof.verify(key):
        return ReceiptCheck(
            "mismatch", f"receipt {receipt.receipt_id}: entry {seq}'s inclusion proof fails", seq
        )
    return ReceiptCheck(
        "integrated",
        f"receipt {receipt.receipt_id}: integrated as entry {seq}; its inclusion in the tree "
        f"of {proof.tree_size} entries (root {proof.root.hex()[:16]}...) verifies",
        seq,
        proof,
    )
