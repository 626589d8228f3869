"""Arrow columns in the ledger's input format, built without Python loops.

The generator makes ~100 million rows for a million people; building strings one by one
would dominate the run. Identifiers are fixed-width ASCII built as a byte matrix
(``digits``), enumerations are taken from a tiny dictionary, and a row's unused columns
are typed nulls.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from openscore.domain.events import EVENT_SCHEMA

#: The schema of event files: the ledger's event columns except ``furnisher_id``,
#: which the ingest run supplies.
EVENT_FILE_SCHEMA: pa.Schema = pa.schema([f for f in EVENT_SCHEMA if f.name != "furnisher_id"])

US_PER_DAY = 86_400_000_000
EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


#: The four ASCII digits of 0..9999, one row each: digits are looked up four at a time.
_FOUR_DIGITS = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as a (n, width) uint8 matrix."""
    x = np.asarray(numbers, dtype=np.int64)
    groups = []
    for _ in range(-(-width // 4)):
        x, low = np.divmod(x, 10_000)
        groups.append(_FOUR_DIGITS[low])
    out = np.hstack(groups[::-1]) if len(groups) > 1 else groups[0]
    return np.ascontiguousarray(out[:, out.shape[1] - width :])


def text_matrix(parts: list[np.ndarray | bytes], n: int) -> np.ndarray:
    """Concatenate fixed-width pieces (constant ``bytes`` or (n, w) matrices) side by side."""
    blocks = []
    for part in parts:
        if isinstance(part, bytes):
            blocks.append(np.broadcast_to(np.frombuffer(part, dtype=np.uint8), (n, len(part))))
        else:
            blocks.append(part)
    return np.hstack(blocks) if blocks else np.empty((n, 0), np.uint8)


def fixed_strings(matrix: np.ndarray) -> pa.StringArray:
    """A string array whose i-th value is row i of an ASCII byte matrix."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(matrix))


def enum(codes: np.ndarray, choices: tuple[str, ...], valid: np.ndarray | None = None) -> pa.Array:
    """Strings ``choices[codes]`` (null where ``valid`` is false)."""
    dictionary = pa.array(choices, pa.string())
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=_mask(valid))
    return dictionary.take(indices)


# Constant and all-null columns are slices of arrays kept per process: building them
# anew for every table cost more than all the random draws.
_CONSTANTS: dict[str, pa.Array] = {}
_NULLS: dict[pa.DataType, pa.Array] = {}


def constant(value: str, n: int) -> pa.Array:
    """``n`` copies of ``value`` (a zero-copy slice of a cached array)."""
    cached = _CONSTANTS.get(value)
    if cached is None or len(cached) < n:
        size = max(n, 2 * len(cached) if cached is not None else 1 << 16)
        raw = value.encode()
        data = np.frombuffer(raw * size, dtype=np.uint8)
        offsets = np.arange(0, (size + 1) * len(raw), len(raw), dtype=np.int32)
        cached = pa.StringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(data))
        _CONSTANTS[value] = cached
    return cached.slice(0, n)


def nulls(n: int, type_: pa.DataType) -> pa.Array:
    """``n`` nulls of ``type_`` (a zero-copy slice of a cached array)."""
    cached = _NULLS.get(type_)
    if cached is None or len(cached) < n:
        size = max(n, 2 * len(cached) if cached is not None else 1 << 16)
        cached = pa.nulls(size, type_)
        _NULLS[type_] = cached
    return cached.slice(0, n)


def _mask(valid: np.ndarray | None) -> np.ndarray | None:
    return None if valid is None else ~np.asarray(valid, dtype=bool)


def timestamps(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(us, np.int64), pa.timestamp("us", tz="UTC"), mask=_mask(valid))


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, np.int32), pa.date32(), mask=_mask(valid))


def amounts(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Money rounded to cents, never negative."""
    return pa.array(np.round(np.maximum(values, 0.0), 2), pa.float64(), mask=_mask(valid))


def bools(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_(), mask=_mask(valid))


def event_table(n: int, columns: dict[str, pa.Array]) -> pa.Table:
    """A table of ``EVENT_FILE_SCHEMA`` with ``columns`` and nulls everywhere else."""
    unknown = set(columns) - set(EVENT_FILE_SCHEMA.names)
    if unknown:
        raise KeyError(f"not event columns: {sorted(unknown)}")
    arrays = []
    for f in EVENT_FILE_SCHEMA:
        arr = columns.get(f.name)
        if arr is None:
            arr = nulls(n, f.type)
        elif len(arr) != n:
            raise ValueError(f"column {f.name}: {len(arr)} values for {n} rows")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=EVENT_FILE_SCHEMA)
