"""The score history: month-end points recomputed by the batch pipeline (DuckDB), on the
registry backends of ``api_world`` (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from openscore import registry
from openscore.engines.base import get_engine
from openscore.errors import NotFound
from openscore.jobs.history import backfill, history_job, month_ends
from openscore.online import current_model

from fixtures.api import ApiWorld
from fixtures.data import make_events

LATE_START = date(2025, 6, 1)


def _late_person(api_world: ApiWorld) -> str:
    """A person whose file starts in March 2025: no data before."""
    person = api_world.person("late-0001")
    table = make_events(60, seed=3, people=1, prefix="late-e")
    table = table.set_column(
        table.schema.get_field_index("person_id"), "person_id", pa.array([person] * len(table))
    )
    table = table.filter(pc.not_equal(table["type"], "relationship"))
    start = pa.scalar(
        pa.scalar(LATE_START).cast(pa.timestamp("us")).value, pa.timestamp("us", tz="UTC")
    )
    table = table.filter(pc.greater_equal(table["occurred_at"], start))
    api_world.ingest(table, furnisher="furnisher-a")
    return person


# The engine run is what costs here (a feature pass per month-end); the registry side is
# tested on both backends in tests/registry/test_history_notifications.py.
@pytest.mark.parametrize("registry_backend", ["sqlite"], indirect=True)
def test_backfill_stores_recomputed_month_end_points_then_the_monthly_job_goes_on(
    api_world: ApiWorld,
) -> None:
    early = api_world.person(events=80, seed=1)
    late = _late_person(api_world)
    state = api_world.state
    card = current_model(api_world.settings)
    today = {"day": date(2025, 7, 10)}
    job = history_job(state.ledger, state.write, load_card=lambda: card, today=lambda: today["day"])
    assert job.run() == ""  # no history started: the monthly job waits for a backfill
    engine = get_engine("duckdb")
    try:
        # the two people only (their events alone are read); the monthly job: everyone
        two = {"until": date(2025, 6, 15), "months": 2, "people": [early, late]}
        report = backfill(engine, state.ledger, state.write, card, **two)  # type: ignore[arg-type]
        again = backfill(engine, state.ledger, state.write, card, **two)  # type: ignore[arg-type]
    finally:
        engine.close()
    ends = [date(2025, 4, 30), date(2025, 5, 31)]
    assert list(report.stored) == ends  # the last two month-ends the ledger covers
    assert again.points == 0 and again.skipped == ends  # re-running adds nothing
    assert "as of 2025-06-30" in job.run()  # 10 July: June has passed with no points
    assert job.run() == ""  # done for this month
    with api_world.engine.connect() as conn:
        early_points = registry.score_history(conn, early)
        late_points = registry.score_history(conn, late)
        assert registry.recomputed_dates(conn) == {*ends, date(2025, 6, 30)}
    assert [p.as_of.date() for p in early_points] == [date(2025, 6, 30), *reversed(ends)]
    assert all(p.recomputed and p.model_id == card.model_id for p in early_points)
    assert all(p.published_at.date() > p.as_of.date() for p in early_points)
    # no data means no score: no point before the first event, one after
    assert [p.as_of.date() for p in late_points] == [date(2025, 6, 30)]
    # a recomputed point is never the current score
    with api_world.engine.connect() as conn, pytest.raises(NotFound):
        registry.current_score(conn, early)
    # each point's contributions add up to its score (before clipping)
    for point in early_points:
        assert point.contributions is not None
        total = card.intercept_points + sum(point.contributions.values())
        assert point.score == max(350, min(950, total))


def test_month_ends_cover_the_span_and_leap_years() -> None:
    assert month_ends(date(2024, 1, 15), date(2024, 3, 31)) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
    ]
    assert month_ends(date(2024, 12, 1), date(2025, 1, 30)) == [date(2024, 12, 31)]
