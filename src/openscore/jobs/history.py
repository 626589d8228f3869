"""A real score history: scores recomputed as of each month-end the ledger covers.

:func:`backfill` runs the batch pipeline (``jobs/score.py``: the same features and
scorecard, on the chosen engine, DuckDB by default) once per month-end and stores each
registered person's score as a **recomputed** history point (``registry/scores.py``):
computed today, with today's model (its id and the computation time are kept), never
the current score and never what was published then. :func:`history_job` is the monthly
housekeeping job that continues it: once a month-end has passed that has no points, it
computes that month-end.

Principles it keeps:

* **No data, no point.** A person with no event on or before a month-end is not in that
  month's feature table, and a person below the minimum scoring rule is unscorable:
  neither gets a point (nothing is carried forward or filled in).
* **Today's data and consents.** The ledger holds only what people share now (a revoked
  source's events were purged, an erased person is gone from ledger and registry), so a
  backfilled point uses only the data and consents the person has now — not what they
  shared then.
* **The online graph is not touched**: a month-end's relationships are computed for that
  run only (``store_graph=False``).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa

from openscore.engines.base import Engine
from openscore.features import build_features
from openscore.jobs.housekeeping import Job, Writer
from openscore.jobs.score import batch_scores, score_item
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.model.relationships import uses_graph
from openscore.registry import publish_history_points, recomputed_dates
from openscore.registry.metadata import people as people_table
from openscore.registry.metadata import published_scores
from openscore.scoring import score_table

log = logging.getLogger("openscore.history")

HISTORY = "score-history"
ACTOR = "system:history"


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_ends(first: date, last: date) -> list[date]:
    """Every month-end ``d`` with ``first <= d <= last``, oldest first."""
    out: list[date] = []
    day = month_end(first)
    while day <= last:
        out.append(day)
        nxt = day.replace(day=1)
        nxt = date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1)
        day = month_end(nxt)
    return out


def ledger_span(engine: Engine, ledger: Ledger) -> tuple[date, date] | None:
    """The dates of the ledger's first and last events (``None``: an empty ledger)."""
    snap = ledger.snapshot()
    if snap.empty:
        return None
    events = engine.ledger(snap.paths)
    frame = engine.to_pandas(
        events.aggregate(lo=events.occurred_at.min(), hi=events.occurred_at.max())
    )
    lo, hi = frame["lo"].iloc[0], frame["hi"].iloc[0]
    if pd.isna(lo) or pd.isna(hi):
        return None
    return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()


#: month-ends a backfill covers unless told otherwise: two years, as a person's history
#: is shown. A ledger's first event can be decades old (an identity fact "since 1988", an
#: account opened long ago), so "every month-end it covers" is capped by default.
DEFAULT_MONTHS = 24


def due_month_ends(
    engine: Engine, ledger: Ledger, until: date, *, months: int | None = DEFAULT_MONTHS
) -> list[date]:
    """The month-ends the ledger covers up to ``until`` (the last ``months`` of them;
    ``None``: all, back to the first event)."""
    span = ledger_span(engine, ledger)
    if span is None:
        return []
    last = min(until, span[1])
    first = span[0]
    if months:
        back = last.replace(day=1)
        for _ in range(months):
            back = date.fromordinal(back.toordinal() - 1).replace(day=1)
        first = max(first, back)
    ends = month_ends(first, last)
    return ends[-months:] if months else ends


def _scores(
    engine: Engine, ledger: Ledger, card: Scorecard, end: date, people: Sequence[str] | None
) -> pd.DataFrame:
    """Everyone's (or ``people``'s) scores as of ``end``, with every term's points.

    For ``people`` and a card without a relationships term, only their events are read:
    a person's features depend on their own events only, so the answer is the same and
    a backfill of a few people does not cost a pass over everyone.
    """
    if people is not None and not uses_graph(card):
        snap = ledger.snapshot()
        if snap.empty:
            return pd.DataFrame(columns=["person_id", "status"])
        events = engine.ledger(snap.paths)
        wanted = engine.table(pd.DataFrame({"person_id": list(people)}), "history_people")
        events = events.semi_join(wanted, "person_id")
        expr = score_table(
            card,
            build_features(events, end),
            "person_id",
            as_of=end.isoformat(),
            term_points=True,
        )
        return engine.to_pandas(expr)
    expr = batch_scores(engine, ledger, card, end, store_graph=False, term_points=True)
    frame = engine.to_pandas(expr)
    return frame if people is None else frame[frame["person_id"].isin(set(people))]


@dataclass
class BackfillReport:
    #: month-end → points stored (0: computed, nobody had data)
    stored: dict[date, int] = field(default_factory=dict)
    #: month-ends left alone because they already had points
    skipped: list[date] = field(default_factory=list)
    model_id: str = ""

    @property
    def points(self) -> int:
        return sum(self.stored.values())


def backfill(
    engine: Engine,
    ledger: Ledger,
    write: Writer,
    card: Scorecard,
    *,
    until: date,
    months: int | None = DEFAULT_MONTHS,
    only: Sequence[date] | None = None,
    people: Sequence[str] | None = None,
    redo: bool = False,
    progress: Callable[[int, int, date], None] | None = None,
    chunk: int = 5_000,
) -> BackfillReport:
    """Recompute everyone's (or only ``people``'s) score as of the last ``months``
    month-ends the ledger covers up to ``until`` (``None``: all; or only the month-ends
    ``only``) and store them as recomputed history points.

    A month-end that already has recomputed points is skipped (re-running is safe)
    unless ``redo``, which replaces them (``people``'s only, when given).
    ``progress(done, total, month_end)`` after each.
    """
    report = BackfillReport(model_id=card.model_id)
    ends = list(only) if only is not None else due_month_ends(engine, ledger, until, months=months)
    with write() as conn:
        done = recomputed_dates(conn, people)
        registered = set(conn.execute(sa.select(people_table.c.id)).scalars())
    todo = []
    for end in ends:
        if end in done and not redo:
            report.skipped.append(end)
        else:
            todo.append(end)
    for i, end in enumerate(todo):
        frame = _scores(engine, ledger, card, end, people)
        # no data, no point: unscorable people and people unknown to the registry are out
        frame = frame[(frame["status"] == "scored") & frame["person_id"].isin(registered)]
        at = datetime.combine(end, datetime.min.time(), tzinfo=UTC)
        with write() as conn:
            # a score published as of this very date is the real one: no recomputed twin
            published_then = set(
                conn.execute(
                    sa.select(published_scores.c.person_id).where(
                        published_scores.c.kind == "published", published_scores.c.as_of == at
                    )
                ).scalars()
            )
        frame = frame[~frame["person_id"].isin(published_then)]
        stored = 0
        rows = frame.to_dict("records")
        with write() as conn:
            if redo:
                _drop_points(conn, at, people)
            for start in range(0, len(rows), chunk):
                items = [score_item(r) for r in rows[start : start + chunk]]
                stored += publish_history_points(conn, items, actor=ACTOR)
        report.stored[end] = stored
        log.info("history: %s points as of %s (%s)", stored, end, card.model_id)
        if progress:
            progress(i + 1, len(todo), end)
    return report


def _drop_points(conn: sa.Connection, at: datetime, people: Sequence[str] | None) -> None:
    query = published_scores.delete().where(
        published_scores.c.kind == "recomputed", published_scores.c.as_of == at
    )
    if people is not None:
        query = query.where(published_scores.c.person_id.in_(list(people)))
    conn.execute(query)


def history_job(
    ledger: Ledger,
    write: Writer,
    *,
    load_card: Callable[[], Scorecard],
    today: Callable[[], date],
    engine_name: str | None = None,
    interval: float = 3600.0,
) -> Job:
    """The monthly job: once the backfill has started a history, each month-end that has
    passed with no points is computed (on ``engine_name``, default the settings' engine).

    It does nothing until ``openscore history backfill`` has stored a first month (a
    history is started on purpose, by the operator), and nothing in a month whose points
    exist: a check of one indexed query per pass.
    """

    def run() -> str:
        # the last month-end that has passed: the day before this month's first
        last = date.fromordinal(today().replace(day=1).toordinal() - 1)
        with write() as conn:
            done = recomputed_dates(conn)
        if not done or last in done or last < max(done):
            return ""
        from openscore.engines.base import get_engine

        engine = get_engine(engine_name)
        try:
            missing = [
                d for d in due_month_ends(engine, ledger, last) if d > max(done) and d not in done
            ]
            if not missing:
                return ""
            report = backfill(engine, ledger, write, load_card(), until=last, only=missing)
        finally:
            engine.close()
        months = ", ".join(d.isoformat() for d in report.stored)
        return f"{report.points} history points as of {months} ({report.model_id})"

    return Job(HISTORY, interval, run, ttl=max(3600.0, 2 * interval))
