"""Ledger deletions by typed selections: what each removes, and that a hostile value is a
value, never SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.domain.sources import Source
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger, compact
from openscore.ledger.rewrite import (
    EventRows,
    ExpiredRows,
    PersonRows,
    SourceRows,
    remove_rows,
    selection_sql,
)

from fixtures.data import make_events, write_events


def _rows(ledger: Ledger) -> list[dict]:
    snap = ledger.snapshot()
    if not snap.paths:
        return []
    return pa.concat_tables(pq.read_table(p) for p in snap.paths).to_pylist()


@pytest.fixture()
def ledger(data_dir: Path, tmp_path: Path) -> Ledger:
    led = Ledger(data_dir / "ledger")
    for i in range(2):
        path = write_events(make_events(200, seed=i, prefix=f"b{i}-"), tmp_path / f"b{i}.parquet")
        assert Ingester(led, consent_gate=no_consent_check).run([path], f"f{i}").accepted == 200
    compact(led, force=True)
    return led


def test_event_rows_remove_exactly_the_named_events_of_the_person(ledger: Ledger) -> None:
    before = _rows(ledger)
    person = before[0]["person_id"]
    own = [r for r in before if r["person_id"] == person]
    named = {(r["furnisher_id"], r["event_id"]) for r in own[:2]}
    # another person's event, named under this person: not theirs, so it stays
    other = next(r for r in before if r["person_id"] != person)
    keys = (*sorted(named), (other["furnisher_id"], other["event_id"]))
    removed = remove_rows(ledger, EventRows(person, keys), reason={"kind": "test"})
    after = _rows(ledger)
    assert removed == len(named) == len(before) - len(after)
    assert not named & {(r["furnisher_id"], r["event_id"]) for r in after}
    assert remove_rows(ledger, EventRows(person, ()), reason={"kind": "test"}) == 0


@pytest.mark.parametrize(
    "hostile",
    ["x' OR '1'='1", "x') OR true --", "'; DROP TABLE t; --", "\\'", 'x" OR 1=1'],
)
def test_a_hostile_value_is_a_value_not_sql(ledger: Ledger, hostile: str) -> None:
    before = len(_rows(ledger))
    person = _rows(ledger)[0]["person_id"]
    for rows in (
        EventRows(person, ((hostile, hostile),)),
        EventRows(hostile, (("f0", hostile),)),
        PersonRows(hostile, counterparty=True),
        SourceRows(hostile, Source.WALLET),
    ):
        assert remove_rows(ledger, rows, reason={"kind": "test"}) == 0, selection_sql(rows)
    assert len(_rows(ledger)) == before


def test_source_rows_keep_what_came_after_the_cut(ledger: Ledger) -> None:
    before = _rows(ledger)
    person = next(r["person_id"] for r in before if r["source"] == "wallet")
    wallet = [r for r in before if r["person_id"] == person and r["source"] == "wallet"]
    early = datetime(2000, 1, 1, tzinfo=UTC)  # everything was ingested after this
    assert remove_rows(ledger, SourceRows(person, Source.WALLET, early), reason={"k": 1}) == 0
    assert remove_rows(ledger, SourceRows(person, Source.WALLET), reason={"k": 1}) == len(wallet)
    after = _rows(ledger)
    assert not [r for r in after if r["person_id"] == person and r["source"] == "wallet"]
    assert len(after) == len(before) - len(wallet)


def test_person_rows_with_and_without_counterparty(ledger: Ledger) -> None:
    before = _rows(ledger)
    named = [r for r in before if r["counterparty_id"]]
    assert named, "the sample has relationship rows"
    victim = named[0]["counterparty_id"]
    own = sum(1 for r in before if r["person_id"] == victim)
    mentions = sum(1 for r in before if victim in (r["person_id"], r["counterparty_id"]))
    assert remove_rows(ledger, PersonRows(victim), reason={"k": 1}) == own
    assert remove_rows(ledger, PersonRows(victim, counterparty=True), reason={"k": 1}) == (
        mentions - own
    )


def test_selections_are_typed_not_text() -> None:
    with pytest.raises(TypeError, match="not a row selection"):
        selection_sql("person_id = 'p1'")  # type: ignore[arg-type]
    sql = selection_sql(ExpiredRows(datetime(2030, 1, 1, tzinfo=UTC), 5))
    assert "public_record" in sql and "INTERVAL 5 YEAR" in sql
