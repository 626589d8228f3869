"""A scorecard applied to Arrow record batches with numpy: the batch scoring kernel.

The batch job computes everyone's features once (one DuckDB query streamed as Arrow
batches, or a Spark DataFrame through ``mapInArrow``) and scores each batch here, with
the same rules as the one-person scorer (``scoring/person.py``, ``scoring/reasons.py``)
and the compiled Ibis expression (``scoring/compile.py``, still the standalone SQL
export): the property tests in ``tests/scoring/test_kernel.py`` hold all three to the
same answers on random scorecards and rows.

Everything a term needs is a small table built once, when the kernel is made, and a
batch is one call of a compiled loop (``scoring/fused.py``, numba, ``nogil``) that reads
each row's values once (``docs/scale.md`` has the profiles that chose this layout):

- a numeric feature is located once among the sorted **union** of the edges of every
  binning that uses it (an EBM bins a feature for its main term and again for each of
  its pairs), by the grid of ``scoring/locate.py`` (a cell from two floating-point
  operations, then a branch-free binary search in the cell); null and NaN get the last
  code. Each binning's bin (``bisect_right`` of the one-person scorer) is then a small
  map of that code, composed into the term's tables;
- a categorical feature is dictionary-encoded, its few distinct values are looked up in
  Python (``category_string``, exactly as one person's), and the bin of every row is a
  take of that small mapping;
- per term, four tables over its cells: points, present (1 where the cell is not
  missing), the reason key ``(loss << b | (T − 1 − position)) << 1 | missing`` (−1 where
  it loses nothing) and the help key ``points << b | (T − 1 − position)`` (−1 where it
  earns nothing or is missing), ``b`` bits holding a position. A key is unique in a row
  and orders by loss (points), then position: the reasons' tie-break. A pair's cell is
  ``row · width + column``;
- the top four reason keys (top three help keys) of every row are kept by an insertion
  network fed one term at a time (a ``maximum`` and a ``minimum`` per place, in vector
  instructions over a chunk of rows), decoded by shifts and masks;
- texts are a take of small string arrays by the decoded term, or dictionary arrays of
  those indices (``dictionary=True``: no string is copied per row).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from openscore.domain import BANDS
from openscore.errors import InputError
from openscore.model.format import (
    CategoricalBinning,
    NumericBinning,
    Scorecard,
    category_string,
)
from openscore.scoring.eligibility import SCORED, UNSCORABLE, ScoringRule
from openscore.scoring.locate import EdgeLocator
from openscore.scoring.person import refuse_audit_only
from openscore.scoring.reasons import (
    MAX_HELPS,
    MAX_REASONS,
    NEUTRAL_SUBSCORE,
    help_text,
    missing_texts,
)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]

_BAND_LOWS = np.array([b.low for b in BANDS[1:]], dtype=np.int64)
_BAND_NAMES = pa.array([b.name for b in BANDS], pa.string())
_STATUS = pa.array([SCORED, UNSCORABLE], pa.string())


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    col = batch.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _column_of(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)


def _float_values(arr: pa.Array, name: str) -> F64:
    """A numeric input as float64 with NaN where missing (null or NaN)."""
    typ = arr.type
    if pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_decimal(typ):
        arr = pc.cast(arr, pa.float64(), safe=False)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        try:
            arr = pc.cast(arr, pa.float64())
        except pa.ArrowInvalid as exc:
            raise InputError(f"a value of {name} is not a number", field=name) from exc
    elif not pa.types.is_floating(typ):
        raise InputError(f"{name} has type {typ}, not a number", field=name)
    elif not pa.types.is_float64(typ):
        arr = pc.cast(arr, pa.float64())
    out: F64 = arr.to_numpy(zero_copy_only=False)
    return out


def _known(arr: pa.Array) -> B:
    """Not null, and not NaN for a floating column (the rule's 'on file')."""
    valid: B = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    if pa.types.is_floating(arr.type):
        valid &= ~np.isnan(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64))
    return valid


@dataclass(frozen=True, slots=True)
class _NumericCodes:
    """A numeric feature's code: its interval among the union ``edges`` of every binning
    of it (``0 .. len(edges)``), ``len(edges) + 1`` where null or NaN."""

    edges: F64
    locator: EdgeLocator

    @classmethod
    def of(cls, edges: F64) -> _NumericCodes:
        return cls(edges, EdgeLocator(edges))

    @property
    def missing(self) -> int:
        return len(self.edges) + 1

    def bin_map(self, b: NumericBinning) -> I64:
        """``bisect_right(b.edges, x)`` of every code (the edges of ``b`` are in the union)."""
        own = np.asarray(b.edges, dtype=np.float64)
        left = np.concatenate([[-np.inf], self.edges])  # a value of code c is >= left[c]
        out = np.searchsorted(own, left, side="right").astype(np.int64)
        out[0] = 0
        return np.append(out, b.missing_index)


def _categorical_bins(arr: pa.Array, b: CategoricalBinning) -> I64:
    """Group of every row: the distinct values are mapped in Python, rows by a take."""
    if isinstance(arr, pa.DictionaryArray):
        enc = arr
    else:
        enc = pc.dictionary_encode(arr)
    values = enc.dictionary.to_pylist()
    mapping = np.array(
        [
            b.missing_index
            if v is None or (isinstance(v, float) and v != v)
            else b._lookup.get(category_string(v), b.other_index)
            for v in values
        ]
        + [b.missing_index],
        dtype=np.int64,
    )
    codes = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    out: I64 = mapping[np.asarray(codes, dtype=np.int64)]
    return out


def _cat(parts: Sequence[npt.ArrayLike], dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    """The parts one after the other (an empty array of ``dtype`` for none)."""
    arrays = [np.asarray(p, dtype=dtype).ravel() for p in parts]
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)


def _offsets(parts: Sequence[npt.NDArray[np.generic]]) -> I64:
    """Where each part starts in their concatenation."""
    sizes = [len(p) for p in parts]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else _NONE


_NONE = np.empty(0, dtype=np.int64)


def _int_type(card: Scorecard, numeric: Iterable[_NumericCodes]) -> type[np.signedinteger]:
    """int32 when every code, cell, key and sum of the loop fits (else int64)."""
    T = max(len(card.terms), 1)
    pos_bits = max(1, (T - 1).bit_length())
    top = max([abs(v) for t in card.terms for _, v in t.cells()] + [0])
    cells = sum(len(t.cells()) for t in card.terms) + sum(len(f.edges) + 2 for f in numeric)
    largest = max(
        ((2 * top) << (pos_bits + 1)) + (1 << (pos_bits + 1)),  # a reason key (loss <= 2·top)
        T * top,  # a dimension's sum
        cells,  # a code or a cell
        1 << 15,  # the grid's start tables hold a code per cell
    )
    return np.int32 if largest < 2**31 - 1 else np.int64


@dataclass(frozen=True, slots=True)
class _Grids:
    """Every numeric feature's grid over its edges, as the flat arrays ``fused`` reads."""

    lo: F64
    scale: F64
    cells: I64
    start_at: I64
    start: I64
    pad_at: I64
    padded: F64
    levels: I64
    missing: I64

    @classmethod
    def of(cls, features: Sequence[_NumericCodes], dtype: type[np.signedinteger]) -> _Grids:
        lo, scale, cells, starts, pads, levels = [], [], [], [], [], []
        for f in features:
            grid = f.locator.grid
            if grid is not None:
                lo.append(grid.lo)
                scale.append(grid.scale)
                cells.append(grid.cells)
                starts.append(np.asarray(grid.start, dtype=np.int64))
                pads.append(np.asarray(grid.padded, dtype=np.float64))
                levels.append(grid.levels)
            else:  # one cell: a branch-free binary search over every edge
                steps = len(f.edges).bit_length()
                lo.append(0.0)
                scale.append(0.0)
                cells.append(1)
                starts.append(np.array([0, f.missing], dtype=np.int64))
                pads.append(np.concatenate([f.edges, np.full(1 << steps, np.nan)]))
                levels.append(steps)
        return cls(
            np.asarray(lo, dtype=np.float64),
            np.asarray(scale, dtype=np.float64),
            np.asarray(cells, dtype=np.int64),
            _offsets(starts),
            cast(I64, _cat(starts, dtype)),
            _offsets(pads),
            cast(F64, _cat(pads, np.float64)),
            np.asarray(levels, dtype=np.int64),
            np.asarray([f.missing for f in features], dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class _Terms:
    """Every term's tables (see the module docstring), one after the other."""

    first: I64
    second: I64
    dim: I64
    at: I64
    row_at: I64
    column_at: I64
    points: I64
    present: I64
    reason_key: I64
    help_key: I64
    row_map: I64
    column_map: I64
    loses: B
    earns: B


@dataclass(frozen=True, slots=True)
class _Inputs:
    """A batch's feature values (``ScoringKernel._inputs``)."""

    numeric: dict[str, F64]
    categorical: dict[str, I64]
    #: numeric features whose code is missing exactly where the rule says 'not on file'
    by_code: list[str]


class ScoringKernel:
    """One scorecard, ready to score Arrow record batches (see the module docstring).

    ``score_batch`` returns exactly the columns of
    :func:`openscore.scoring.compile.score_table` (same names, order and types).
    """

    def __init__(
        self,
        card: Scorecard,
        id_column: str | None = None,
        *,
        as_of: str | None = None,
        texts: bool = True,
        rule: ScoringRule | None = None,
        dictionary: bool = False,
    ) -> None:
        refuse_audit_only(card)
        #: text columns as dictionary arrays (indices into the few codes and texts): no
        #: string is copied per row. A Parquet file written from them without the Arrow
        #: schema (``store_schema=False``) reads back as plain strings.
        self.dictionary = dictionary
        self.card = card
        self.id_column = id_column
        self.as_of = as_of
        self.texts = texts
        self.rule = rule or ScoringRule.from_settings()
        self.event_mode = self.rule.event_mode(card)
        terms = card.terms
        self.n_terms = len(terms)
        # every numeric feature's union of edges, over all the binnings that use it
        edges: dict[str, set[float]] = {}
        categorical: dict[str, None] = {}
        for t in terms:
            for f, b in zip(t.features, t.binnings, strict=True):
                if isinstance(b, NumericBinning):
                    edges.setdefault(f, set()).update(float(e) for e in b.edges)
                else:
                    categorical[f] = None
        self.numeric = {
            f: _NumericCodes.of(np.unique(np.asarray(sorted(e), dtype=np.float64)))
            for f, e in edges.items()
        }
        #: the loop's integer type: int32 where every code, cell, key and sum fits
        self.dtype = _int_type(card, self.numeric.values())
        self.grids = _Grids.of(list(self.numeric.values()), self.dtype)
        #: a feature's slot in a row's codes: the numeric ones, then the categorical
        self.slots = {f: k for k, f in enumerate([*self.numeric, *categorical])}
        self.dims = list(card.dimensions)
        #: bits of a key that hold the term's position (``T − 1 − term``: the tie-break)
        self.pos_bits = max(1, (len(terms) - 1).bit_length())
        self.terms = self._terms()
        self.dim_min = np.array([r.min_points for r in card.dimensions.values()], np.int64)
        self.dim_span = np.array(
            [r.max_points - r.min_points for r in card.dimensions.values()], np.int64
        )
        missing = [missing_texts(card, t) for t in terms]
        self.reason_names = pa.array([t.name for t in terms for _ in (0, 1)], pa.string())
        self.reason_texts = pa.array(
            [x for t, m in zip(terms, missing, strict=True) for x in (t.reason, m[0])],
            pa.string(),
        )
        self.reason_improves = pa.array(
            [x for t, m in zip(terms, missing, strict=True) for x in (t.improve, m[1])],
            pa.string(),
        )
        self.help_names = pa.array([t.name for t in terms], pa.string())
        self.help_texts = pa.array([help_text(card, t) for t in terms], pa.string())
        self.model_ids = pa.array([card.model_id], pa.string())
        self.as_ofs = pa.array([as_of], pa.string())
        ids = [id_column] if id_column else []
        self.inputs = list(dict.fromkeys([*ids, *card.feature_names, *self.rule.inputs(card)]))

    def _terms(self) -> _Terms:
        """Every term's tables over its cells, one after the other (the module docstring):
        a single feature's composed with its bin map, so they are read by its code."""
        terms = self.card.terms
        T, bits = len(terms), self.pos_bits
        first, second, dims, tables, rows, columns = [], [], [], [], [], []
        for k, t in enumerate(terms):
            pos = T - 1 - k  # the tie-break of its keys: the earlier term first
            cells = t.cells()
            pts = np.array([v for _, v in cells], dtype=np.int64)
            miss = np.array([t.is_missing(idx) for idx, _ in cells], dtype=np.bool_)
            loss = t.best - pts
            reason = np.where(loss > 0, (((loss << bits) | pos) << 1) | miss, -1)
            helps = np.where((pts > 0) & ~miss, (pts << bits) | pos, -1)
            table = np.stack([pts, (~miss).astype(np.int64), reason, helps]).astype(np.int64)
            maps = [self._bin_map(f, b) for f, b in zip(t.features, t.binnings, strict=True)]
            first.append(self.slots[t.features[0]])
            dims.append(self.dims.index(t.dimension))
            if t.is_pair:
                second.append(self.slots[t.features[1]])
                rows.append(maps[0] * t.binnings[1].size)
                columns.append(maps[1])
                tables.append(table)
            else:
                second.append(-1)
                rows.append(_NONE)
                columns.append(_NONE)
                tables.append(table[:, maps[0]])
        whole = np.concatenate(tables, axis=1) if tables else np.empty((4, 0), np.int64)
        dt = self.dtype
        return _Terms(
            np.asarray(first, dtype=np.int64),
            np.asarray(second, dtype=np.int64),
            np.asarray(dims, dtype=np.int64),
            _offsets([tab[0] for tab in tables]),
            _offsets(rows),
            _offsets(columns),
            np.ascontiguousarray(whole[0], dtype=dt),
            np.ascontiguousarray(whole[1], dtype=dt),
            np.ascontiguousarray(whole[2], dtype=dt),
            np.ascontiguousarray(whole[3], dtype=dt),
            cast(I64, _cat(rows, np.uint64)),
            cast(I64, _cat(columns, np.uint64)),
            np.array([bool((tab[2] >= 0).any()) for tab in tables], dtype=np.bool_),
            np.array([bool((tab[3] >= 0).any()) for tab in tables], dtype=np.bool_),
        )

    def _bin_map(self, feature: str, b: NumericBinning | CategoricalBinning) -> I64:
        if isinstance(b, NumericBinning):
            return self.numeric[feature].bin_map(b)
        return np.arange(b.size, dtype=np.int64)  # a categorical code is its bin

    # -- schema ---------------------------------------------------------------------------

    def schema(self, id_type: pa.DataType | None = None) -> pa.Schema:
        """The output schema (``id_type``: the id column's type, default string)."""
        text = pa.dictionary(pa.int32(), pa.string()) if self.dictionary else pa.string()
        fields: list[pa.Field] = []
        if self.id_column:
            fields.append(pa.field(self.id_column, id_type or pa.string()))
        fields += [
            pa.field("score", pa.int64()),
            pa.field("band", text),
            pa.field("status", text),
        ]
        fields += [pa.field(f"dim_{d}", pa.int64()) for d in self.card.dimensions]
        for k in range(1, MAX_REASONS + 1):
            fields.append(pa.field(f"reason_{k}", text))
            if self.texts:
                fields += [
                    pa.field(f"reason_{k}_text", text),
                    pa.field(f"reason_{k}_improve", text),
                    pa.field(f"reason_{k}_points", pa.int64()),
                    pa.field(f"reason_{k}_missing", pa.bool_()),
                ]
        if self.texts:
            for k in range(1, MAX_HELPS + 1):
                fields += [
                    pa.field(f"help_{k}", text),
                    pa.field(f"help_{k}_text", text),
                    pa.field(f"help_{k}_points", pa.int64()),
                ]
        fields.append(pa.field("model_id", text))
        if self.as_of is not None:
            fields.append(pa.field("as_of", text))
        return pa.schema(fields)

    def check(self, names: Iterable[str]) -> None:
        """The columns must hold every input (as ``compile.check_columns`` says it)."""
        have = set(names)
        wanted = [c for c in self.inputs if c != self.id_column]
        missing = [f for f in wanted if f not in have]
        if missing:
            raise InputError(f"the table lacks columns the model needs: {', '.join(missing)}")
        if self.id_column is not None and self.id_column not in have:
            raise InputError(
                f"id column {self.id_column!r} is not in the table", field=self.id_column
            )

    # -- scoring --------------------------------------------------------------------------

    def _inputs(self, batch: pa.RecordBatch) -> _Inputs:
        """Every feature's values: numeric as float64 (NaN where missing), categorical as
        its bin (the few distinct values are mapped once a batch)."""
        got = _Inputs({}, {}, [])
        for t in self.card.terms:
            for f, b in zip(t.features, t.binnings, strict=True):
                if f in got.numeric or f in got.categorical:
                    continue
                arr = _column(batch, f)
                if isinstance(b, NumericBinning):
                    got.numeric[f] = _float_values(arr, f)
                    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                        got.by_code.append(f)  # NaN exactly where null or NaN: 'on file'
                else:
                    got.categorical[f] = _categorical_bins(arr, b).astype(np.intp, copy=False)
        return got

    def scorable(self, batch: pa.RecordBatch) -> B:
        """The minimum scoring rule (``scoring/eligibility.py``) for every row."""
        rule = self.rule
        if not self.event_mode:
            out = np.zeros(batch.num_rows, dtype=np.bool_)
            for name in self.card.feature_names:
                out |= _known(_column(batch, name))
            return out
        act = _float_values(_column(batch, rule.activity_feature), rule.activity_feature)
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(act) & (act >= rule.min_activity)
        for name in rule.history_features:
            out |= _known(_column(batch, name))
        return out

    def _on_file(self, batch: pa.RecordBatch, inputs: _Inputs) -> tuple[B, list[str]]:
        """The rule's rows, but for the features left to ``_score_rows`` (returned): tabular
        mode's 'some feature on file' is read from their codes there, chunk by chunk."""
        if self.event_mode:
            return self.scorable(batch), []
        by_code = [f for f in inputs.by_code if f in self.card.feature_names]
        out = np.zeros(batch.num_rows, dtype=np.bool_)
        for name in self.card.feature_names:
            if name not in by_code:
                out |= _known(_column(batch, name))
        return out, by_code

    def score_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """Score every row of ``batch``: the columns of ``score_table``, in its order."""
        # imported here: numba and the compiled loop take seconds to load, which the API and
        # the CLI's other commands (which import this module, not score with it) never pay
        from openscore.scoring.fused import score_rows

        if isinstance(batch, pa.Table):
            batch = pa.RecordBatch.from_arrays(
                [_column_of(batch, c) for c in batch.schema.names], schema=batch.schema
            )
        self.check(batch.schema.names)
        n = batch.num_rows
        inputs = self._inputs(batch)
        on_file, by_code = self._on_file(batch, inputs)
        numeric = np.empty((len(self.numeric), n), dtype=np.float64)
        for f, x in inputs.numeric.items():
            numeric[self.slots[f]] = x
        categorical = np.empty((len(self.slots) - len(self.numeric), n), dtype=np.int64)
        for f, bins in inputs.categorical.items():
            categorical[self.slots[f] - len(self.numeric)] = bins
        coded = np.array([f in by_code for f in self.numeric], dtype=np.bool_)
        k_reasons = min(MAX_REASONS, self.n_terms)
        k_helps = min(MAX_HELPS, self.n_terms) if self.texts else 0
        score = np.empty(n, dtype=np.int64)
        band_idx = np.empty(n, dtype=np.int32)
        sub = np.empty((len(self.dims), n), dtype=np.int64)
        reason_at = np.empty((k_reasons, n), dtype=np.int32)
        reason_points = np.empty((k_reasons, n), dtype=np.int64)
        help_at = np.empty((k_helps, n), dtype=np.int32)
        help_points = np.empty((k_helps, n), dtype=np.int64)
        g, t, s = self.grids, self.terms, self.card.scaling
        score_rows(
            numeric,
            categorical,
            g.lo,
            g.scale,
            g.cells,
            g.start_at,
            g.start,
            g.pad_at,
            g.padded,
            g.levels,
            g.missing,
            coded,
            t.first,
            t.second,
            t.dim,
            t.at,
            t.row_at,
            t.column_at,
            t.points,
            t.present,
            t.reason_key,
            t.help_key,
            t.row_map,
            t.column_map,
            self.card.intercept_points,
            s.score_min,
            s.score_max,
            self.dim_min,
            self.dim_span,
            NEUTRAL_SUBSCORE,
            self.n_terms,
            self.pos_bits,
            t.loses,
            t.earns,
            _BAND_LOWS,
            on_file,
            score,
            band_idx,
            sub,
            reason_at,
            reason_points,
            help_at,
            help_points,
        )
        bad = ~on_file
        cols: list[pa.Array] = []
        if self.id_column:
            cols.append(_column(batch, self.id_column))
        scored = _Valid(bad)
        cols.append(scored.ints(score))
        cols.append(self._text(_BAND_NAMES, scored.index(band_idx)))
        everyone = _Valid(None)
        cols.append(self._text(_STATUS, everyone.index(bad.view(np.int8))))
        cols += [_Valid(sub[d] < 0).ints(sub[d]) for d in range(len(self.dims))]
        cols += self._reasons(reason_at, reason_points, help_at, help_points, n)
        zeros = everyone.index(np.zeros(n, dtype=np.int32))
        cols.append(self._text(self.model_ids, zeros))
        if self.as_of is not None:
            cols.append(self._text(self.as_ofs, zeros))
        id_type = batch.schema.field(self.id_column).type if self.id_column else None
        return pa.RecordBatch.from_arrays(cols, schema=self.schema(id_type))

    def _text(self, values: pa.Array, idx: pa.Array) -> pa.Array:
        """``values[idx]`` (``idx``: int32, null where absent): a take, or a dictionary
        array of ``idx`` (the indices are shared, not copied, by the columns of a reason)."""
        if self.dictionary:
            return pa.DictionaryArray.from_arrays(idx, values, safe=False)
        return values.take(idx)

    def _nulls(self, n: int) -> pa.Array:
        if self.dictionary:
            return pa.nulls(n, pa.dictionary(pa.int32(), pa.string()))
        return pa.nulls(n, pa.string())

    def _reasons(
        self, reason_at: I32, reason_points: I64, help_at: I32, help_points: I64, n: int
    ) -> list[pa.Array]:
        """The reason and help columns from the decoded top keys (points −1: absent)."""
        cols: list[pa.Array] = []
        for r in range(MAX_REASONS):
            if r >= len(reason_at):
                cols.append(self._nulls(n))
                if self.texts:
                    cols += [
                        self._nulls(n),
                        self._nulls(n),
                        pa.nulls(n, pa.int64()),
                        pa.nulls(n, pa.bool_()),
                    ]
                continue
            at = reason_at[r]
            valid = _Valid(reason_points[r] < 0)
            idx = valid.index(at)
            cols.append(self._text(self.reason_names, idx))
            if self.texts:
                cols.append(self._text(self.reason_texts, idx))
                cols.append(self._text(self.reason_improves, idx))
                cols.append(valid.ints(reason_points[r]))
                cols.append(valid.bools((at & 1).astype(np.bool_)))
        if not self.texts:
            return cols
        for r in range(MAX_HELPS):
            if r >= len(help_at):
                cols += [self._nulls(n), self._nulls(n), pa.nulls(n, pa.int64())]
                continue
            valid = _Valid(help_points[r] < 0)
            idx = valid.index(help_at[r])
            cols.append(self._text(self.help_names, idx))
            cols.append(self._text(self.help_texts, idx))
            cols.append(valid.ints(help_points[r]))
        return cols

    def score_batches(
        self, batches: Iterable[pa.RecordBatch], threads: int = 1
    ) -> Iterator[pa.RecordBatch]:
        """Score a stream of batches (for ``mapInArrow`` and the DuckDB stream), in order.

        ``threads > 1`` scores slices of each batch on that many threads (numpy and Arrow
        release the GIL in every whole-array step): at most ``threads`` slices are in
        flight, so memory stays bounded by the stream's batch size, and the next batch
        is read while they run. Spark gives each executor core its own Python worker:
        there, one thread."""
        if threads <= 1:
            for batch in batches:
                yield self.score_batch(batch)
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="openscore-kernel") as pool:
            pending: deque[Future[pa.RecordBatch]] = deque()
            for batch in batches:
                for part in _slices(batch, threads):
                    pending.append(pool.submit(self.score_batch, part))
                    while len(pending) > threads:
                        yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


#: a batch is cut for the threads only into slices at least this long (shorter, the
#: per-slice cost of the Arrow columns outweighs the second core)
MIN_SLICE_ROWS = 16_384


def _slices(batch: pa.RecordBatch, parts: int) -> list[pa.RecordBatch]:
    n = batch.num_rows
    parts = max(1, min(parts, n // MIN_SLICE_ROWS))
    step = -(-n // parts) if n else 0
    return [batch.slice(i, step) for i in range(0, n, step)] if n else [batch]


class _Valid:
    """One validity bitmap (null where ``absent``), shared by every column built on it:
    the columns are made from numpy buffers without copying or re-packing the mask."""

    def __init__(self, absent: B | None) -> None:
        self.nulls = 0 if absent is None else int(np.count_nonzero(absent))
        self.bitmap = (
            pa.py_buffer(np.packbits(~absent, bitorder="little"))
            if absent is not None and self.nulls
            else None
        )

    def _array(self, typ: pa.DataType, n: int, data: pa.Buffer) -> pa.Array:
        return pa.Array.from_buffers(typ, n, [self.bitmap, data], null_count=self.nulls)

    def ints(self, values: npt.NDArray[np.integer]) -> pa.Array:
        v = np.ascontiguousarray(values, dtype=np.int64)
        return self._array(pa.int64(), len(v), pa.py_buffer(v))

    def index(self, values: npt.NDArray[np.integer]) -> pa.Array:
        v = np.ascontiguousarray(values, dtype=np.int32)
        return self._array(pa.int32(), len(v), pa.py_buffer(v))

    def bools(self, values: B) -> pa.Array:
        bits = np.packbits(values, bitorder="little")
        return self._array(pa.bool_(), len(values), pa.py_buffer(bits))


def score_arrow(
    card: Scorecard,
    table: pa.Table | pa.RecordBatch,
    id_column: str | None = None,
    *,
    as_of: str | None = None,
    texts: bool = True,
    rule: ScoringRule | None = None,
) -> pa.Table:
    """Score an Arrow table in memory (every batch; an empty table gives no rows)."""
    kernel = ScoringKernel(card, id_column, as_of=as_of, texts=texts, rule=rule)
    batches: Sequence[pa.RecordBatch] = (
        [table] if isinstance(table, pa.RecordBatch) else table.to_batches()
    )
    kernel.check(table.schema.names)
    id_type = table.schema.field(id_column).type if id_column else None
    return pa.Table.from_batches(
        [kernel.score_batch(b) for b in batches], schema=kernel.schema(id_type)
    )
