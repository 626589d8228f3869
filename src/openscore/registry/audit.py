"""The tamper-evident audit log: an append-only Merkle log in the style of Certificate
Transparency (RFC 6962 hashing, see :mod:`openscore.registry.merkle`).

Every state change in the registry appends one entry **in the same transaction** as the
change, so a change that rolls back leaves no entry and an entry never describes a change
that did not happen. An entry is canonical JSON (keys sorted, no spaces, ASCII)::

    {"action": "consent.granted", "actor": "subject", "at": "2025-01-02T03:04:05.000000Z",
     "details": {"source": "wallet"}, "refs": {"consent": "<hmac>"},
     "seq": 41, "subject": "person:<hmac>", "v": 1}

**No personal data sits inside a hashed entry.** Hashes can never be changed without
breaking the log, so whatever is hashed can never be erased: the person is named only
by ``subject`` = HMAC(person's salt, seq), and the ids of their objects (grant, inquiry,
dispute ...) only by ``refs`` = HMAC(person's salt, seq, name, value). The salt lives in
``audit_salts``, outside the log; erasing a person deletes it, and from then on no one can
tell which entries were theirs, or even that two entries concern the same person, while
every hash still verifies. Both HMACs are bound to ``seq`` so that entries cannot be
linked to each other through a shared value (a partner knows its own grant ids).
``docs/audit-log.md`` explains the design and its limits.

Each entry row also stores the tree root after it and an HMAC of (size, root) under a key
derived from the settings' secret: a signed tree head at every size. That is what lets
:func:`verify` name the *first* bad entry even when someone rewrote hashes after it.
Explicit checkpoints (:func:`sign_tree_head`) go to ``audit_heads``, for publication and
consistency proofs between them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import InputError, IntegrityError, NotFound, StorageError
from openscore.registry import merkle
from openscore.registry.engine import audit_key
from openscore.registry.metadata import (
    audit_entries,
    audit_heads,
    audit_links,
    audit_salts,
    audit_state,
    utc_now,
)

ENTRY_VERSION = 1
_ACTION = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)+$")
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
#: Who did it: the subject themself, a partner or operator (by principal id), or the system.
ACTOR_PATTERN = re.compile(rf"^(subject|system(:{_NAME})?|partner:{_NAME}|operator:{_NAME})$")
#: What it concerns when that is not a person (persons are pseudonymised by ``append``).
SUBJECT_PATTERN = re.compile(rf"^(partner|furnisher|release):{_NAME}$")


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed: sorted keys, no spaces, ASCII."""

    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return format_time(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON")

    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
        default=default,
    ).encode("ascii")


def format_time(at: datetime) -> str:
    """UTC, microseconds, ``Z``: one spelling per instant."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seq_bytes(seq: int) -> bytes:
    return seq.to_bytes(8, "big")


def head_mac(key: bytes, tree_size: int, root: bytes) -> bytes:
    """HMAC-SHA256 over (size, root): a signed tree head, in the shared-key form."""
    return hmac.new(
        key, b"openscore.audit.head.v1\x00" + _seq_bytes(tree_size) + root, hashlib.sha256
    ).digest()


def subject_ref(salt: bytes, seq: int) -> str:
    """The pseudonym of a person in entry ``seq``: only the holder of the salt can link it."""
    mac = hmac.new(salt, b"openscore.audit.subject.v1\x00" + _seq_bytes(seq), hashlib.sha256)
    return "person:" + mac.hexdigest()


def link_ref(salt: bytes, seq: int, name: str, value: str) -> str:
    """The pseudonym of a person-owned value (a grant id, a record reference) in entry ``seq``."""
    message = b"openscore.audit.link.v1\x00" + _seq_bytes(seq) + name.encode() + b"\x00"
    return hmac.new(salt, message + value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored entry; ``entry`` is the exact hashed bytes."""

    seq: int
    action: str
    entry: bytes
    leaf_hash: bytes
    tree_root: bytes
    head_mac: bytes

    @property
    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = json.loads(self.entry)
        return content

    @property
    def at(self) -> datetime:
        return datetime.strptime(self.content["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    @property
    def tree_size(self) -> int:
        """The size of the tree whose root ``tree_root`` is (this entry is its last leaf)."""
        return self.seq + 1


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tree size, its root and the MAC over both; ``signed_at`` for stored checkpoints."""

    tree_size: int
    root: bytes
    mac: bytes
    signed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "mac": self.mac.hex(),
            "signed_at": format_time(self.signed_at) if self.signed_at else None,
        }


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That entry ``seq`` is leaf ``seq`` of the tree of ``tree_size`` entries whose root is
    ``root``; self-contained, so a subject can check it without the database."""

    seq: int
    tree_size: int
    entry: bytes
    leaf_hash: bytes
    path: tuple[bytes, ...]
    root: bytes
    head_mac: bytes

    def verify(self, key: bytes | None = None) -> bool:
        """Recompute the leaf from the entry and the root from the path; with ``key``, also
        check the tree head's MAC."""
        if merkle.leaf_hash(self.entry) != self.leaf_hash:
            return False
        if not merkle.verify_inclusion(
            self.leaf_hash, self.seq, self.tree_size, self.path, self.root
        ):
            return False
        if key is not None:
            return hmac.compare_digest(head_mac(key, self.tree_size, self.root), self.head_mac)
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "entry": self.entry.decode("ascii"),
            "leaf_hash": self.leaf_hash.hex(),
            "path": [p.hex() for p in self.path],
            "root": self.root.hex(),
            "head_mac": self.head_mac.hex(),
            "hashing": "RFC 6962: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || l || r)",
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """That the tree of ``first_size`` entries is a prefix of the tree of ``second_size``."""

    first_size: int
    second_size: int
    first_root: bytes
    second_root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.first_size, self.second_size, self.first_root, self.second_root, self.path
        )


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The outcome of :func:`verify`: ``first_bad`` names the first entry that fails."""

    ok: bool
    tree_size: int
    root: bytes
    entries_checked: int
    heads_checked: int
    macs_checked: bool
    first_bad: int | None = None
    problem: str | None = None

    def raise_for_problem(self) -> None:
        """Raise :class:`IntegrityError` naming the first bad entry, if there is one."""
        if not self.ok:
            raise IntegrityError(self.problem or "the audit log does not verify")


def _require_key(conn: Connection) -> bytes:
    key = audit_key(conn)
    if key is None:
        raise IntegrityError(
            "this registry engine has no audit key: create it with "
            "create_registry_engine(url, secret_key=...) to append to or sign the audit log"
        )
    return key


# The statements of an append, built once: building a Core statement and its cache key
# costs more than running it on SQLite, and every state change appends.
_SALT = sa.select(audit_salts.c.salt).where(audit_salts.c.person_id == sa.bindparam("person_id"))
_LOCK_STATE = (
    sa.select(audit_state.c.size, audit_state.c.frontier)
    .where(audit_state.c.id == 1)
    .with_for_update()
)
_INSERT_ENTRY = audit_entries.insert()
#: The lock and the salt of the one person most batches concern, in one round trip (the
#: lock applies to ``audit_state`` only; SQLite compiles no FOR UPDATE at all).
_LOCK_STATE_WITH_SALT = (
    sa.select(
        audit_state.c.size,
        audit_state.c.frontier,
        sa.select(audit_salts.c.salt)
        .where(audit_salts.c.person_id == sa.bindparam("person_id"))
        .scalar_subquery()
        .label("salt"),
    )
    .where(audit_state.c.id == 1)
    .with_for_update()
)
_UPDATE_STATE = (
    audit_state.update()
    .where(audit_state.c.id == 1)
    .values(size=sa.bindparam("new_size"), frontier=sa.bindparam("new_frontier"))
)
_INSERT_LINK = audit_links.insert()


def _salt(conn: Connection, person_id: str) -> bytes:
    salt = conn.execute(_SALT, {"person_id": person_id}).scalar_one_or_none()
    if salt is None:
        raise NotFound(f"person {person_id!r} not found")
    return bytes(salt)


def _check_no_person_id(value: Any, person_id: str, where: str) -> None:
    # A programming error, not bad input: the log must never hold a person's id.
    if isinstance(value, str) and value == person_id:
        raise ValueError(f"audit {where} holds the person's id: pass it in `linked` instead")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_no_person_id(k, person_id, where)
            _check_no_person_id(v, person_id, where)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_no_person_id(v, person_id, where)


def _frontier(raw: bytes, size: int) -> list[bytes]:
    raw = bytes(raw)
    hashes = [raw[i : i + merkle.HASH_SIZE] for i in range(0, len(raw), merkle.HASH_SIZE)]
    if len(raw) % merkle.HASH_SIZE or len(hashes) != size.bit_count():
        raise IntegrityError(f"audit_state: the stored frontier does not fit a tree of {size}")
    return hashes


def _lock_state(
    conn: Connection, salts: dict[str, bytes], person_ids: Sequence[str]
) -> tuple[int, list[bytes]]:
    """Lock the log's state and read it; put the salts of ``person_ids`` in ``salts``.

    FOR UPDATE serialises appenders on PostgreSQL until commit (seq stays gapless and the
    frontier consistent); SQLite ignores it and is serialised by BEGIN IMMEDIATE.
    """
    row: sa.Row[*tuple[Any, ...]] | None
    if len(person_ids) == 1:  # nearly every append: one person, one statement
        row = conn.execute(_LOCK_STATE_WITH_SALT, {"person_id": person_ids[0]}).one_or_none()
        if row is not None:
            if row.salt is None:
                raise NotFound(f"person {person_ids[0]!r} not found")
            salts[person_ids[0]] = bytes(row.salt)
    else:
        for person_id in person_ids:
            salts[person_id] = _salt(conn, person_id)
        row = conn.execute(_LOCK_STATE).one_or_none()
    if row is None:
        raise StorageError("the audit log is not initialised: run the registry migrations")
    return int(row.size), _frontier(row.frontier, int(row.size))


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """One entry to append (the arguments of :func:`append`), for :func:`append_many`."""

    action: str
    actor: str
    person_id: str | None = None
    subject: str | None = None
    details: Mapping[str, Any] | None = None
    linked: Mapping[str, str | None] | None = None
    at: datetime | None = None

    def check(self) -> dict[str, Any]:
        """The details as they will be stored, after refusing what an entry cannot hold."""
        if not _ACTION.match(self.action):
            raise InputError(f"audit action {self.action!r} is not 'noun.verb'", field="action")
        if not ACTOR_PATTERN.match(self.actor):
            raise InputError(f"audit actor {self.actor!r} is not a known form", field="actor")
        if self.person_id is not None and self.subject is not None:
            raise ValueError("an audit entry has one subject: a person or another subject")
        if self.subject is not None and not SUBJECT_PATTERN.match(self.subject):
            raise InputError(f"audit subject {self.subject!r} is not a known form", field="subject")
        if self.linked and self.person_id is None:
            raise ValueError("linked values are pseudonymised with a person's salt: pass person_id")
        details = dict(self.details or {})
        if self.person_id is not None:
            _check_no_person_id(details, self.person_id, "details")
        return details


def append(
    conn: Connection,
    *,
    action: str,
    actor: str,
    person_id: str | None = None,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
    linked: Mapping[str, str | None] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry describing a state change, inside the caller's transaction.

    ``person_id`` is pseudonymised (never stored in the entry) and the entry is linked to
    the person outside the log; ``subject`` names a non-person subject (``partner:ID``,
    ``furnisher:ID``, ``release:NAME``); ``details`` must hold no personal data
    (values equal to ``person_id`` are refused); ``linked`` values are person-owned
    identifiers or contents, stored only as HMACs under the person's salt.
    """
    entry = PendingEntry(action, actor, person_id, subject, details, linked, at)
    return append_many(conn, [entry])[0]


def append_many(conn: Connection, pending: Sequence[PendingEntry]) -> list[AuditEntry]:
    """Append several entries in order, inside the caller's transaction: one change that
    is recorded as several facts (a decision and the inquiry that returned it).

    The entries are exactly those that as many :func:`append` calls would write — each
    its own ``seq``, leaf, root and head MAC — but the log's state is read and locked
    once (with the salt of the person, when one person is concerned), each person's salt
    read once, and the rows written in one statement per table.
    """
    checked = [(item, item.check()) for item in pending]
    if not checked:
        return []
    key = _require_key(conn)
    salts: dict[str, bytes] = {}
    persons = list(dict.fromkeys(i.person_id for i, _ in checked if i.person_id is not None))
    seq, frontier = _lock_state(conn, salts, persons)
    return _write_entries(
        conn,
        key,
        seq,
        frontier,
        [(item, details, salts.get(item.person_id or ""), None) for item, details in checked],
    )


def _write_entries(
    conn: Connection,
    key: bytes,
    seq: int,
    frontier: list[bytes],
    items: Sequence[tuple[PendingEntry, dict[str, Any], bytes | None, bytes | None]],
) -> list[AuditEntry]:
    """Hash ``items`` (entry, checked details, the person's salt, the receipt's entry hash)
    into the tree from ``seq`` on and write entries, state and links; the caller holds
    the state's lock. A person entry without a salt (erased while queued) gets a one-off
    random salt and no link: it can be tied to no one, as erasure promises."""
    now = utc_now()
    appended: list[AuditEntry] = []
    links: list[dict[str, Any]] = []
    for item, details, salt, receipt in items:
        subject = item.subject
        refs: dict[str, str] = {}
        if item.person_id is not None:
            linked = salt is not None
            salt = salt if salt is not None else secrets.token_bytes(32)
            subject = subject_ref(salt, seq)
            refs = {
                name: link_ref(salt, seq, name, value)
                for name, value in (item.linked or {}).items()
                if value is not None
            }
            if linked:
                links.append({"person_id": item.person_id, "seq": seq})
        content = {
            "v": ENTRY_VERSION,
            "seq": seq,
            "at": format_time(item.at or now),
            "actor": item.actor,
            "action": item.action,
            "subject": subject,
            "details": details,
            "refs": refs,
        }
        if receipt is not None:
            content["receipt"] = receipt.hex()
        entry = canonical_json(content)
        leaf = merkle.leaf_hash(entry)
        frontier = merkle.frontier_append(frontier, seq, leaf)
        root = merkle.frontier_root(frontier)
        appended.append(
            AuditEntry(seq, item.action, entry, leaf, root, head_mac(key, seq + 1, root))
        )
        seq += 1
    conn.execute(
        _INSERT_ENTRY,
        [
            {
                "seq": e.seq,
                "action": e.action,
                "entry": e.entry,
                "leaf_hash": e.leaf_hash,
                "tree_root": e.tree_root,
                "head_mac": e.head_mac,
            }
            for e in appended
        ],
    )
    conn.execute(_UPDATE_STATE, {"new_size": seq, "new_frontier": b"".join(frontier)})
    if links:
        conn.execute(_INSERT_LINK, links)
    return appended


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        action=row.action,
        entry=bytes(row.entry),
        leaf_hash=bytes(row.leaf_hash),
        tree_root=bytes(row.tree_root),
        head_mac=bytes(row.head_mac),
    )


_ENTRY_COLUMNS = (
    audit_entries.c.seq,
    audit_entries.c.action,
    audit_entries.c.entry,
    audit_entries.c.leaf_hash,
    audit_entries.c.tree_root,
    audit_entries.c.head_mac,
)


def tree_size(conn: Connection) -> int:
    """How many entries the log holds."""
    size = conn.execute(sa.select(audit_state.c.size).where(audit_state.c.id == 1)).scalar()
    if size is None:
        raise StorageError("the audit log is not initialised: run the registry migrations")
    return int(size)


def get_entry(conn: Connection, seq: int) -> AuditEntry:
    """Entry ``seq``; :class:`NotFound` past the end."""
    row = conn.execute(sa.select(*_ENTRY_COLUMNS).where(audit_entries.c.seq == seq)).one_or_none()
    if row is None:
        raise NotFound(f"audit entry {seq} not found")
    return _entry(row)


def list_entries(conn: Connection, *, start: int = 0, limit: int = 100) -> list[AuditEntry]:
    """Entries from ``start`` on, in order (for the operator console and exports)."""
    rows = conn.execute(
        sa.select(*_ENTRY_COLUMNS)
        .where(audit_entries.c.seq >= start)
        .order_by(audit_entries.c.seq)
        .limit(limit)
    )
    return [_entry(r) for r in rows]


def recent_entries(
    conn: Connection, *, before: int | None = None, action: str | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Entries newest first (for browsing): those below seq ``before`` (all when None),
    only ``action`` when given."""
    query = sa.select(*_ENTRY_COLUMNS).order_by(audit_entries.c.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(audit_entries.c.seq < before)
    if action is not None:
        query = query.where(audit_entries.c.action == action)
    return [_entry(r) for r in conn.execute(query)]


def action_counts(conn: Connection) -> dict[str, int]:
    """How many entries each action has, by action name."""
    rows = conn.execute(
        sa.select(audit_entries.c.action, sa.func.count())
        .group_by(audit_entries.c.action)
        .order_by(audit_entries.c.action)
    )
    return {str(a): int(n) for a, n in rows}


def person_entries(conn: Connection, person_id: str, *, limit: int = 1000) -> list[AuditEntry]:
    """The entries that concern a person (through the erasable links), oldest first."""
    rows = conn.execute(
        sa.select(*_ENTRY_COLUMNS)
        .join(audit_links, audit_links.c.seq == audit_entries.c.seq)
        .where(audit_links.c.person_id == person_id)
        .order_by(audit_entries.c.seq)
        .limit(limit)
    )
    return [_entry(r) for r in rows]


def concerns(conn: Connection, person_id: str, entry: AuditEntry) -> bool:
    """Whether ``entry`` names this person (recomputing its pseudonym with their salt)."""
    try:
        salt = _salt(conn, person_id)
    except NotFound:
        return False
    return entry.content.get("subject") == subject_ref(salt, entry.seq)


def linked_value_matches(
    conn: Connection, person_id: str, entry: AuditEntry, name: str, value: str
) -> bool:
    """Whether ``entry``'s ref ``name`` is the HMAC of ``value`` under this person's salt."""
    try:
        salt = _salt(conn, person_id)
    except NotFound:
        return False
    ref = entry.content.get("refs", {}).get(name)
    return ref is not None and hmac.compare_digest(ref, link_ref(salt, entry.seq, name, value))


def current_head(conn: Connection) -> TreeHead:
    """The head of the whole log now: size, root and its MAC (from the last entry)."""
    size = tree_size(conn)
    if size == 0:
        key = _require_key(conn)
        return TreeHead(0, merkle.EMPTY_ROOT, head_mac(key, 0, merkle.EMPTY_ROOT))
    last = get_entry(conn, size - 1)
    return TreeHead(size, last.tree_root, last.head_mac)


def _head_at(conn: Connection, size: int) -> TreeHead:
    if size == 0:
        return TreeHead(0, merkle.EMPTY_ROOT, head_mac(_require_key(conn), 0, merkle.EMPTY_ROOT))
    entry = get_entry(conn, size - 1)
    return TreeHead(size, entry.tree_root, entry.head_mac)


def sign_tree_head(conn: Connection, *, now: datetime | None = None) -> TreeHead:
    """Store the current head as a checkpoint (to publish or to prove consistency against).

    Signing is not itself logged: an entry would change the size the head describes.
    """
    key = _require_key(conn)
    head = current_head(conn)
    existing = conn.execute(
        sa.select(audit_heads).where(audit_heads.c.tree_size == head.tree_size)
    ).one_or_none()
    if existing is not None:
        return TreeHead(
            int(existing.tree_size), bytes(existing.root), bytes(existing.mac), existing.signed_at
        )
    signed_at = now or utc_now()
    mac = head_mac(key, head.tree_size, head.root)
    conn.execute(
        audit_heads.insert().values(
            tree_size=head.tree_size, root=head.root, signed_at=signed_at, mac=mac
        )
    )
    return TreeHead(head.tree_size, head.root, mac, signed_at)


def tree_heads(conn: Connection) -> list[TreeHead]:
    """The stored checkpoints, smallest first."""
    rows = conn.execute(sa.select(audit_heads).order_by(audit_heads.c.tree_size))
    return [TreeHead(int(r.tree_size), bytes(r.root), bytes(r.mac), r.signed_at) for r in rows]


def _leaf_hashes(conn: Connection, size: int) -> list[bytes]:
    rows = conn.execute(
        sa.select(audit_entries.c.leaf_hash)
        .where(audit_entries.c.seq < size)
        .order_by(audit_entries.c.seq)
    )
    leaves = [bytes(r[0]) for r in rows]
    if len(leaves) != size:
        raise IntegrityError(f"the audit log is missing entries below {size}: run verify")
    return leaves


def _check_size(conn: Connection, size: int | None, *, minimum: int) -> int:
    current = tree_size(conn)
    if size is None:
        size = current
    if not minimum <= size <= current:
        raise InputError(f"tree size {size} is outside {minimum}..{current}", field="tree_size")
    return size


def inclusion_proof(conn: Connection, seq: int, *, size: int | None = None) -> InclusionProof:
    """The audit path proving entry ``seq`` is in the tree of ``size`` entries (default: all).

    Reads the leaf hashes below ``size`` (32 bytes each): linear in the log, fine for
    millions of entries; a cache of subtree hashes can come when that stops being true.
    """
    if seq < 0:
        raise InputError(f"audit entry {seq} does not exist", field="seq")
    if seq >= tree_size(conn):
        raise NotFound(f"audit entry {seq} not found")
    size = _check_size(conn, size, minimum=seq + 1)
    leaves = _leaf_hashes(conn, size)
    head = _head_at(conn, size)
    root = merkle.root_hash(leaves)
    if root != head.root:
        raise IntegrityError(
            f"the audit log's stored root at size {size} does not match its leaves: run verify"
        )
    entry = get_entry(conn, seq)
    return InclusionProof(
        seq=seq,
        tree_size=size,
        entry=entry.entry,
        leaf_hash=entry.leaf_hash,
        path=tuple(merkle.inclusion_path(leaves, seq)),
        root=root,
        head_mac=head.mac,
    )


def verify_inclusion_proof(proof: InclusionProof, *, key: bytes | None = None) -> bool:
    """Check a proof offline (the same as ``proof.verify(key)``)."""
    return proof.verify(key)


def consistency_proof(
    conn: Connection, first_size: int, second_size: int | None = None
) -> ConsistencyProof:
    """Proof that the log at ``first_size`` is a prefix of the log at ``second_size``."""
    second_size = _check_size(conn, second_size, minimum=0)
    if not 0 <= first_size <= second_size:
        raise InputError(f"first size {first_size} is outside 0..{second_size}", field="first_size")
    leaves = _leaf_hashes(conn, second_size)
    return ConsistencyProof(
        first_size=first_size,
        second_size=second_size,
        first_root=merkle.root_hash(leaves[:first_size]),
        second_root=merkle.root_hash(leaves),
        path=tuple(merkle.consistency_path(leaves, first_size)),
    )


def _check_content(row: Any) -> str | None:
    """Why an entry whose leaf hash matches is still not a valid entry, if it is not."""
    try:
        content = json.loads(bytes(row.entry))
    except ValueError:
        return "is not JSON"
    if not isinstance(content, dict):
        return "is not a JSON object"
    if canonical_json(content) != bytes(row.entry):
        return "is not in canonical JSON form"
    if content.get("seq") != row.seq:
        return f"claims to be entry {content.get('seq')!r}"
    if content.get("action") != row.action:
        return f"has action {content.get('action')!r} but is indexed as {row.action!r}"
    return None


def verify(conn: Connection, *, batch: int = 2000) -> AuditVerification:
    """Recompute the whole log and name the first entry that does not verify.

    Checks, entry by entry in order: no gap in ``seq``; the leaf hash is SHA-256 of the
    stored bytes; the bytes are the canonical JSON of an entry with that seq and action;
    the stored tree root is the root of every leaf so far; its MAC is right (when the
    engine carries the key). Then the log's state row and every stored checkpoint.
    """
    key = audit_key(conn)
    state = conn.execute(
        sa.select(audit_state.c.size, audit_state.c.frontier).where(audit_state.c.id == 1)
    ).one_or_none()
    if state is None:
        raise StorageError("the audit log is not initialised: run the registry migrations")
    heads = {int(h.tree_size): h for h in conn.execute(sa.select(audit_heads))}
    frontier: list[bytes] = []
    root = merkle.EMPTY_ROOT
    expected = 0
    heads_checked = 0

    def bad(seq: int | None, problem: str) -> AuditVerification:
        return AuditVerification(
            ok=False,
            tree_size=expected,
            root=root,
            entries_checked=expected,
            heads_checked=heads_checked,
            macs_checked=key is not None,
            first_bad=seq,
            problem=problem,
        )

    rows = conn.execution_options(yield_per=batch).execute(
        sa.select(*_ENTRY_COLUMNS).order_by(audit_entries.c.seq)
    )
    for row in rows:
        seq = int(row.seq)
        if seq != expected:
            return bad(expected, f"audit entry {expected} is missing (the next one is {seq})")
        leaf = merkle.leaf_hash(bytes(row.entry))
        if leaf != bytes(row.leaf_hash):
            return bad(seq, f"audit entry {seq}: its content does not match its leaf hash")
        why = _check_content(row)
        if why:
            return bad(seq, f"audit entry {seq} {why}")
        frontier = merkle.frontier_append(frontier, seq, leaf)
        root = merkle.frontier_root(frontier)
        if root != bytes(row.tree_root):
            return bad(seq, f"audit entry {seq}: the tree root stored after it is wrong")
        if key is not None and not hmac.compare_digest(
            head_mac(key, seq + 1, root), bytes(row.head_mac)
        ):
            return bad(seq, f"audit entry {seq}: the MAC of its tree head is wrong")
        stored = heads.get(seq + 1)
        if stored is not None:
            heads_checked += 1
            if bytes(stored.root) != root or (
                key is not None
                and not hmac.compare_digest(head_mac(key, seq + 1, root), bytes(stored.mac))
            ):
                return bad(seq, f"signed tree head of size {seq + 1} does not match the log")
        expected += 1

    if int(state.size) != expected:
        return bad(
            expected if int(state.size) > expected else None,
            f"the log's state says {int(state.size)} entries but {expected} are stored"
            + (f": audit entry {expected} is missing" if int(state.size) > expected else ""),
        )
    if bytes(state.frontier) != b"".join(frontier):
        return bad(None, "the log's stored frontier does not match its entries")
    for size, stored in sorted(heads.items()):
        if size > expected:
            return bad(
                expected,
                f"a signed tree head covers {size} entries but only {expected} are stored: "
                f"audit entry {expected} is missing",
            )
        if size == 0:
            heads_checked += 1
            if bytes(stored.root) != merkle.EMPTY_ROOT:
                return bad(None, "the signed head of the empty log is wrong")
    return AuditVerification(
        ok=True,
        tree_size=expected,
        root=root,
        entries_checked=expected,
        heads_checked=heads_checked,
        macs_checked=key is not None,
    )
