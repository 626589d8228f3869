"""The registry's tables (SQLAlchemy Core), the one source the migrations are checked against.

Conventions that every repository relies on:

* timestamps are timezone-aware UTC in Python and ``TIMESTAMP WITH TIME ZONE`` on
  PostgreSQL; SQLite stores them as naive UTC text, which sorts correctly
  (:class:`UTCDateTime` does the conversion, and refuses naive datetimes so that a local
  time never slips in);
* identifiers we mint are 32 hex characters (:func:`new_id`); a person's id is the one the
  furnishers use in the ledger (up to 128 characters), so ledger and registry join on it;
* every person-owned table has ``person_id`` with ``ON DELETE CASCADE``: erasing a person
  is one ``DELETE FROM people`` (plus the audit tombstone), and nothing is left behind;
* constraint names follow :data:`NAMING_CONVENTION` so migrations are deterministic on
  both backends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from openscore.domain import BAND_NAMES, CONSENTABLE_SOURCES, SCORE_MAX, SCORE_MIN

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

PERSON_ID_LENGTH = 128
ID_LENGTH = 32


def new_id() -> str:
    """A fresh random identifier (uuid4, hex): unguessable, so ids leak no order or count."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """Now, timezone-aware UTC; the one clock repositories use unless a caller passes ``now``."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (naive input is a bug and is refused)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC so that text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...] | list[str]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


#: Autoincrementing 64-bit keys; SQLite only autoincrements an ``INTEGER PRIMARY KEY``.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _person_fk(**kw: Any) -> sa.Column[str]:
    return sa.Column(
        "person_id",
        sa.String(PERSON_ID_LENGTH),
        sa.ForeignKey("people.id", ondelete="CASCADE"),
        nullable=False,
        **kw,
    )


people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.String(PERSON_ID_LENGTH), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Every session cookie carries the epoch it was issued under; a new one (password
    # change, "log out everywhere") ends them all, and a person registered again after an
    # erasure starts with a fresh random one, so the old cookies never come back.
    sa.Column("session_epoch", sa.String(32), nullable=False, server_default=""),
)

#: Erased people, as keyed hashes of their ids (``registry/suppression.py``): no personal
#: data, only enough to refuse their events and their registration again.
erased_people = sa.Table(
    "erased_people",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("erased_at", UTCDateTime(), nullable=False),
)

credentials = sa.Table(
    "credentials",
    metadata,
    _person_fk(primary_key=True),
    sa.Column("login", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("granted_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(_in("source", [s.value for s in CONSENTABLE_SOURCES]), name="source"),
    sa.CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="revoked_after"),
)
# At most one open consent per person and source; closed periods are the history.
sa.Index(
    "uq_consents_current",
    consents.c.person_id,
    consents.c.source,
    unique=True,
    sqlite_where=consents.c.revoked_at.is_(None),
    postgresql_where=consents.c.revoked_at.is_(None),
)
sa.Index("ix_consents_person_id", consents.c.person_id)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("deactivated_at", UTCDateTime(), nullable=True),
    # the catalogue products the partner offers (null: registered before partners
    # declared their products; such a partner may be offered any product)
    sa.Column("products", sa.JSON(), nullable=True),
    sa.CheckConstraint(_in("role", ["partner", "operator"]), name="role"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column("prefix", sa.String(16), nullable=False),
    # sha256 of the whole key: the key has 256 bits of entropy, so a fast hash is enough
    # and lets the lookup be an index probe.
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(index=True),
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column("products", sa.JSON(), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(_in("scope", ["decision", "band", "score"]), name="scope"),
)

inquiries = sa.Table(
    "inquiries",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(),
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "grant_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("grants.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("returned", sa.JSON(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    # Entries appended at once carry their seq; queued ones (audit_pending) their receipt id.
    sa.Column("audit_seq", sa.BigInteger(), nullable=True),
    sa.Column("audit_receipt", sa.String(ID_LENGTH), nullable=True),
)
sa.Index("ix_inquiries_person_id_at", inquiries.c.person_id, inquiries.c.at)

disputes = sa.Table(
    "disputes",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(index=True),
    sa.Column("record_ref", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("exclude_while_open", sa.Boolean(), nullable=False),
    sa.Column("filed_at", UTCDateTime(), nullable=False),
    sa.Column("deadline", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("resolution", sa.Text(), nullable=True),
    sa.CheckConstraint(_in("status", ["open", "resolved", "rejected"]), name="status"),
)
sa.Index("ix_disputes_status_deadline", disputes.c.status, disputes.c.deadline)
# One open dispute per record: a second one would only duplicate the queue.
sa.Index(
    "uq_disputes_open_record",
    disputes.c.person_id,
    disputes.c.record_ref,
    unique=True,
    sqlite_where=disputes.c.status == "open",
    postgresql_where=disputes.c.status == "open",
)

published_scores = sa.Table(
    "published_scores",
    metadata,
    # An integer key orders publications even when two share a timestamp.
    sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
    _person_fk(),
    # null with status 'unscorable': not enough data to score, so no number at all
    sa.Column("score", sa.Integer(), nullable=True),
    sa.Column("band", sa.String(16), nullable=True),
    sa.Column("dimensions", sa.JSON(), nullable=False),
    sa.Column("reasons", sa.JSON(), nullable=False),
    sa.Column("model_id", sa.String(128), nullable=False),
    sa.Column("as_of", UTCDateTime(), nullable=False),
    sa.Column("published_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="scored"),
    #: the factors that earn the person the most points (code, text, points)
    sa.Column("helps", sa.JSON(), nullable=True),
    #: ``published`` (the score as published then) or ``recomputed`` (a history point
    #: computed later, as of a past month-end, with the model of ``model_id``; its
    #: ``published_at`` is when it was computed); recomputed rows are never current
    sa.Column("kind", sa.String(16), nullable=False, server_default="published"),
    #: points of every term of the model (recomputed points): what moved between two
    sa.Column("contributions", sa.JSON(), nullable=True),
    sa.CheckConstraint(f"score BETWEEN {SCORE_MIN} AND {SCORE_MAX}", name="score_range"),
    sa.CheckConstraint(_in("band", BAND_NAMES), name="band"),
    sa.CheckConstraint(
        "(status = 'scored' AND score IS NOT NULL AND band IS NOT NULL) OR "
        "(status = 'unscorable' AND score IS NULL AND band IS NULL)",
        name="status",
    ),
    sa.CheckConstraint(_in("kind", ["published", "recomputed"]), name="kind"),
)
sa.Index("ix_published_scores_person_id_id", published_scores.c.person_id, published_scores.c.id)
sa.Index("ix_published_scores_kind_as_of", published_scores.c.kind, published_scores.c.as_of)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(),
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "grant_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("grants.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("product_id", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("score", sa.Integer(), nullable=True),
    sa.Column("band", sa.String(16), nullable=True),
    sa.Column("terms", sa.JSON(), nullable=False),
    sa.Column("reasons", sa.JSON(), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=False),
    sa.Column("audit_seq", sa.BigInteger(), nullable=True),
    sa.Column("audit_receipt", sa.String(ID_LENGTH), nullable=True),
    sa.CheckConstraint(_in("outcome", ["approve", "decline"]), name="outcome"),
)
sa.Index("ix_decisions_person_id_decided_at", decisions.c.person_id, decisions.c.decided_at)

# A correction notice (FCRA §1681i(d)): a dispute resolved in the person's favour is told to
# every partner that got a decision about them in the look-back window. Like an inquiry it
# is shown to the person; a delivery mechanism (webhooks) can push the rows later.
correction_notices = sa.Table(
    "correction_notices",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(index=True),
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "decision_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("decisions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "dispute_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("disputes.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("record_ref", sa.String(256), nullable=False),
    sa.Column("body", sa.JSON(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
)

decision_reviews = sa.Table(
    "decision_reviews",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column(
        "decision_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("decisions.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    _person_fk(index=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("requested_at", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("resolution", sa.Text(), nullable=True),
    sa.CheckConstraint(_in("status", ["requested", "upheld", "overturned"]), name="status"),
)
sa.Index(
    "ix_decision_reviews_status_requested_at",
    decision_reviews.c.status,
    decision_reviews.c.requested_at,
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("response", sa.JSON(), nullable=False),
    # Set when the request concerned a person, so that erasing the person removes it.
    sa.Column(
        "person_id",
        sa.String(PERSON_ID_LENGTH),
        sa.ForeignKey("people.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
)

file_locks = sa.Table(
    "file_locks",
    metadata,
    _person_fk(primary_key=True),
    sa.Column("locked_at", UTCDateTime(), nullable=False),
)

dp_releases = sa.Table(
    "dp_releases",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("scope", sa.String(64), nullable=False, index=True),
    sa.Column("release", sa.String(128), nullable=False, unique=True),
    sa.Column("epsilon", sa.Double(), nullable=False),
    sa.Column("delta", sa.Double(), nullable=False),
    sa.Column("released_at", UTCDateTime(), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.CheckConstraint("epsilon > 0", name="epsilon_positive"),
    sa.CheckConstraint("delta >= 0 AND delta < 1", name="delta_range"),
)

ingestion_runs = sa.Table(
    "ingestion_runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("furnisher_id", sa.String(128), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("accepted", sa.BigInteger(), nullable=False),
    sa.Column("rejected", sa.BigInteger(), nullable=False),
    sa.Column("duplicates", sa.BigInteger(), nullable=False),
    sa.Column("report_path", sa.String(1024), nullable=True),
    sa.CheckConstraint(_in("status", ["running", "committed", "failed"]), name="status"),
)

# --- the audit log --------------------------------------------------------------------

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    # Copied out of the entry for queries; verify() checks it against the entry.
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("entry", sa.LargeBinary(), nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("tree_root", sa.LargeBinary(32), nullable=False),
    sa.Column("head_mac", sa.LargeBinary(32), nullable=False),
)

#: One row (id = 1): the log's size and the frontier of its Merkle tree, so that an
#: append costs O(log n) and the row lock serialises appenders on PostgreSQL.
audit_state = sa.Table(
    "audit_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("frontier", sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

audit_heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("tree_size", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("signed_at", UTCDateTime(), nullable=False),
    sa.Column("mac", sa.LargeBinary(32), nullable=False),
)

#: The per-person secret that pseudonymises a person's audit entries. Erasing a person
#: deletes it (cascade), which unlinks every entry from them while all hashes still verify.
audit_salts = sa.Table(
    "audit_salts",
    metadata,
    _person_fk(primary_key=True),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
)

#: Entries accepted but not yet in the tree (decisions and their inquiries): written in the
#: request's own transaction with no lock on the log, answered with a signed receipt, and
#: integrated by the one sequencer in batches (``registry/audit.py``). Once integrated,
#: ``seq`` says where and the pending content (``body``, ``person_id``) is cleared: the
#: row keeps only what a receipt needs to find its entry.
audit_pending = sa.Table(
    "audit_pending",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("entry_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=True),
    # Not a foreign key: erasing a person must not drop an entry the log has promised.
    sa.Column("person_id", sa.String(PERSON_ID_LENGTH), nullable=True),
    sa.Column("queued_at", UTCDateTime(), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=True, unique=True),
)
sa.Index(
    "ix_audit_pending_unsequenced",
    audit_pending.c.queued_at,
    sqlite_where=audit_pending.c.seq.is_(None),
    postgresql_where=audit_pending.c.seq.is_(None),
)

#: Background jobs (the audit sequencer, ledger compaction, expiry) run where their lease
#: is held: one holder at a time across every server and worker process.
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("last_run_at", UTCDateTime(), nullable=True),
    sa.Column("last_ok", sa.Boolean(), nullable=True),
    sa.Column("last_result", sa.Text(), nullable=True),
)

#: Which entries concern which person (so a person can list and prove theirs); erasable.
audit_links = sa.Table(
    "audit_links",
    metadata,
    _person_fk(primary_key=True),
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
)

# --- attestations and partner webhooks (migration 0005) -------------------------------

#: Score attestations a person issued (SD-JWTs): the claims signed, never the token.
attestations = sa.Table(
    "attestations",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),  # the token's jti
    _person_fk(index=True),
    sa.Column("kid", sa.String(64), nullable=False),
    sa.Column("claims", sa.JSON(), nullable=False),
    sa.Column("audience", sa.String(200), nullable=True),
    sa.Column("score_id", sa.BigInteger(), nullable=False),
    sa.Column("issued_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_reason", sa.String(200), nullable=True),
)

#: The public status list: revoked attestation ids (random, so no personal data). No
#: foreign key to the person: erasing them must not un-revoke their attestations.
attestation_revocations = sa.Table(
    "attestation_revocations",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(_in("reason", ["withdrawn", "unsupported", "erased"]), name="reason"),
)

#: One webhook endpoint per partner, with the secret that signs what is sent to it.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

#: The durable outbox: one row per event to deliver to one partner.
webhook_outbox = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    # exactly one of partner_id (a partner's endpoint) and person_id (a person's own)
    sa.Column(
        "partner_id",
        sa.String(64),
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column(
        "person_id",
        sa.String(PERSON_ID_LENGTH),
        sa.ForeignKey("people.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("event_type", sa.String(64), nullable=False),
    # Set for events that must be sent once (a grant's expiry), unique per partner.
    sa.Column("dedupe_key", sa.String(128), nullable=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("last_status_code", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(_in("status", ["pending", "delivered", "failed"]), name="status"),
    sa.CheckConstraint("(partner_id IS NULL) <> (person_id IS NULL)", name="recipient"),
)
sa.Index(
    "uq_webhook_outbox_partner_id_dedupe_key",
    webhook_outbox.c.partner_id,
    webhook_outbox.c.dedupe_key,
    unique=True,
)
sa.Index(
    "ix_webhook_outbox_status_next_attempt_at",
    webhook_outbox.c.status,
    webhook_outbox.c.next_attempt_at,
)

#: A person's own webhook (optional): their notifications, signed, through the outbox.
person_webhooks = sa.Table(
    "person_webhooks",
    metadata,
    _person_fk(primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

#: What a person is told: a new inquiry, a decision, a score change, a dispute outcome.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    _person_fk(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("read_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(
        _in("kind", ["inquiry", "decision", "score_change", "dispute_outcome"]), name="kind"
    ),
)
sa.Index(
    "ix_notifications_person_id_created_at",
    notifications.c.person_id,
    notifications.c.created_at,
)
