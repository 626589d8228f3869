"""``openscore convert taiwan``: the real dataset through the ledger's door."""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.convert.taiwan import AS_OF, PROTECTED, REQUIRED, convert
from openscore.domain.events import EVENT_TYPES
from openscore.errors import InputError
from openscore.eventfiles.columns import EVENT_FILE_SCHEMA
from openscore.eventfiles.writer import sha256_file


@pytest.fixture(scope="module")
def taiwan(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("taiwan") / "out"
    convert(shared_dir / "datasets" / "taiwan-default" / "UCI_Credit_Card.csv", out)
    return out


def test_events_outcomes_and_side_file(taiwan: Path) -> None:
    events = ds.dataset(taiwan / "events", format="parquet").to_table()
    counts = dict(
        zip(*[c.to_pylist() for c in pc.value_counts(events["type"]).flatten()], strict=True)
    )
    assert counts == {"credit_account": 30_000, "repayment": 180_000, "profile_fact": 30_000}
    assert pc.count_distinct(events["event_id"]).as_py() == events.num_rows
    for t, spec in EVENT_TYPES.items():
        rows = events.filter(pc.equal(events["type"], t.value))
        if rows.num_rows:
            assert pc.all(pc.equal(rows["source"], spec.source.value)).as_py()
    outcomes = pq.read_table(taiwan / "outcomes.parquet").to_pandas()
    assert len(outcomes) == 30_000 and outcomes["person_id"].is_unique
    assert outcomes["defaulted_12m"].sum() == 6_636  # 22.12 %, as the README says
    assert (outcomes["as_of"] == date(2005, 9, 30)).all()
    assert (outcomes["horizon_months"] == 1).all()
    fairness = pq.read_table(taiwan / "fairness.parquet").to_pandas()
    assert list(fairness.columns) == ["person_id", *PROTECTED]
    assert set(fairness["SEX"]) == {1, 2}
    manifest = json.loads((taiwan / "manifest.json").read_text())
    for rel, info in manifest["files"].items():
        assert sha256_file(taiwan / rel) == info["sha256"]


def test_protected_attributes_never_reach_events(taiwan: Path) -> None:
    for path in (taiwan / "events").rglob("*.parquet"):
        table = pq.read_table(path)
        assert table.schema.equals(EVENT_FILE_SCHEMA)
        assert not set(PROTECTED) & set(table.column_names)
    profile = pq.read_table(taiwan / "events" / "profile").to_pandas()
    assert set(profile["fact"]) == {"identity"}
    assert profile["fact_value"].isna().all() and profile["amount"].isna().all()


def test_first_client_as_the_data_says(taiwan: Path) -> None:
    # ID 1: limit 20000; Apr..Sep status -2,-2,-1,-1,2,2; bills 0,0,0,689,3102,3913;
    # paid 0,0,0,0,689,0.
    credit = pq.read_table(taiwan / "events" / "credit").to_pandas()
    one = credit[credit["person_id"] == "tw00001"]
    account = one[one["type"] == "credit_account"].iloc[0]
    assert account["credit_limit"] == 20_000 and account["account_kind"] == "credit_card"
    rep = one[one["type"] == "repayment"].sort_values("due_date")
    assert list(rep["due_date"]) == [date(2005, m, 15) for m in range(4, 10)]
    assert list(rep["amount_due"]) == [0, 0, 0, 689, 3102, 3913]
    # August and September two months in arrears: the July, August and September
    # instalments are unpaid on as_of; April to June were paid on time. The amounts paid
    # are kept as the data gives them.
    assert list(rep["paid_date"][:3]) == [date(2005, m, 15) for m in range(4, 7)]
    assert rep["paid_date"][3:].isna().all()
    assert list(rep["amount_paid"]) == [0, 0, 0, 0, 689, 0]
    assert (one["occurred_at"] < datetime(2005, 9, 30, tzinfo=UTC)).all()


def _write_csv(path: Path, rows: list[dict[str, int]], header: tuple[str, ...] = REQUIRED):
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def _row(i: int, **values: int) -> dict[str, int]:
    row = dict.fromkeys(REQUIRED, 0)
    row.update({"ID": i, "LIMIT_BAL": 10_000, "SEX": 1, "EDUCATION": 2, "MARRIAGE": 1, "AGE": 30})
    row.update(values)
    return row


statuses = st.integers(min_value=-2, max_value=8)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(statuses, min_size=6, max_size=6),
            st.lists(st.integers(-5_000, 50_000), min_size=6, max_size=6),
            st.lists(st.integers(0, 50_000), min_size=6, max_size=6),
            st.integers(0, 1),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_valid_file_converts_into_valid_events(clients: list) -> None:
    pay = ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0")
    bill = tuple(f"BILL_AMT{i}" for i in (6, 5, 4, 3, 2, 1))
    amt = tuple(f"PAY_AMT{i}" for i in (6, 5, 4, 3, 2, 1))
    rows = []
    for i, (status, bills, paid, target) in enumerate(clients, start=1):
        values = {
            **dict(zip(pay, status, strict=True)),
            **dict(zip(bill, bills, strict=True)),
            **dict(zip(amt, paid, strict=True)),
            "default.payment.next.month": target,
        }
        rows.append(_row(i, **values))
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out"
        _write_csv(src, rows)
        convert(src, out)
        rep = pq.read_table(out / "events" / "credit").to_pandas()
        rep = rep[rep["type"] == "repayment"].sort_values(["person_id", "due_date"])
        assert len(rep) == 6 * len(clients)
        assert (rep["amount_due"] >= 0).all() and (rep["amount_paid"] >= 0).all()
        assert (rep["paid_date"].dropna() < AS_OF).all()
        # on time exactly when the next month shows no arrears (September: itself)
        on_time = []
        for status, _, _, _ in clients:
            on_time += [status[i + 1] <= 0 for i in range(5)] + [status[5] <= 0]
        assert ((rep["paid_date"] == rep["due_date"]).tolist()) == on_time
        assert rep["amount_paid"].tolist() == [float(p) for c in clients for p in c[2]]
        late = rep["paid_date"].notna() & (rep["paid_date"] > rep["due_date"])
        assert (rep.loc[late, "paid_date"].map(lambda d: d.day) == 15).all()


def test_bad_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        convert(tmp_path / "missing.csv", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_wrong_columns_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write_csv(src, [_row(1)], header=REQUIRED[:-3])
    with pytest.raises(InputError, match="missing columns PAY_AMT2, PAY_AMT1, default"):
        convert(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_non_integer_values_are_refused_with_their_line(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write_csv(src, [_row(1), _row(2)])
    text = src.read_text().splitlines()
    text[2] = text[2].replace("10000", "lots", 1)
    src.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match="line 3, field 'LIMIT_BAL'"):
        convert(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_with_other_files_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write_csv(src, [_row(1)])
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("keep")
    with pytest.raises(InputError, match="not empty"):
        convert(src, out)
    assert [p.name for p in out.iterdir()] == ["x"]
