"""The as-of view of the ledger that every dimension's features start from.

Only events that happened on or before the as-of date are visible, so features computed
for a past date never see the future (no leakage into training). Dates become day
numbers (days since 1970-01-01) so that every engine does the same integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import ibis
import ibis.expr.types as ir

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True, slots=True)
class AsOf:
    """The observation date: a day number and the first instant after it."""

    date: date

    @property
    def day(self) -> int:
        return (self.date - date(1970, 1, 1)).days

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date + timedelta(days=1), datetime.min.time(), UTC)

    @property
    def end_literal(self) -> ir.TimestampScalar:
        return _utc_literal(self.end)

    def since(self, days: int) -> ir.TimestampScalar:
        """The first instant of the last ``days`` days up to the as-of date: an event's
        ``day > as_of.day - days`` exactly when its ``occurred_at`` is at or after it.

        A window filtered on the time is pushed into the Parquet scan; filtered on the day
        number, the day is computed for every event of the type first (the wallet payments'
        year: 5.9 → 4.3 s of a 1 M-person ledger's feature query, ``docs/scale.md``)."""
        start = datetime.combine(self.date - timedelta(days=days - 1), datetime.min.time(), UTC)
        return _utc_literal(start)


def _utc_literal(at: datetime) -> ir.TimestampScalar:
    return ibis.timestamp(at.replace(tzinfo=None)).cast("timestamp('UTC')")


def as_of_view(events: ir.Table, as_of: AsOf, latest: datetime | None = None) -> ir.Table:
    """Events up to and including the as-of date, with ``day`` (its day number).

    ``latest``: the latest ``occurred_at`` of ``events`` where it is known (the ledger's
    statistics, ``ledger.latest_event``); before the as-of date's end the filter would
    keep every event, so it is left out (on DuckDB it costs a scan of every event's time
    in each of the query's scans: ``docs/scale.md``)."""
    seen = events
    if latest is None or latest >= as_of.end:
        seen = events.filter(events.occurred_at < as_of.end_literal)
    return seen.mutate(day=day_of(seen.occurred_at))


def day_of(at: ir.TimestampValue) -> ir.IntegerValue:
    """The day number (days since 1970-01-01, UTC) of a time. It never decreases as the
    time grows, so the earliest (latest) day of many events is the day of their earliest
    (latest) time: an aggregate over most of the ledger takes the time's minimum and turns
    that into a day once, instead of a day for every row (``docs/scale.md``)."""
    return (at.epoch_seconds() // 86400).cast("int64")


def months_since(day: ir.IntegerValue, as_of: AsOf) -> ir.IntegerValue:
    """Whole months between a day number and the as-of date."""
    return ((as_of.day - day) / DAYS_PER_MONTH).floor().cast("int64")


def cents(amount: ir.NumericValue) -> ir.IntegerValue:
    """A money amount in whole cents (int64), for sums that every engine must agree on:
    a sum of floats depends on the order the engine adds them in (DuckDB and Spark could
    then round 29.475 to different sides); a sum of integers cannot."""
    return (amount * 100).round().cast("int64")


def rounded(x: ir.FloatingValue, digits: int) -> ir.FloatingValue:
    """``x`` to ``digits`` decimals, half away from zero, to the same bit on every engine.

    ``round()`` is not: DuckDB rounds the double, Spark its shortest decimal text half
    up, so a ratio such as 145 / 100,000 (it prints 0.00145, and the double is just below
    it) became 0.0014 on DuckDB and 0.0015 on Spark (10 of 99,428 people's
    ``utilisation`` at 100,000 people). Here each step is one IEEE operation — the
    product, the half added, the whole part found with ``%`` (exact for doubles on both),
    the quotient — so both engines give the same double, and it is DuckDB's ``round()``
    (the same for all 38,793 ratios n / d, d up to 10^6, that print as such ties). No
    integer cast either, so no value can overflow one."""
    scale = 10.0**digits
    y = x.abs() * scale + 0.5
    return x.sign() * (y - y % 1.0) / scale
