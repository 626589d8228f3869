"""The event vocabulary: every column of the ledger, and which columns each event type uses.

The ledger is one wide table: the common columns, then the columns of every type (null
where a type does not use them). ``docs/data-format.md`` documents each field; a test
checks that the document and this module agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

from openscore.domain.sources import Source

TIMESTAMP = pa.timestamp("us", tz="UTC")


#: the largest amount accepted, in the currency's units (files and the API alike): beyond
#: it is a mistake, and the features sum whole cents of amounts as 64-bit integers (one
#: amount of 10^17 could not be held, and the batch's feature query failed for everyone)
MAX_AMOUNT = 1e12


class Kind(StrEnum):
    """How a column is parsed and checked."""

    ID = "id"  # non-empty printable string, at most 128 characters
    TEXT = "text"  # free string, at most 512 characters
    ENUM = "enum"  # one of ``choices``
    AMOUNT = "amount"  # number >= 0, at most MAX_AMOUNT
    TIMESTAMP = "timestamp"  # ISO 8601 date-time (UTC if no offset) or date, 1900..now
    DATE = "date"  # ISO 8601 date, 1900..now+horizon
    BOOL = "bool"  # true/false/1/0/yes/no
    CURRENCY = "currency"  # ISO 4217 code: three capital letters


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    arrow_type: pa.DataType
    description: str
    choices: tuple[str, ...] = ()
    #: dates that may lie in the future (a due date, an expiry)
    future_ok: bool = False


def _c(name: str, kind: Kind, description: str, **kw: object) -> Column:
    arrow = {
        Kind.ID: pa.string(),
        Kind.TEXT: pa.string(),
        Kind.ENUM: pa.string(),
        Kind.CURRENCY: pa.string(),
        Kind.AMOUNT: pa.float64(),
        Kind.TIMESTAMP: TIMESTAMP,
        Kind.DATE: pa.date32(),
        Kind.BOOL: pa.bool_(),
    }[kind]
    return Column(name, kind, arrow, description, **kw)  # type: ignore[arg-type]


class EventType(StrEnum):
    PAYMENT = "payment"
    CREDIT_ACCOUNT = "credit_account"
    REPAYMENT = "repayment"
    RENTAL = "rental"
    BILL_PAYMENT = "bill_payment"
    PROFILE_FACT = "profile_fact"
    RELATIONSHIP = "relationship"
    PUBLIC_RECORD = "public_record"


RENTAL_PRODUCTS = ("bike", "power_bank", "umbrella", "car", "hotel", "room")
PROFILE_FACTS = ("identity", "address", "phone", "employer", "income", "vehicle", "property")
ACCOUNT_KINDS = ("credit_card", "loan", "mortgage", "consumer_credit", "bnpl")
RECORD_KINDS = ("court_judgment_default", "tax_arrears", "bankruptcy", "enforcement_order")

COMMON_COLUMNS: tuple[Column, ...] = (
    _c("event_id", Kind.ID, "Identifier of the event, unique per furnisher."),
    _c("type", Kind.ENUM, "Event type.", choices=tuple(t.value for t in EventType)),
    _c("furnisher_id", Kind.ID, "Who sent the event (the ingest run's --furnisher)."),
    _c("person_id", Kind.ID, "The person the event is about."),
    _c(
        "source",
        Kind.ENUM,
        "The data source, which the person consents to.",
        choices=tuple(s.value for s in Source),
    ),
    _c("occurred_at", Kind.TIMESTAMP, "When it happened (for a rental: when it started)."),
)

TYPE_COLUMNS: tuple[Column, ...] = (
    _c("channel", Kind.ENUM, "payment: online or offline.", choices=("online", "offline")),
    _c(
        "amount",
        Kind.AMOUNT,
        "payment: amount paid; profile_fact: income/value; public_record: amount owed.",
    ),
    _c("currency", Kind.CURRENCY, "payment: ISO 4217 currency code."),
    _c("merchant_category", Kind.TEXT, "payment: merchant category. Stored, never scored."),
    _c("account_id", Kind.ID, "credit_account, repayment: the account, unique per furnisher."),
    _c("action", Kind.ENUM, "credit_account: opened or closed.", choices=("opened", "closed")),
    _c("account_kind", Kind.ENUM, "credit_account: kind of account.", choices=ACCOUNT_KINDS),
    _c("credit_limit", Kind.AMOUNT, "credit_account: the limit (or loan principal)."),
    _c("due_date", Kind.DATE, "repayment, bill_payment: when it was due.", future_ok=True),
    _c("paid_date", Kind.DATE, "repayment, bill_payment: when it was paid (empty: unpaid)."),
    _c("amount_due", Kind.AMOUNT, "repayment, bill_payment: amount due."),
    _c(
        "amount_paid",
        Kind.AMOUNT,
        "repayment, bill_payment: amount paid towards it (0 if nothing; part of it if "
        "paid_date is empty).",
    ),
    _c("product", Kind.ENUM, "rental: what was rented.", choices=RENTAL_PRODUCTS),
    _c("deposit_waived", Kind.BOOL, "rental: whether the deposit was waived."),
    _c("due_back", Kind.TIMESTAMP, "rental: when it was due back.", future_ok=True),
    _c("returned_at", Kind.TIMESTAMP, "rental: when it came back (empty: not returned)."),
    _c(
        "rental_outcome",
        Kind.ENUM,
        "rental: returned, damaged or lost (empty: still out).",
        choices=("returned", "damaged", "lost"),
    ),
    _c(
        "bill_kind",
        Kind.ENUM,
        "bill_payment: utility, phone or rent.",
        choices=("utility", "phone", "rent"),
    ),
    _c("fact", Kind.ENUM, "profile_fact: which fact.", choices=PROFILE_FACTS),
    _c("fact_value", Kind.TEXT, "profile_fact: the value as declared (never scored as text)."),
    _c("verified", Kind.BOOL, "profile_fact: verified by a document or a furnisher."),
    _c("counterparty_id", Kind.ID, "relationship: the other person of a mutual connection."),
    _c("record_kind", Kind.ENUM, "public_record: kind of record.", choices=RECORD_KINDS),
    _c("legal_basis", Kind.TEXT, "public_record: the law or court order it is held under."),
    _c("expires_at", Kind.TIMESTAMP, "public_record: when it stops being used.", future_ok=True),
)

#: Columns the ledger adds to every accepted row.
LEDGER_COLUMNS: tuple[Column, ...] = (
    _c("batch_id", Kind.ID, "The ingest batch that stored the row."),
    _c(
        "ingested_at",
        Kind.TIMESTAMP,
        "When the ingest run started: before its commit and before the writer lock.",
    ),
)

EVENT_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + TYPE_COLUMNS
ALL_COLUMNS: tuple[Column, ...] = EVENT_COLUMNS + LEDGER_COLUMNS
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in ALL_COLUMNS}


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    type: EventType
    source: Source
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    description: str = ""
    negative_when: str = field(default="", repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


EVENT_TYPES: dict[EventType, EventTypeSpec] = {
    s.type: s
    for s in (
        EventTypeSpec(
            EventType.PAYMENT,
            Source.WALLET,
            required=("channel", "amount", "currency"),
            optional=("merchant_category",),
            description="A wallet payment, online or offline.",
        ),
        EventTypeSpec(
            EventType.CREDIT_ACCOUNT,
            Source.CREDIT,
            required=("account_id", "action", "account_kind"),
            optional=("credit_limit",),
            description="A credit account opened or closed.",
        ),
        EventTypeSpec(
            EventType.REPAYMENT,
            Source.CREDIT,
            required=("account_id", "due_date", "amount_due"),
            optional=("paid_date", "amount_paid"),
            description="One instalment of a credit account: due, and paid or not.",
        ),
        EventTypeSpec(
            EventType.RENTAL,
            Source.RENTALS,
            required=("product", "deposit_waived", "due_back"),
            optional=("returned_at", "rental_outcome"),
            description="A rental: started at occurred_at, due back, returned/damaged/lost.",
        ),
        EventTypeSpec(
            EventType.BILL_PAYMENT,
            Source.WALLET,
            required=("bill_kind", "due_date", "amount_due"),
            optional=("paid_date", "amount_paid"),
            description="A utility, phone or rent bill: due, and paid or not.",
        ),
        EventTypeSpec(
            EventType.PROFILE_FACT,
            Source.PROFILE,
            required=("fact", "verified"),
            optional=("fact_value", "amount"),
            description="A fact about the person's identity or capacity, since occurred_at.",
        ),
        EventTypeSpec(
            EventType.RELATIONSHIP,
            Source.SOCIAL,
            required=("counterparty_id",),
            description="A mutual connection between two people, since occurred_at.",
        ),
        EventTypeSpec(
            EventType.PUBLIC_RECORD,
            Source.PUBLIC_RECORDS,
            required=("record_kind", "legal_basis", "expires_at"),
            optional=("amount",),
            description="A public record held on a legal basis, until expires_at.",
        ),
    )
}

LEDGER_SCHEMA: pa.Schema = pa.schema([pa.field(c.name, c.arrow_type) for c in ALL_COLUMNS])
EVENT_SCHEMA: pa.Schema = pa.schema([pa.field(c.name, c.arrow_type) for c in EVENT_COLUMNS])


def type_of_source() -> dict[str, str]:
    """Event type name -> the source it belongs to."""
    return {t.value: s.source.value for t, s in EVENT_TYPES.items()}
