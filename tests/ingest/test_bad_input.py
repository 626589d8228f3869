"""Bad input gets one clear message naming line and field, and loses nothing."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from openscore.errors import InputError
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger

from fixtures.data import make_events, write_events

HEADER = "event_id,type,person_id,source,occurred_at,channel,amount,currency"
GOOD = "g{i},payment,p1,wallet,2024-01-0{i}T10:00:00Z,online,10,CNY"


def run(data_dir: Path, *paths: Path):
    return Ingester(Ledger(data_dir / "ledger"), consent_gate=no_consent_check).run(
        list(paths), "fx"
    )


def report(result) -> list[dict]:
    if not result.report_path:
        return []
    with open(result.report_path, newline="") as fh:
        return list(csv.DictReader(fh))


def csv_file(tmp_path: Path, *lines: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("bad_line", "field", "reason"),
    [
        ("b1,payment,p1,wallet,2024-01-05,online,-4,CNY", "amount", "negative amount"),
        ("b1,payment,p1,wallet,2024-01-05,online,ten,CNY", "amount", "not a number"),
        ("b1,payment,p1,wallet,2024-01-05,online,1e17,CNY", "amount", "implausibly large"),
        ("b1,payment,p1,wallet,2024-01-05,online,1000000000000.01,CNY", "amount", "over 1,000"),
        ("b1,payment,p1,wallet,2999-01-05,online,4,CNY", "occurred_at", "in the future"),
        ("b1,payment,p1,wallet,1899-12-31,online,4,CNY", "occurred_at", "before 1900"),
        ("b1,payment,p1,wallet,2024-13-45,online,4,CNY", "occurred_at", "not an ISO 8601"),
        ("b1,payment,p1,wallets,2024-01-05,online,4,CNY", "source", "unknown value"),
        ("b1,paymnt,p1,wallet,2024-01-05,online,4,CNY", "type", "unknown type"),
        ("b1,payment,p1,credit,2024-01-05,online,4,CNY", "source", "belongs to source wallet"),
        ("b1,payment,p1,wallet,2024-01-05,by post,4,CNY", "channel", "unknown value"),
        ("b1,payment,p1,wallet,2024-01-05,online,4,yuan", "currency", "ISO 4217"),
        ("b1,payment,,wallet,2024-01-05,online,4,CNY", "person_id", "required"),
        ("b1,payment,p1,wallet,2024-01-05,online,4", None, "expected 8 columns, found 7"),
    ],
)
def test_a_bad_row_is_reported_with_line_and_field_and_the_rest_is_kept(
    data_dir: Path, tmp_path: Path, bad_line: str, field: str | None, reason: str
) -> None:
    path = csv_file(tmp_path, HEADER, GOOD.format(i=1), bad_line, GOOD.format(i=2))
    result = run(data_dir, path)
    assert result.accepted == 2 and result.rejected == 1 and not result.failed
    rows = report(result)
    assert len(rows) == 1, rows
    assert rows[0]["line"] == "3"
    assert rows[0]["field"] == (field or "")
    assert reason in rows[0]["reason"]
    assert Ledger(data_dir / "ledger").manifest().rows == 2


def test_duplicate_ids_within_a_batch_keep_the_first(data_dir: Path, tmp_path: Path) -> None:
    first = "d1,payment,p1,wallet,2024-01-05,online,1,CNY"
    again = "d1,payment,p1,wallet,2024-01-06,online,2,CNY"
    result = run(data_dir, csv_file(tmp_path, HEADER, first, again, again))
    assert result.accepted == 1 and result.rejected == 2
    assert [r["line"] for r in report(result)] == ["3", "4"]
    stored = pq.read_table(Ledger(data_dir / "ledger").snapshot().paths[0])
    assert stored.column("amount").to_pylist() == [1.0]


def test_missing_required_column_names_it_on_every_row(data_dir: Path, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "event_id,type,person_id,source,occurred_at,channel,currency",
        "m1,payment,p1,wallet,2024-01-05,online,CNY",
    )
    result = run(data_dir, path)
    assert result.failed and result.accepted == 0
    assert report(result)[0]["field"] == "amount"
    assert "required" in report(result)[0]["reason"]


def test_extra_column_is_named_and_rows_are_kept(data_dir: Path, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + ",colour", GOOD.format(i=1) + ",blue")
    result = run(data_dir, path)
    assert result.accepted == 1
    assert any(r["field"] == "colour" and "unknown column" in r["reason"] for r in report(result))


def test_field_of_another_type_is_refused(data_dir: Path, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + ",due_date", GOOD.format(i=1) + ",2024-01-01")
    result = run(data_dir, path)
    assert result.rejected == 1
    assert report(result)[0]["field"] == "due_date"


def test_empty_file_is_an_error_and_nothing_changes(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = run(data_dir, path)
    assert result.failed and "empty" in result.file_errors[0]
    assert Ledger(data_dir / "ledger").manifest().rows == 0


def test_file_that_does_not_exist_is_named(data_dir: Path, tmp_path: Path) -> None:
    good = csv_file(tmp_path, HEADER, GOOD.format(i=1))
    result = run(data_dir, tmp_path / "nope.csv", good)
    assert result.accepted == 1
    assert any("nope.csv" in e and "does not exist" in e for e in result.file_errors)


def test_wrong_encoding_rejects_the_bad_cells_only(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (HEADER + "\n" + GOOD.format(i=1) + "\n").encode()
        + "l1,payment,Zoë,wallet,2024-01-05,online,1,CNY\n".encode("latin-1")
    )
    result = run(data_dir, path)
    assert result.accepted == 1 and result.rejected == 1
    row = report(result)[0]
    assert (row["line"], row["field"]) == ("3", "person_id")
    assert "UTF-8" in row["reason"]


def test_utf16_file_is_refused_with_advice(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes((HEADER + "\n" + GOOD.format(i=1) + "\n").encode("utf-16"))
    result = run(data_dir, path)
    assert result.failed and "UTF-16" in result.file_errors[0]


def test_truncated_gzip_keeps_the_complete_lines(data_dir: Path, tmp_path: Path) -> None:
    events = make_events(400)
    whole = write_events(events, tmp_path / "ev.csv.gz").read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    result = run(data_dir, cut)
    assert 0 < result.accepted < 400
    truncated = [r for r in report(result) if "truncated" in r["reason"]]
    assert len(truncated) == 1 and int(truncated[0]["line"]) == result.accepted + 2


def test_a_100_mb_line_is_rejected_alone(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.write((HEADER + "\n" + GOOD.format(i=1) + "\n").encode())
        fh.write(b"h1,payment,p1,wallet,2024-01-05,online,1," + b"x" * (100 << 20) + b"\n")
        fh.write((GOOD.format(i=2) + "\n").encode())
    result = run(data_dir, path)
    assert result.accepted == 2 and result.rejected == 1
    row = report(result)[0]
    assert row["line"] == "3" and "longer than" in row["reason"]


def test_jsonl_errors_name_their_line(data_dir: Path, tmp_path: Path) -> None:
    good = {
        "event_id": "j1",
        "type": "payment",
        "person_id": "p1",
        "source": "wallet",
        "occurred_at": "2024-01-05",
        "channel": "online",
        "amount": 3,
        "currency": "CNY",
    }
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps(good)
        + "\n"
        + "{not json\n"
        + json.dumps({**good, "event_id": "j2", "amount": "x"})
        + "\n"
        + json.dumps({**good, "event_id": "j3", "amount": [1]})
        + "\n"
    )
    result = run(data_dir, path)
    assert result.accepted == 1 and result.rejected == 3
    assert [(r["line"], r["field"]) for r in report(result)] == [
        ("2", ""),
        ("3", "amount"),
        ("4", "amount"),
    ]


def test_corrupt_parquet_is_one_clear_error(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100)
    result = run(data_dir, path)
    assert result.failed and "Parquet" in result.file_errors[0]


def test_gzip_that_is_not_gzip(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    path.write_bytes(b"\x1f\x8bnot really gzip data")
    result = run(data_dir, path)
    assert result.failed and "gzip" in result.file_errors[0]


def test_blank_furnisher_is_refused(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="furnisher"):
        Ingester(Ledger(data_dir / "ledger"), consent_gate=no_consent_check).run([tmp_path], "  ")


def test_cli_exits_non_zero_only_when_nothing_was_ingested(data_dir: Path, tmp_path: Path) -> None:
    good = csv_file(tmp_path, HEADER, GOOD.format(i=1), name="good.csv")
    bad = csv_file(tmp_path, HEADER, "x,payment,p1,wallet,2024-01-05,online,-1,CNY", name="bad.csv")
    cmd = [
        sys.executable,
        "-m",
        "openscore",
        "--data-dir",
        str(data_dir),
        "ingest",
        "--furnisher",
        "fx",
        "--no-consent-check",
        "--json",
    ]
    mixed = subprocess.run([*cmd, str(good), str(bad)], capture_output=True, text=True)
    assert mixed.returncode == 0, mixed.stderr
    assert json.loads(mixed.stdout)["accepted"] == 1
    only_bad = subprocess.run([*cmd, str(bad)], capture_output=True, text=True)
    assert only_bad.returncode == 1
    again = subprocess.run([*cmd, str(good)], capture_output=True, text=True)
    assert again.returncode == 0 and json.loads(again.stdout)["duplicates"] == 1
    missing = subprocess.run(
        [*cmd[:-1], str(tmp_path / "nope.csv")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr + missing.stdout
    gz = tmp_path / "g.csv.gz"
    gz.write_bytes(gzip.compress(good.read_bytes()))
    assert subprocess.run([*cmd, str(gz)], capture_output=True).returncode == 0
