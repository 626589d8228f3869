"""Hostile files: one clear message, the bad line by its number, the good lines kept, and
never a traceback (issue 18, "Hostile input")."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscore.ingest import Ingester, no_consent_check
from openscore.ingest.readers import MAX_JSON_DEPTH, _all_ascii
from openscore.ledger import Ledger

HEADER = b"event_id,type,person_id,source,occurred_at,channel,amount,currency\n"


def good(i: int) -> bytes:
    return f"g{i},payment,p1,wallet,2024-01-0{i}T10:00:00Z,online,10,CNY\n".encode()


def run(tmp_path: Path, path: Path):
    return Ingester(Ledger(tmp_path / "ledger"), consent_gate=no_consent_check).run([path], "fx")


def report(result) -> list[dict]:
    with open(result.report_path, newline="") as fh:
        return list(csv.DictReader(fh))


def stored_ids(tmp_path: Path) -> list[str]:
    return sorted(Ledger(tmp_path / "ledger").read_person("p1").column("event_id").to_pylist())


@pytest.mark.parametrize("kind", ["with NUL bytes", "high bytes only"])
def test_random_bytes_named_csv_get_one_clear_message(
    data_dir: Path, tmp_path: Path, kind: str
) -> None:
    rng = random.Random(18)
    if kind == "with NUL bytes":
        body = rng.randbytes(200_000)
    else:  # no NUL byte to give it away: mostly bytes that are not UTF-8
        body = bytes(rng.randrange(0x80, 0x100) for _ in range(50_000))
    path = tmp_path / "upload.csv"
    path.write_bytes(body)
    ran = subprocess.run(
        [sys.executable, "-m", "openscore", "ingest", str(path), "--furnisher", "fx"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENSCORE_DATA_DIR": str(data_dir), "COLUMNS": "200"},
    )
    assert ran.returncode == 1
    out = ran.stdout + ran.stderr
    assert "Traceback" not in out and "Exception ignored" not in out
    assert f"{path}: not a text CSV file:" in out
    assert out.count("not a text CSV file") <= 3  # the error, the top reason, the example


def test_a_deeply_nested_jsonl_line_is_rejected_by_number(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "event_id": "g1",
            "type": "payment",
            "person_id": "p1",
            "source": "wallet",
            "occurred_at": "2024-01-01T10:00:00Z",
            "channel": "online",
            "amount": 10,
            "currency": "CNY",
        }
    )
    # brackets inside a string value are text, not nesting: that line is fine
    in_a_string = line.replace('"online"', json.dumps("[" * 500)).replace('"g1"', '"g3"')
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join([line, "[" * 200_000 + "]" * 200_000, '{"a": ' * 100 + "1" + "}" * 100])
        + "\n"
        + in_a_string
        + "\n"
    )
    result = run(tmp_path, path)
    rows = report(result)
    deep = f"JSON nested more than {MAX_JSON_DEPTH} levels deep (an event is one flat object)"
    assert [(r["line"], r["reason"]) for r in rows if r["reason"] == deep] == [
        ("2", deep),
        ("3", deep),
    ]
    assert result.accepted == 1 and result.rejected >= 3
    assert stored_ids(tmp_path) == ["g1"]


def test_a_csv_row_neither_utf8_nor_the_right_width_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(
        HEADER
        + good(1)
        + b"g2,payment,p1,wallet,2024-01-02T10:00:00Z,online,\xff\xfe,CNY,extra\n"
        + good(3)
        + b'g4,payment,p1,wallet,2024-01-04T10:00:00Z,"on\nline\xff",10\n'  # quoted newline
        + good(5)
        + b"g6,payment,p1,wallet,2024-01-06T10:00:00Z,onl\xffine,10,CNY\n"  # right width
        + good(7)
    )
    result = run(tmp_path, path)
    rows = report(result)
    by_line = {r["line"]: r for r in rows}
    assert by_line["3"]["reason"] == "expected 8 columns, found 9 (and not valid UTF-8)"
    assert by_line["5"]["reason"] == "expected 8 columns, found 7 (and not valid UTF-8)"
    assert by_line["7"]["field"] == "channel"  # the cell, judged by validation
    assert sorted(by_line) == ["3", "5", "7"]
    assert (result.accepted, result.rejected, result.rows_read) == (4, 3, 7)
    assert stored_ids(tmp_path) == ["g1", "g3", "g5", "g7"]


def _unchecked_strings(values: list[bytes]) -> pa.Array:
    """A ``string`` array holding ``values`` as they are, valid UTF-8 or not (pyarrow
    checks text it builds; a Parquet file written elsewhere need not hold valid text)."""
    offsets = np.cumsum([0, *(len(v) for v in values)], dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(values))]
    )


def test_a_parquet_cell_that_is_not_utf8_costs_only_its_row(tmp_path: Path) -> None:
    """Parquet text is not checked when read: an ASCII column is taken as it is, one with
    other bytes is checked, and a cell that is not UTF-8 rejects its row by its field."""
    n = 6
    channel = [b"online"] * n
    channel[2] = b"onl\xffine"
    merchant = [b"caf\xc3\xa9 \xe5\x8c\x97\xe4\xba\xac"] * n  # valid UTF-8 beyond ASCII
    table = pa.table(
        {
            "event_id": [f"g{i}" for i in range(n)],
            "type": ["payment"] * n,
            "person_id": ["p1"] * n,
            "source": ["wallet"] * n,
            "occurred_at": pa.array(
                [datetime(2024, 1, i + 1, 10, tzinfo=UTC) for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "channel": _unchecked_strings(channel),
            "amount": [10.0] * n,
            "currency": ["CNY"] * n,
            "merchant_category": _unchecked_strings(merchant),
        }
    )
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    result = run(tmp_path, path)
    rows = report(result)
    assert [(r["field"], r["line"]) for r in rows] == [("channel", "3")]
    assert (result.accepted, result.rejected) == (n - 1, 1)
    stored = Ledger(tmp_path / "ledger").read_person("p1")
    assert sorted(stored.column("event_id").to_pylist()) == [f"g{i}" for i in range(n) if i != 2]
    assert set(stored.column("merchant_category").to_pylist()) == {"café 北京"}


@given(st.lists(st.text(max_size=12), max_size=40), st.integers(0, 5), st.integers(0, 5))
def test_the_ascii_shortcut_says_what_the_bytes_say(
    values: list[str], head: int, tail: int
) -> None:
    arr = pa.array(values, pa.string())
    part = arr.slice(min(head, len(arr)), max(0, len(arr) - head - tail))
    want = all(v.isascii() for v in part.to_pylist())
    assert _all_ascii(part) == want
    assert _all_ascii(part.cast(pa.large_string())) == want
