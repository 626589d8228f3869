"""A batch read in several parts: the parts become the segments as they are, or are
written again without the rows that may not be stored; and the per-batch shortcuts of
validation (``column_facts``) never change what is rejected."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.engines.duckdb import connect
from openscore.errors import StorageError
from openscore.ingest import Ingester, no_consent_check, readers
from openscore.ingest import ingester as ingester_module
from openscore.ingest.validation import column_facts, validation_sql
from openscore.ledger import Ledger

from fixtures.data import make_events, write_events


def _ids(ledger: Ledger) -> list[str]:
    return sorted(
        e
        for p in ledger.snapshot().paths
        for e in pq.read_table(p, columns=["event_id"]).column("event_id").to_pylist()
    )


@pytest.fixture()
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BATCH_ROWS", 50)
    monkeypatch.setattr(ingester_module, "MIN_PART_ROWS", 20)


def test_parts_are_the_segments_and_a_resend_adds_nothing(
    small_parts: None, data_dir: Path, tmp_path: Path
) -> None:
    events = make_events(230, seed=3)
    path = write_events(events, tmp_path / "e.parquet")
    ledger = Ledger(data_dir / "ledger")
    result = Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    assert result.accepted == 230 and result.rejected == 0
    segments = ledger.manifest().segments
    assert len(segments) == 5 and {s.batch_id for s in segments} == {result.batch_id}
    assert _ids(ledger) == sorted(events["event_id"].to_pylist())
    again = Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    assert again.accepted == 0 and again.duplicates == 230 and again.rejected == 0
    assert len(ledger.manifest().segments) == 5


def test_excluded_rows_are_left_out_of_the_parts(
    small_parts: None, data_dir: Path, tmp_path: Path
) -> None:
    ledger = Ledger(data_dir / "ledger")
    first = make_events(40, seed=4, prefix="old-")
    Ingester(ledger, consent_gate=no_consent_check).run(
        [write_events(first, tmp_path / "first.parquet")], "fx"
    )
    fresh = make_events(150, seed=5, prefix="new-")
    # rows 0-9 of the old ones again (duplicates), row 10 changed (a conflict), and
    # rows 60-69 of the new ones repeated later in the batch (kept first)
    changed = first.slice(10, 1).set_column(
        first.schema.get_field_index("person_id"), "person_id", pa.array(["p99999"])
    )
    batch = pa.concat_tables(
        [fresh.slice(0, 100), first.slice(0, 10), changed, fresh.slice(100), fresh.slice(60, 10)]
    )
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [write_events(batch, tmp_path / "batch.jsonl")], "fx"
    )
    assert result.accepted == 150
    assert result.duplicates == 10 and result.conflicts == 1
    assert result.rejected == 1 + 10
    assert _ids(ledger) == sorted(first["event_id"].to_pylist() + fresh["event_id"].to_pylist())
    stored = [
        r
        for p in ledger.snapshot().paths
        for r in pq.read_table(p, columns=["event_id", "person_id"]).to_pylist()
    ]
    by_id = {r["event_id"]: r["person_id"] for r in stored}
    assert by_id["old-00000010"] == first["person_id"][10].as_py()  # the conflict not stored
    # many small files make one segment, not one each
    (tmp_path / "d").mkdir()
    for n in range(3):
        write_events(make_events(5, seed=10 + n, prefix=f"s{n}-"), tmp_path / "d" / f"{n}.csv")
    before = len(ledger.manifest().segments)
    small = Ingester(ledger, consent_gate=no_consent_check).run([tmp_path / "d"], "fx")
    assert small.accepted == 15 and len(ledger.manifest().segments) == before + 1


class _LosesAKeysFile(Ingester):
    """Loses the second part's keys after staging (what a stray clean-up would do)."""

    def _check_batch(self, con) -> None:
        staged = sorted((self._work / "staged").glob("*.parquet"))
        staged[1].unlink()
        super()._check_batch(con)


class _ShufflesAPart(Ingester):
    """Writes the first part again with its rows reversed, after staging."""

    def _check_batch(self, con) -> None:
        part = self._parts[0][1]
        table = pq.read_table(part)
        pq.write_table(table.take(list(range(table.num_rows - 1, -1, -1))), part)
        super()._check_batch(con)


@pytest.mark.parametrize("kind", [_LosesAKeysFile, _ShufflesAPart])
def test_work_files_out_of_step_stop_the_run_and_store_nothing(
    kind: type[Ingester],
    small_parts: None,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts are counted against the accepted rows (fast path), and a part's rows
    are checked to be where the keys say (when rows are located in them): a mismatch
    stops the run with a StorageError, and the ledger stays as it was."""
    ledger = Ledger(data_dir / "ledger")
    old = make_events(30, seed=6, prefix="old-")
    Ingester(ledger, consent_gate=no_consent_check).run(
        [write_events(old, tmp_path / "old.parquet")], "fx"
    )
    before = ledger.manifest()
    fresh = make_events(120, seed=7, prefix="new-")
    # a duplicate of a stored row makes the run locate it in the parts
    batch = fresh if kind is _LosesAKeysFile else pa.concat_tables([old.slice(0, 1), fresh])
    path = write_events(batch, tmp_path / "batch.parquet")
    original = Ingester._stage

    def stage(self, con, files, furnisher_id, work, result, progress) -> None:
        self._work = work
        original(self, con, files, furnisher_id, work, result, progress)

    monkeypatch.setattr(Ingester, "_stage", stage)
    with pytest.raises(StorageError, match="out of step"):
        kind(ledger, consent_gate=no_consent_check).run([path], "fx")
    after = ledger.manifest()
    assert after.segments == before.segments and after.batches == before.batches
    assert _ids(ledger) == sorted(old["event_id"].to_pylist())


CELLS = [
    "",
    " ",
    "ok",
    " pad ",
    "tab\t",
    "\u00a0nbsp",
    "x\u3000",
    "ctl\x01",
    "del\x7f",
    "Payment",
    "PAYMENT",
    "wallet",
    "Wallet",
    "cny",
    "CNY",
    " CNY",
    "ÇNY",
    "ﬀx",
    "true",
    "YES",
    "1",
    "10",
    "-3",
    "2024-01-05",
    "2024-01-05T10:00:00Z",
    "x" * 129,
    "é" * 70,
    "y" * 513,
]


@pytest.mark.parametrize("seed", range(6))
def test_column_facts_never_change_the_rejections(seed: int) -> None:
    """The same rows validated with and without the per-batch facts: the same output."""
    import random

    rng = random.Random(seed)
    base = make_events(64, seed=seed).to_pylist()
    names = list(base[0])
    rows = []
    for row in base:
        text = {k: (None if v is None else str(v)) for k, v in row.items()}
        text["furnisher_id"] = None
        for _ in range(rng.randint(0, 3)):
            text[rng.choice(names)] = rng.choice(CELLS)
        rows.append(text)
    # some columns uniform across the batch (where the shortcuts apply)
    for name in rng.sample(names, 6):
        value = rng.choice(["", "ok", "CNY", "wallet", None])
        for text in rows:
            text[name] = value
    table = pa.table(
        {
            **{n: pa.array([r[n] for r in rows], pa.string()) for n in names},
            "_line": pa.array(range(2, len(rows) + 2), pa.int64()),
        }
    )
    types = {f.name: f.type for f in table.schema if f.name != "_line"}
    con = connect()
    con.execute("SET disabled_optimizers = 'in_clause'")
    con.register("raw", table)
    outputs = []
    for facts in (None, column_facts(table)):
        sql = validation_sql("raw", types, furnisher_id="fx", file_index=0, facts=facts)
        outputs.append(con.execute(f"SELECT * FROM ({sql}) ORDER BY _line").fetchall())
    assert outputs[0] == outputs[1]
    assert any(r[-1] for r in outputs[0])  # some rows were rejected
