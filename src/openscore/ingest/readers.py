"""Reading furnisher files (CSV, JSONL, Parquet; plain or gzip) into raw Arrow batches.

A reader never judges values: it turns a file into batches of raw columns plus a
``_line`` column (1-based; the header is line 1, so the first CSV/JSONL record is line 2;
for Parquet, the row number), and reports what it could not read at all — a line too
long, a row with the wrong number of columns, invalid JSON, a truncated gzip stream —
as rejections with their line. Validation (``validation.py``) judges the values.

Line numbers count records: a quoted CSV value that spans lines counts as one.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openscore.errors import InputError, StorageError
from openscore.ingest.rejections import Rejection, clip_value

if TYPE_CHECKING:
    import numpy.typing as npt

#: a line longer than this is rejected as a whole (detected for sure from 2x the window)
MAX_LINE_BYTES = 8 << 20
_WINDOW = MAX_LINE_BYTES // 2
#: pyarrow parses in blocks; any line that passed the check fits in one
_BLOCK_BYTES = 4 * MAX_LINE_BYTES
#: rows per batch handed to validation
BATCH_ROWS = 1_000_000
#: JSON nested deeper than this is refused before parsing (an event is a flat object;
#: Python's parser recurses, and 200 000 brackets would exhaust the stack)
MAX_JSON_DEPTH = 64
#: bytes looked at to tell a text file from a binary one
_SNIFF_BYTES = 64 << 10

FORMATS = ("csv", "jsonl", "parquet")


@dataclass(slots=True)
class RawFile:
    """A file being read: its batches arrive through :meth:`batches`."""

    path: Path
    format: str
    columns: list[str] = field(default_factory=list)
    issues: list[Rejection] = field(default_factory=list)
    #: where a plain copy lives when the file had to be decompressed or cleaned
    work_path: Path | None = None
    #: how many of the issues are whole rows that could not be read
    rows_rejected: int = 0
    #: where scratch copies go (the run's work directory)
    work_dir: Path | None = None
    #: lines rejected by the reader before the parser saw them (their rows are dropped)
    dropped: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return str(self.path)

    def reject(
        self, line: int | None, fld: str | None, value: object, reason: str, *, row: bool = True
    ) -> None:
        """Record an issue; ``row`` says whether it cost a data row (or is about the file)."""
        self.issues.append(Rejection(self.name, line, fld, clip_value(value), reason))
        self.rows_rejected += row


def detect_format(path: Path) -> tuple[str, bool]:
    """(format, gzipped) from the file name, then from its first bytes."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    stem = name[:-3] if gz else name
    fmt = next(
        (
            name
            for name, suffixes in (
                ("csv", (".csv", ".tsv", ".txt")),
                ("jsonl", (".jsonl", ".ndjson", ".json")),
                ("parquet", (".parquet", ".pq")),
            )
            if stem.endswith(suffixes)
        ),
        "",
    )
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == b"\x1f\x8b":
        gz = True
    if not fmt:
        if head == b"PAR1":
            fmt = "parquet"
        else:
            raise InputError(
                "cannot tell the format from the name: use .csv, .jsonl or .parquet "
                "(optionally .gz)",
                path=str(path),
            )
    return fmt, gz


def open_raw(path: Path, work_dir: Path) -> RawFile:
    """Prepare a file for reading: decompress, check line lengths and encoding marks."""
    if not path.exists():
        raise InputError("file does not exist", path=str(path))
    if path.is_dir():
        raise InputError("is a directory", path=str(path))
    fmt, gz = detect_format(path)
    raw = RawFile(path, fmt, work_dir=work_dir)
    plain = path
    if gz:
        plain = _gunzip(raw, work_dir)
    if fmt != "parquet":
        plain = _check_text(raw, plain, work_dir)
    raw.work_path = plain
    return raw


def iter_batches(raw: RawFile, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """Batches of raw columns with ``_line``; issues found while reading go to ``raw``.
    ``columns``: for Parquet, read only those of them the file has (all when none)."""
    if raw.work_path is None:
        raise StorageError(f"{raw.path} was not opened for reading (use open_raw)")
    if raw.format == "csv":
        yield from _csv_batches(raw, raw.work_path)
    elif raw.format == "jsonl":
        yield from _jsonl_batches(raw, raw.work_path)
    else:
        yield from _parquet_batches(raw, raw.work_path, columns)


# -- decompression and line checks ---------------------------------------------------------


def _gunzip(raw: RawFile, work_dir: Path) -> Path:
    """Decompress to ``work_dir``; a truncated stream keeps its complete lines and says so."""
    out = work_dir / (raw.path.name.removesuffix(".gz").removesuffix(".GZ") + ".plain")
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    truncated = False
    with open(raw.path, "rb") as src, open(out, "wb") as dst:
        while True:
            block = src.read(4 << 20)
            if not block:
                truncated = not decomp.eof
                break
            try:
                dst.write(decomp.decompress(block))
            except zlib.error as exc:
                raise InputError(f"not a valid gzip file ({exc})", path=raw.name) from exc
            if decomp.eof:
                rest = decomp.unused_data
                if rest.strip(b"\x00"):
                    # concatenated gzip members: let the gzip module handle the rest
                    dst.seek(0)
                    dst.truncate()
                    with gzip.open(raw.path, "rb") as gz:
                        while chunk := gz.read(4 << 20):
                            dst.write(chunk)
                break
    if truncated:
        if raw.format == "parquet":
            raise InputError("gzip stream is truncated", path=raw.name)
        lines = _cut_to_last_newline(out)
        raw.reject(
            lines + 1,
            None,
            None,
            f"gzip stream is truncated: kept the {lines} complete lines before it",
        )
    return out


def _cut_to_last_newline(path: Path) -> int:
    """Drop a partial last line; return the number of complete lines kept."""
    with open(path, "rb+") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        pos = size
        while pos > 0:
            step = min(1 << 20, pos)
            fh.seek(pos - step)
            chunk = fh.read(step)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                fh.truncate(pos - step + idx + 1)
                break
            pos -= step
        else:
            fh.truncate(0)
    return _count_lines(path)


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(16 << 20):
            n += chunk.count(b"\n")
    return n


def _check_text(raw: RawFile, path: Path, work_dir: Path) -> Path:
    """Refuse UTF-16, and blank out lines longer than MAX_LINE_BYTES (each rejected).

    The common case costs one ``find`` per 4 MB window: a line of 8 MB or more always
    covers a whole window without a newline. Only then is the file scanned line by line.
    """
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty", path=raw.name)
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError("file is UTF-16 encoded: save it as UTF-8", path=raw.name)
        fh.seek(0)
        _refuse_binary(raw, fh.read(_SNIFF_BYTES))
        suspicious = False
        offset = 0
        while offset < size:
            fh.seek(offset)
            window = fh.read(_WINDOW)
            if b"\n" not in window and offset + len(window) < size:
                suspicious = True
                break
            offset += _WINDOW
    if not suspicious:
        return path
    out = work_dir / (raw.path.name + ".lines")
    with open(path, "rb") as src, open(out, "wb") as dst:
        line_no = 0
        while True:
            line = src.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            line_no += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                total = len(line)
                while not line.endswith(b"\n"):
                    line = src.readline(MAX_LINE_BYTES + 1)
                    if not line:
                        break
                    total += len(line)
                raw.reject(
                    line_no,
                    None,
                    None,
                    f"line is {total / 2**20:.1f} MB, longer than the "
                    f"{MAX_LINE_BYTES >> 20} MB limit",
                )
                dst.write(b"\n")  # keeps the numbering of the lines after it
            else:
                dst.write(line)
    return out


def _refuse_binary(raw: RawFile, sample: bytes) -> None:
    """One clear message for a file that is not text at all (random bytes, an image, a
    spreadsheet saved as .csv): a NUL byte, or mostly bytes that are not UTF-8 text."""
    label = "CSV" if raw.format == "csv" else "JSONL"
    nul = sample.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"not a text {label} file: it holds binary data (a NUL byte at byte {nul}); "
            "export it as UTF-8 text",
            path=raw.name,
        )
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=False)
    odd = text.count("\ufffd") + sum(c < " " and c not in "\t\r\n\f" for c in text)
    if text and odd > max(8, len(text) // 10):
        raise InputError(
            f"not a text {label} file: {odd} of its first {len(text)} characters are not "
            "text (invalid UTF-8 or control characters); export it as UTF-8 text",
            path=raw.name,
        )


def _valid_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8 (C-speed decoding, block by block)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(16 << 20):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# -- CSV ------------------------------------------------------------------------------------


def _csv_header(raw: RawFile, path: Path) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline(MAX_LINE_BYTES)
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    if not text.strip():
        raise InputError("the first line (the header) is empty", path=raw.name, line=1)
    try:
        names = [n.strip().strip('"') for n in next(_csv_rows(text))]
    except csv.Error as exc:  # an unquoted carriage return inside the line, mostly
        why = (
            "a carriage return that does not end the line (save the file with \\n or "
            "\\r\\n line endings)"
            if "\r" in text
            else str(exc)
        )
        raise InputError(f"the header cannot be read: {why}", path=raw.name, line=1) from exc
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"header names columns twice: {', '.join(dupes)}", path=raw.name, line=1)
    return names


def _csv_rows(text: str) -> Iterator[list[str]]:
    return csv.reader([text])


def _csv_batches(raw: RawFile, path: Path) -> Iterator[pa.Table]:
    names = _csv_header(raw, path)
    raw.columns = names
    # Not valid UTF-8 somewhere: read bytes, and validation rejects the bad cells. A row
    # that is not UTF-8 *and* has the wrong number of columns would make pyarrow fail
    # the whole file (its invalid-row handler cannot decode the row's text), so such
    # rows are found first and rejected by line; the rest of the file is kept.
    binary = not _valid_utf8(path)
    if binary:
        path = _drop_undecodable_bad_rows(raw, path, len(names))
    types = {n: pa.binary() if binary else pa.string() for n in names}
    try:
        for table in _csv_read(raw, path, names, types, binary=binary):
            if raw.dropped:
                table = table.filter(
                    pc.invert(pc.is_in(table.column(-1), pa.array(sorted(raw.dropped))))
                )
            yield table
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot be read as CSV ({exc})", path=raw.name) from exc


def _drop_undecodable_bad_rows(raw: RawFile, path: Path, columns: int) -> Path:
    """Reject the records that are not valid UTF-8 and have the wrong number of columns
    (by record number, as the reader counts them); the copy read instead has each one
    replaced by a record of empty fields, so the numbering of the others holds, and
    ``raw.dropped`` says which rows to leave out."""
    if raw.work_dir is None:
        return path
    out = raw.work_dir / (raw.path.name + ".rows")
    blank = b"," * (columns - 1) + b"\n"
    record = 1
    with open(path, "rb") as src, open(out, "wb") as dst:
        dst.write(src.readline())  # the header
        pending = b""
        for line in src:
            pending += line
            if pending.count(b'"') % 2:  # inside a quoted value that spans lines
                continue
            text, pending = pending, b""
            if not text.strip():
                dst.write(text)  # blank lines are not records
                continue
            record += 1
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                # latin-1 maps byte to character one to one: the same fields, countable
                try:
                    fields = next(csv.reader([text.decode("latin-1").rstrip("\r\n")]), [])
                    why = f"expected {columns} columns, found {len(fields)} (and not valid UTF-8)"
                except csv.Error:  # a bare carriage return inside, mostly
                    fields, why = [], "not valid UTF-8, and its columns cannot be told apart"
                if len(fields) != columns:
                    raw.reject(record, None, text.decode("utf-8", "replace").rstrip("\r\n"), why)
                    raw.dropped.add(record)
                    dst.write(blank)
                    continue
            dst.write(text)
        dst.write(pending)
    return out


def _csv_read(
    raw: RawFile, path: Path, names: list[str], types: dict, *, binary: bool
) -> Iterator[pa.Table]:
    # Fast path: threaded, and no bad rows expected. If the reader meets a bad row it
    # cannot number, it is read again single-threaded, where every row has its number.
    for threaded in (True, False):
        bad: list[tuple[int | None, str, int, int]] = []

        def handler(row: pacsv.InvalidRow, bad: list = bad) -> str:
            bad.append((row.number, row.text, row.expected_columns, row.actual_columns))
            return "skip"

        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=threaded, block_size=_BLOCK_BYTES, skip_rows=1, column_names=names
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
        if threaded:
            tables: list[pa.Table] = []
            pending = 0
            next_line = 2
            ok = True
            for batch in reader:
                if bad:
                    ok = False
                    break
                tables.append(pa.Table.from_batches([batch]))
                pending += batch.num_rows
                if pending >= BATCH_ROWS:
                    table = pa.concat_tables(tables)
                    yield _with_lines(table, next_line)
                    next_line += table.num_rows
                    tables, pending = [], 0
            if ok and not bad:
                if tables:
                    yield _with_lines(pa.concat_tables(tables), next_line)
                return
            if next_line > 2:
                # rows already yielded are re-read below; skip them there
                skip_before = next_line
            else:
                skip_before = 2
            continue
        # single-threaded: whole file, numbered
        table = reader.read_all()
        bad_numbers: list[int] = []
        for number, text, expected, actual in bad:
            if number is None:
                raise StorageError(f"{path}: the CSV reader did not number a bad row")
            bad_numbers.append(number)
            if text.strip() == "":
                continue
            raw.reject(number, None, text, f"expected {expected} columns, found {actual}")
        total = table.num_rows + len(bad_numbers)
        lines = pa.array(_good_lines(total, bad_numbers), pa.int64())
        table = table.append_column("_line", lines)
        start = 0
        while start < table.num_rows:
            part = table.slice(start, BATCH_ROWS)
            start += BATCH_ROWS
            # the last column is ours (a file may have its own "_line" column too)
            keep = part.filter(pa.compute.greater_equal(part.column(-1), skip_before))
            if keep.num_rows:
                yield keep
        return


def _good_lines(total_records: int, bad_numbers: list[int]) -> npt.NDArray[np.int64]:
    import numpy as np

    lines = np.arange(2, total_records + 2, dtype=np.int64)
    if bad_numbers:
        lines = lines[~np.isin(lines, np.asarray(bad_numbers, dtype=np.int64))]
    return lines


def _with_lines(table: pa.Table, first_line: int) -> pa.Table:
    import numpy as np

    return table.append_column(
        "_line", pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    )


# -- JSONL ----------------------------------------------------------------------------------


def _jsonl_batches(raw: RawFile, path: Path) -> Iterator[pa.Table]:
    """One JSON object per line. Parsed line by line so that every error has its line."""
    columns: dict[str, list] = {}
    lines: list[int] = []
    seen: list[str] = []

    def flush() -> pa.Table:
        n = len(lines)
        arrays = {k: pa.array(v + [None] * (n - len(v)), pa.string()) for k, v in columns.items()}
        arrays["_line"] = pa.array(lines, pa.int64())
        return pa.table(arrays)

    # JSONL has no header: line 1 is the first record
    with open(path, "rb") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            depth = _json_depth(line)
            if depth > MAX_JSON_DEPTH:
                raw.reject(
                    line_no,
                    None,
                    line[:200].decode("utf-8", "replace"),
                    f"JSON nested more than {MAX_JSON_DEPTH} levels deep (an event is one "
                    "flat object)",
                )
                continue
            try:
                obj = json.loads(line)
            except RecursionError:  # a depth the scan above did not see: refused the same
                raw.reject(line_no, None, None, "JSON nested too deeply to read")
                continue
            except (UnicodeDecodeError, ValueError) as exc:
                reason = (
                    "not valid UTF-8"
                    if isinstance(exc, UnicodeDecodeError)
                    else (f"not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})")
                )
                raw.reject(line_no, None, line[:200].decode("utf-8", "replace"), reason)
                continue
            if not isinstance(obj, dict):
                raw.reject(line_no, None, None, "expected a JSON object on the line")
                continue
            row: dict[str, str | None] = {}
            bad = None
            for key, value in obj.items():
                if isinstance(value, (dict, list)):
                    bad = (key, "expected a single value, found a nested object or list")
                    break
                row[key] = _json_scalar(value)
            if bad:
                raw.reject(line_no, bad[0], None, bad[1])
                continue
            n = len(lines)
            for key, value in row.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                    seen.append(key)
                elif len(col) < n:
                    col.extend([None] * (n - len(col)))
                col.append(value)
            lines.append(line_no)
            if len(lines) >= BATCH_ROWS:
                raw.columns = list(seen)
                yield flush()
                columns = {k: [] for k in columns}
                lines = []
    raw.columns = list(seen)
    if lines:
        yield flush()


def _json_depth(line: bytes) -> int:
    """How deeply the line's JSON nests (brackets inside strings do not count). Cheap for
    ordinary lines: only a line with more brackets than the limit is scanned."""
    if line.count(b"[") + line.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for byte in line:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _json_scalar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- Parquet --------------------------------------------------------------------------------


def _parquet_batches(
    raw: RawFile, path: Path, columns: list[str] | None = None
) -> Iterator[pa.Table]:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(f"not a readable Parquet file ({exc})", path=raw.name) from exc
    raw.columns = list(pf.schema_arrow.names)
    wanted = [c for c in raw.columns if c in columns] if columns is not None else None
    first = 1
    try:
        # whole row groups, about BATCH_ROWS rows at a time, decoded by pyarrow's threads
        # (``iter_batches`` decodes one batch at a time: four times slower); a row group
        # larger than that is read in batches. A file without any wanted column is read
        # whole (its rows still count, and are rejected by validation).
        for table in _parquet_chunks(pf, wanted or None):
            yield _with_lines(table, first)
            first += table.num_rows
    except Exception as exc:
        raise InputError(
            f"Parquet file is damaged after row {first - 1} ({exc})", path=raw.name
        ) from exc


def direct_parquet_types(raw: RawFile, columns: list[str]) -> dict[str, pa.DataType] | None:
    """The types of the wanted ``columns`` a Parquet file holds, when DuckDB can read the
    file straight into validation as pyarrow would read it: rows, at least one wanted
    column, no name twice, and every wanted column plain text, a number, a date, a time
    stamp, a boolean or empty (a dictionary of text counts as text). None otherwise, or
    when the footer cannot be read: then the file is read by :func:`iter_batches`, which
    also says what is wrong with it. Sets ``raw.columns``."""
    if raw.work_path is None or raw.format != "parquet":
        return None
    try:
        pf = pq.ParquetFile(raw.work_path)
        schema, rows = pf.schema_arrow, pf.metadata.num_rows
    except Exception:  # the careful reading says what is wrong
        return None
    raw.columns = list(schema.names)
    if rows == 0 or len(set(schema.names)) != len(schema.names):
        return None
    types = {}
    for f in schema:
        if f.name not in columns:
            continue
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if not _plain_type(t):
            return None
        types[f.name] = t
    return types or None


def _plain_type(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or (pa.types.is_floating(t) and t != pa.float16())
        or pa.types.is_decimal128(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    )


def utf8_or_binary(table: pa.Table) -> pa.Table:
    """Parquet text columns are not checked for UTF-8 when read: a column holding invalid
    UTF-8 is passed on as bytes, and validation rejects the cells that hold it (as for
    CSV). A chunk whose bytes are all ASCII is valid UTF-8 as it is (eight bytes at a
    time: about a tenth of pyarrow's full validation, which the others still get)."""
    for i, f in enumerate(table.schema):
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        try:
            for chunk in table.column(i).chunks:
                if not _all_ascii(chunk):
                    chunk.validate(full=True)
        except pa.ArrowInvalid:
            binary = pa.large_binary() if pa.types.is_large_string(f.type) else pa.binary()
            table = table.set_column(i, f.name, table.column(i).cast(binary))
    return table


_HIGH_BITS = np.uint64(0x8080808080808080)


def text_buffers(chunk: pa.Array) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.uint8]]:
    """A non-empty ``string``/``large_string`` array's value offsets (``len + 1`` of them,
    a slice's own) and the data bytes they point into, as numpy views of its buffers."""
    _, offsets_buf, data_buf = chunk.buffers()[:3]
    width: type[np.integer] = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: npt.NDArray[np.integer] = np.frombuffer(
        offsets_buf, dtype=width, count=chunk.offset + len(chunk) + 1
    )
    if data_buf is None:
        return offsets[chunk.offset :], np.empty(0, np.uint8)
    return offsets[chunk.offset :], np.frombuffer(data_buf, dtype=np.uint8)


def _all_ascii(chunk: pa.Array) -> bool:
    """Whether the bytes of a ``string``/``large_string`` array's values are all below
    0x80 (the bytes between its first and last offset: a slice's own)."""
    if len(chunk) == 0:
        return True
    offsets, buffer = text_buffers(chunk)
    return ascii_bytes(buffer[int(offsets[0]) : int(offsets[-1])])


def ascii_bytes(data: npt.NDArray[np.uint8]) -> bool:
    """Whether every byte is below 0x80 (tested eight at a time)."""
    whole = len(data) - len(data) % 8
    if (data[:whole].view(np.uint64) & _HIGH_BITS).any():
        return False
    return not bool((data[whole:] >= 0x80).any())


def _parquet_chunks(pf: pq.ParquetFile, columns: list[str] | None) -> Iterator[pa.Table]:
    meta = pf.metadata
    group: list[int] = []
    rows = 0
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if group and rows + n > BATCH_ROWS:
            yield pf.read_row_groups(group, columns=columns, use_threads=True)
            group, rows = [], 0
        if n > BATCH_ROWS:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[i], columns=columns):
                yield pa.Table.from_batches([batch])
            continue
        group.append(i)
        rows += n
    if group:
        yield pf.read_row_groups(group, columns=columns, use_threads=True)
