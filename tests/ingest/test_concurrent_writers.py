"""An ingest run and another writer that commits while the run checks without the lock.

The ledger check before the writer lock reads a snapshot's segment files; a revocation's
purge committing meanwhile rewrites a segment and deletes the old file. The run must
neither fail (the soak of 2026-12-03 saw one 503 from this) nor store an event twice.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger
from openscore.ledger.erasure import purge_source

from fixtures.data import make_events, write_events


class _PurgeDuringCheck(Ingester):
    """An ingester whose check before the lock meets a purge that has just committed."""

    def __init__(self, *args, purge, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._purge = purge
        self.purged = 0

    def _check_ledger(self, con, furnisher_id, segments) -> None:
        if self._purge is not None:
            purge, self._purge = self._purge, None
            self.purged = purge()  # commits, and deletes the files the snapshot names
        super()._check_ledger(con, furnisher_id, segments)


def _stored_ids(ledger: Ledger) -> list[str]:
    return [e for p in ledger.snapshot().paths for e in pq.read_table(p)["event_id"].to_pylist()]


def test_a_purge_committing_during_the_unlocked_check_loses_and_doubles_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    events = make_events(200, seed=11)
    ledger = Ledger(data_dir / "ledger")
    first = events.slice(0, 120)
    assert (
        Ingester(ledger, consent_gate=no_consent_check)
        .run([write_events(first, tmp_path / "a.parquet")], "fx")
        .accepted
        == 120
    )
    # a person and source with rows in the stored segment, none among the repeated ones
    person, source = first["person_id"][0].as_py(), first["source"][0].as_py()
    again = events.slice(100, 100)  # 20 already stored, 80 new
    mask = pc.invert(
        pc.and_(pc.equal(again["person_id"], person), pc.equal(again["source"], source))
    )
    again = again.filter(mask)
    repeated = set(first["event_id"].to_pylist()) & set(again["event_id"].to_pylist())
    assert repeated  # the duplicates must be found somewhere: the old file is gone

    ingester = _PurgeDuringCheck(
        ledger,
        consent_gate=no_consent_check,
        purge=lambda: purge_source(ledger, person, source),
    )
    before = {s.file for s in ledger.manifest().segments}
    result = ingester.run([write_events(again, tmp_path / "b.parquet")], "fx")

    assert ingester.purged > 0
    assert not (before & {s.file for s in ledger.manifest().segments})  # really rewritten
    assert not result.failed
    assert result.duplicates == len(repeated)
    assert result.accepted == again.num_rows - len(repeated)
    stored = _stored_ids(ledger)
    assert len(stored) == len(set(stored))  # nothing twice
    purged = {
        e
        for e, p, s in zip(
            first["event_id"].to_pylist(),
            first["person_id"].to_pylist(),
            first["source"].to_pylist(),
            strict=True,
        )
        if p == person and s == source
    }
    assert set(stored) == (set(first["event_id"].to_pylist()) - purged) | set(
        again["event_id"].to_pylist()
    )
