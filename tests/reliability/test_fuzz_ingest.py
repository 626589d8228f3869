"""Hostile files for every ingestion format: no crash, only line-numbered rejections.

Hypothesis generates malformed CSV, JSONL and Parquet files (plain and gzip): valid
files with their bytes mutated, structured rows whose cells come from a pool of hostile
values (NUL, lone surrogates' bytes, huge numbers, impossible dates, SQL and HTML, very
long text, quotes and separators), headers with missing, duplicated, unknown and
internal-looking names (``_line``, ``_file``, ``_errors``), JSON of every type, Parquet
columns of every Arrow type. For each file, ingestion must either refuse the whole file
with an ``InputError`` that names it, or take it: every rejected row is named with its
line (a file- or column-level issue by its file and field), the counts add up, the
ledger verifies and holds only valid events.

``OPENSCORE_FUZZ_EXAMPLES`` examples per format (default sized for CI); a longer
coverage-guided run: ``fuzz_atheris.py`` (``test_atheris_bounded_run``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openscore.config import Settings
from openscore.domain.events import EVENT_COLUMNS
from openscore.errors import InputError
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger, verify

from fixtures.data import make_events, write_events

EXAMPLES = int(os.environ.get("OPENSCORE_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("OPENSCORE_FUZZ_RANDOM") is None,
)
NAMES = [c.name for c in EVENT_COLUMNS]
VALID = make_events(16, seed=3, people=5, prefix="fz-")
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ufeffpayment",
    "NaN",
    "inf",
    "-0",
    "1e309",
    "99999999999999999999999999",
    "0x1F",
    "2024-02-30",
    "0000-00-00",
    "9999-12-31T23:59:59Z",
    "1899-12-31",
    "2024-01-01T25:61:61",
    "2024-01-01T00:00:00+99:00",
    "true",
    "yes",
    "maybe",
    "payment",
    "PAYMENT",
    "public_records",
    "'; DROP TABLE people; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "\u202eevil",
    "é" * 300,
    "x" * 5000,
    "\r",
    "\n",
    '"',
    ",",
    "\\",
    "\ud7ff\ue000",
    "🙂",
]
cells = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from([str(v) for v in VALID.column("occurred_at").to_pylist()]),
)
column_names = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(["_line", "_file", "_errors", "__t_type", "", " ", "type ", "Type"]),
    st.text(max_size=12),
)


def _ingest(tmp: Path, path: Path):
    ledger = Ledger(tmp / "data" / "ledger")
    settings_ = Settings(data_dir=tmp / "data")
    try:
        result = Ingester(ledger, settings=settings_, consent_gate=no_consent_check).run(
            [path], "fx"
        )
    except InputError as exc:  # the whole file refused: it must say which
        assert str(path) in exc.message or exc.path, exc.message
        assert verify(ledger).ok
        return None
    assert verify(ledger, deep=True).ok
    if result.report_path:
        with open(result.report_path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                assert row["file"] == str(path)
                line_level = row["line"].isdigit() and int(row["line"]) >= 1
                about_file = row["line"] == "" and (
                    row["field"] != "" or any(row["reason"] in e for e in result.file_errors)
                )
                assert line_level or about_file, row
                assert row["reason"]
    if not result.file_errors:
        assert result.accepted + result.rejected + result.duplicates == result.rows_read, result
    for seg in ledger.manifest().segments:  # whatever was stored is a valid event
        table = pq.read_table(ledger.root / seg.file, columns=["type", "person_id", "event_id"])
        assert table["type"].null_count == table["person_id"].null_count == 0
        assert table["event_id"].null_count == 0
    return result


def _gz(data: bytes, gz: bool) -> bytes:
    return gzip.compress(data) if gz else data


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        pos = pos % (len(out) + 1)
        out[pos : pos + cut] = insert
    return bytes(out)


edits = st.lists(
    st.tuples(st.integers(0, 1 << 16), st.integers(0, 8), st.binary(max_size=8)), max_size=6
)


@FUZZ
@given(
    header=st.lists(column_names, min_size=1, max_size=12),
    rows=st.lists(st.lists(cells, max_size=14), max_size=12),
    gz=st.booleans(),
    delimiter=st.sampled_from([",", ",", ";", "\t"]),
)
def test_structured_csv(
    tmp_path_factory: pytest.TempPathFactory,
    header,
    rows,
    gz,
    delimiter,
) -> None:
    tmp = tmp_path_factory.mktemp("csv")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp / ("in.csv.gz" if gz else "in.csv")
    path.write_bytes(_gz(buf.getvalue().encode("utf-8", "surrogatepass"), gz))
    _ingest(tmp, path)


@FUZZ
@given(
    fmt=st.sampled_from(["csv", "jsonl", "parquet"]),
    changes=edits,
    gz=st.booleans(),
    cut=st.one_of(st.none(), st.integers(0, 1 << 14)),
)
def test_mutated_valid_files(
    tmp_path_factory: pytest.TempPathFactory,
    fmt,
    changes,
    gz,
    cut,
) -> None:
    tmp = tmp_path_factory.mktemp("mut")
    clean = write_events(VALID, tmp / f"clean.{fmt}").read_bytes()
    data = _gz(_mutate(clean, changes), gz)
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = tmp / (f"in.{fmt}.gz" if gz else f"in.{fmt}")
    path.write_bytes(data)
    _ingest(tmp, path)


def test_a_header_broken_by_a_carriage_return_is_refused_by_name(tmp_path: Path) -> None:
    """Found by the mutation fuzzer: a bare CR inside the header line crashed the header
    parser (``_csv.Error``) instead of refusing the file."""
    path = tmp_path / "in.csv"
    path.write_bytes(b"event_id\rtype,person_id\ne1,payment,p1\n")
    result = _ingest(tmp_path, path)
    assert result is not None and result.accepted == 0
    assert any("carriage return" in e and "line 1" in e for e in result.file_errors)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(HOSTILE),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(column_names, json_values, max_size=12).map(json.dumps),
            json_values.map(json.dumps),
            st.text(max_size=30),
            st.sampled_from(["", "{", "[1,2", '{"type": "payment"', "null", '{"a":1}{"b":2}']),
        ),
        max_size=12,
    ),
    gz=st.booleans(),
)
@example(lines=['{"": 1, "type": "payment"}'], gz=False)  # found: a column with no name
def test_structured_jsonl(tmp_path_factory: pytest.TempPathFactory, lines, gz) -> None:
    tmp = tmp_path_factory.mktemp("jsonl")
    path = tmp / ("in.jsonl.gz" if gz else "in.jsonl")
    path.write_bytes(_gz("\n".join(lines).encode("utf-8", "surrogatepass"), gz))
    _ingest(tmp, path)


arrow_types = st.sampled_from(
    [
        pa.string(),
        pa.large_string(),
        pa.binary(),
        pa.int8(),
        pa.int64(),
        pa.uint64(),
        pa.float32(),
        pa.float64(),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("ns"),
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("s", tz="+05:00"),
        pa.decimal128(38, 10),
        pa.null(),
        pa.list_(pa.string()),
        pa.struct([("a", pa.int32())]),
        pa.dictionary(pa.int32(), pa.string()),
        pa.time64("us"),
        pa.duration("s"),
    ]
)


@st.composite
def parquet_tables(draw) -> pa.Table:
    n = draw(st.integers(0, 10))
    columns = {}
    for name in draw(st.lists(column_names, min_size=1, max_size=10, unique=True)):
        t = draw(arrow_types)
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
            values = draw(st.lists(st.one_of(st.none(), cells), min_size=n, max_size=n))
            arr = pa.array(values, pa.string())
            arr = arr.dictionary_encode() if pa.types.is_dictionary(t) else arr.cast(t)
        elif pa.types.is_binary(t):
            arr = pa.array(draw(st.lists(st.binary(max_size=12), min_size=n, max_size=n)), t)
        else:
            try:
                arr = pa.array([None] * n, t) if draw(st.booleans()) else _random_array(draw, t, n)
            except (pa.lib.ArrowException, OverflowError):
                arr = pa.array([None] * n, t)
        columns[name] = arr
    return pa.table(columns)


def _random_array(draw, t: pa.DataType, n: int) -> pa.Array:
    ints = st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)
    if (
        pa.types.is_integer(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or (pa.types.is_time(t) or pa.types.is_duration(t))
    ):
        return pa.array(draw(ints), pa.int64()).cast(t, safe=False)
    if pa.types.is_floating(t):
        return pa.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), pa.float64()).cast(t)
    if pa.types.is_boolean(t):
        return pa.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), t)
    return pa.array([None] * n, t)


@FUZZ
@given(table=parquet_tables(), gz=st.booleans())
def test_structured_parquet(tmp_path_factory: pytest.TempPathFactory, table, gz) -> None:
    tmp = tmp_path_factory.mktemp("pq")
    if "" in table.column_names:
        table = table.rename_columns([c or "blank" for c in table.column_names])
    path = tmp / "in.parquet"
    pq.write_table(table, path)
    if gz:
        path = path.rename(tmp / "in.parquet.gz")
        path.write_bytes(gzip.compress(path.read_bytes()))
    _ingest(tmp, path)


ATHERIS = Path(__file__).with_name("fuzz_atheris.py")


@pytest.mark.slow
def test_atheris_bounded_run(tmp_path: Path) -> None:
    """A coverage-guided run (libFuzzer via atheris) over the readers and validation,
    bounded in time; any exception but ``InputError`` is a crash and fails it."""
    # atheris is in requirements.lock (3.0.0 has a cp311 manylinux wheel): never skipped
    seconds = os.environ.get("OPENSCORE_ATHERIS_SECONDS", "20")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for fmt in ("csv", "jsonl", "parquet"):
        tag = {"csv": b"c", "jsonl": b"j", "parquet": b"p"}[fmt]
        data = write_events(VALID.slice(0, 4), tmp_path / f"seed.{fmt}").read_bytes()
        (corpus / fmt).write_bytes(tag + data)
    run = subprocess.run(
        [
            sys.executable,
            str(ATHERIS),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=3072",
            "-max_len=8192",
            str(corpus),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=int(seconds) * 4 + 600,  # instrumenting the imports is slow on a busy machine
        env={**os.environ, "OPENSCORE_FUZZ_DIR": str(tmp_path / "work")},
    )
    tail = run.stdout[-3000:] + run.stderr[-5000:]
    assert run.returncode == 0, tail
    assert "Done" in tail or "DONE" in tail, tail
