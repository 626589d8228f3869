"""Ledger deletions by typed selections: what each removes, and that a hostile value is a
value, never SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from openscore.domain.sources import Source
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger, compact, purge_source, verify
from openscore.ledger.rewrite import (
    EventRows,
    ExpiredRows,
    PersonRows,
    SourceRows,
    remove_rows,
    selection_sql,
)
from openscore.ledger.store import WriteTxn

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


# -- removals beside other writers ----------------------------------------------------------


def _keys(ledger: Ledger) -> set[str]:
    return {r["event_id"] for r in _rows(ledger)}


def _wallet(ledger: Ledger, person: str) -> set[str]:
    return {
        r["event_id"] for r in _rows(ledger) if r["person_id"] == person and r["source"] == "wallet"
    }


def _ingest(ledger: Ledger, table: pa.Table, path: Path) -> int:
    write_events(table, path)
    return Ingester(Ledger(ledger.root), consent_gate=no_consent_check).run([path], "f7").accepted


class _Interleaved(Ledger):
    """A ledger handle that lets another writer commit just before it next takes the lock:
    between a removal's search (done without the lock) and its rewrite (under it)."""

    def __init__(self, root: Path, between: Callable[[Ledger], None]) -> None:
        super().__init__(root)
        self._between: Callable[[Ledger], None] | None = between

    @contextmanager
    def writing(self) -> Iterator[WriteTxn]:
        between, self._between = self._between, None
        if between is not None:
            between(Ledger(self.root))
        with super().writing() as txn:
            yield txn


@pytest.mark.parametrize("meanwhile", ["ingest", "compact", "ingest_then_compact"])
def test_segments_changed_between_search_and_lock_are_searched_again(
    ledger: Ledger, tmp_path: Path, meanwhile: str
) -> None:
    person = "p00000"
    before = _keys(ledger)
    wallet = _wallet(ledger, person)
    assert wallet, "the sample gives the person wallet rows"
    late = make_events(16, seed=99, people=1, prefix="late-")  # every row is p00000's
    late = late.filter(pc.not_equal(late["type"], "relationship"))  # not with themselves
    late_wallet = {
        e
        for e, s in zip(late["event_id"].to_pylist(), late["source"].to_pylist(), strict=True)
        if s == "wallet"
    }

    def other_writer(led: Ledger) -> None:
        if meanwhile != "compact":
            assert _ingest(led, late, tmp_path / "late.parquet") == late.num_rows
        if meanwhile != "ingest":
            replaced = {s.file for s in led.manifest().segments}
            compact(led, force=True)
            assert not replaced & {s.file for s in led.manifest().segments}

    removed = remove_rows(
        _Interleaved(ledger.root, other_writer),
        SourceRows(person, Source.WALLET),
        reason={"kind": "test"},
    )
    added = set(late["event_id"].to_pylist()) if meanwhile != "compact" else set()
    gone = wallet | (late_wallet if added else set())
    assert removed == len(gone)
    assert _keys(ledger) == (before | added) - gone
    assert not _wallet(ledger, person)
    assert verify(ledger).ok


def test_purges_racing_ingest_and_compaction_lose_nothing(ledger: Ledger, tmp_path: Path) -> None:
    before = _rows(ledger)
    people = sorted({r["person_id"] for r in before if r["source"] == "wallet"})[:6]
    purged = {r["event_id"] for r in before if r["person_id"] in people and r["source"] == "wallet"}
    batches = []
    for i in range(6):
        table = make_events(60, seed=100 + i, prefix=f"c{i}-")
        # the batches name none of the purged people: what a purge removes is then exact
        batches.append(table.filter(pc.invert(pc.is_in(table["person_id"], pa.array(people)))))
    added = {e for t in batches for e in t["event_id"].to_pylist()}
    removed: list[int] = []
    errors: list[BaseException] = []

    def ingest_and_compact() -> None:
        try:
            for i, table in enumerate(batches):
                _ingest(ledger, table, tmp_path / f"c{i}.parquet")
                if i % 2:
                    compact(Ledger(ledger.root), force=True)
        except BaseException as exc:
            errors.append(exc)

    def purge() -> None:
        try:
            for person in people:
                removed.append(purge_source(Ledger(ledger.root), person, Source.WALLET))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ingest_and_compact), threading.Thread(target=purge)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert sum(removed) == len(purged)
    assert _keys(ledger) == ({r["event_id"] for r in before} | added) - purged
    assert verify(ledger).ok
