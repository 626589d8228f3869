"""Retention: negative records stop counting, and are deleted, after the retention period.

Negative records are repayments and bills paid late or not at all, rentals returned late,
damaged or lost, and public records. The first three expire ``retention_years`` after
their due date; a public record expires at its own ``expires_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from openscore.engines.duckdb import sql_literal
from openscore.ledger.rewrite import ExpiredRows, remove_rows
from openscore.ledger.store import Ledger


def negative_record_sql() -> str:
    """SQL predicate: the row is a negative record."""
    return (
        "(type IN ('repayment', 'bill_payment') AND (paid_date IS NULL OR paid_date > due_date))"
        " OR (type = 'rental' AND (rental_outcome IN ('damaged', 'lost')"
        " OR returned_at IS NULL OR returned_at > due_back))"
        " OR type = 'public_record'"
    )


def expired_sql(now: datetime, retention_years: int) -> str:
    """SQL predicate: the row is a negative record past its retention at ``now``."""
    ts = sql_literal(now.astimezone(UTC).isoformat())
    cutoff = f"(CAST({ts} AS TIMESTAMPTZ) - INTERVAL {int(retention_years)} YEAR)"
    return (
        f"(type = 'public_record' AND expires_at <= CAST({ts} AS TIMESTAMPTZ))"
        f" OR (type IN ('repayment', 'bill_payment') AND (paid_date IS NULL OR"
        f" paid_date > due_date) AND CAST(due_date AS TIMESTAMPTZ) < {cutoff})"
        f" OR (type = 'rental' AND (rental_outcome IN ('damaged', 'lost') OR returned_at IS NULL"
        f" OR returned_at > due_back) AND due_back < {cutoff})"
    )


def expire(ledger: Ledger, *, retention_years: int, now: datetime | None = None) -> int:
    """Delete negative records past retention; return how many went."""
    now = now or datetime.now(UTC)
    return remove_rows(
        ledger,
        ExpiredRows(now, retention_years),
        reason={"kind": "expiry", "retention_years": retention_years, "as_of": now.isoformat()},
    )
