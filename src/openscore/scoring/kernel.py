"""A scorecard applied to Arrow record batches with numpy: the batch scoring kernel.

The batch job computes everyone's features once (one DuckDB query streamed as Arrow
batches, or a Spark DataFrame through ``mapInArrow``) and scores each batch here, with
the same rules as the one-person scorer (``scoring/person.py``, ``scoring/reasons.py``)
and the compiled Ibis expression (``scoring/compile.py``, still the standalone SQL
export): the property tests in ``tests/scoring/test_kernel.py`` hold all three to the
same answers on random scorecards and rows.

Everything a term needs is a small table built once, when the kernel is made, so a batch
costs a few whole-array operations per feature and a few takes per term
(``docs/scale.md`` has the profiles that chose this layout). A batch is scored
``ROWS_AT_ONCE`` rows at a time, so the arrays of every step stay in the core's cache:

- a numeric feature is located once among the sorted **union** of the edges of every
  binning that uses it (an EBM bins a feature for its main term and again for each of
  its pairs), branch-free (``scoring/locate.py``: with few edges by counting the edges
  ``<= x``, with many by a uniform grid over the edges and a short binary search in the
  cell); null and NaN get the last code. Each binning's bin (``bisect_right`` of the
  one-person scorer) is then a take of a small map of that code;
- a categorical feature is dictionary-encoded, its few distinct values are looked up in
  Python (``category_string``, exactly as one person's), and the bin of every row is a
  take of that small mapping;
- per term, three tables over its cells, composed with the map above: points (times
  ``2^bits``, plus 1 where the cell is not missing), the reason key
  ``2·(loss·T + (T − 1 − position)) + missing`` (−1 where it loses nothing) and the help
  key ``points·T + (T − 1 − position)`` (−1 where it earns nothing or is missing). A key
  is unique in a row and orders by loss (points), then position: the reasons'
  tie-break; the missing flag rides along in its lowest bit. A pair's cell is
  ``row · width + column``;
- score and the sub-scores are running sums of the points rows (integers): a
  dimension's sum holds its points above ``bits`` and the count of its terms on file
  below; band by ``searchsorted`` on the band boundaries;
- the top four reason keys (top three help keys) of every row are kept by an insertion
  network fed one term at a time: a ``maximum`` and a ``minimum`` per place, so nothing
  is sorted and no ``rows × terms`` key matrix is built; a key decodes to the term, its
  points and the missing flag by a shift and ``divmod``;
- texts are a take of small string arrays by the decoded term, or dictionary arrays of
  those indices (``dictionary=True``: no string is copied per row).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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
    Term,
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

    def codes(self, x: F64) -> npt.NDArray[np.intp]:
        return self.locator.codes(x)

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


@dataclass(frozen=True, slots=True, eq=False)
class _TermTables:
    """One term's tables over the codes of its feature(s) (see the module docstring)."""

    features: tuple[str, ...]
    dimension: str
    #: ``points · 2^bits + present`` (present: 1 where the cell is not missing), so the
    #: running sum of a dimension also counts its terms on file in its low ``bits``
    points: npt.NDArray[np.signedinteger]
    #: ``2 · (loss·T + pos) + missing``, −1 where it loses nothing
    reason_key: npt.NDArray[np.signedinteger]
    help_key: npt.NDArray[np.signedinteger]
    #: a pair's: every code of the first feature times the width, and the second's bin
    row: I64 | None = None
    column: I64 | None = None
    #: some cell has a reason key (a help key): else the term feeds only −1 to its network
    loses: bool = field(init=False)
    earns: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loses", bool((self.reason_key >= 0).any()))
        object.__setattr__(self, "earns", bool((self.help_key >= 0).any()))


def _count_bits(card: Scorecard) -> int:
    """Bits that hold a count of terms on file (at most every term)."""
    return len(card.terms).bit_length()


def _key_type(card: Scorecard) -> type[np.signedinteger]:
    """int32 when every key and sum fits (half the memory traffic of int64)."""
    T = max(len(card.terms), 1)
    top = max([abs(v) for t in card.terms for _, v in t.cells()] + [0])
    reason = 2 * (2 * top * T + T) + 1  # loss <= 2·top
    sums = T * ((top << _count_bits(card)) + 1)
    fits = max(reason, sums) < 2**31 - 1
    return np.int32 if fits else np.int64


@dataclass(frozen=True, slots=True)
class _Inputs:
    """A batch's feature values (``ScoringKernel._inputs``)."""

    numeric: dict[str, F64]
    categorical: dict[str, npt.NDArray[np.intp]]
    #: numeric features whose code is missing exactly where the rule says 'not on file'
    by_code: list[str]


@dataclass(frozen=True, slots=True)
class _Keys:
    """Rows' running sums per dimension and top keys, largest first (``_score_rows``)."""

    sums: dict[str, npt.NDArray[np.signedinteger]]
    reasons: list[npt.NDArray[np.signedinteger]]
    helps: list[npt.NDArray[np.signedinteger]]

    @classmethod
    def join(cls, parts: list[_Keys]) -> _Keys:
        """The keys of consecutive rows, one after the other."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            {d: np.concatenate([p.sums[d] for p in parts]) for d in parts[0].sums},
            [np.concatenate(t) for t in zip(*(p.reasons for p in parts), strict=True)],
            [np.concatenate(t) for t in zip(*(p.helps for p in parts), strict=True)],
        )


#: rows scored at once inside a batch: the arrays of a step stay in the core's 1 MB cache
#: (a batch of 122,880 rows has 1 MB arrays of codes), yet long enough that numpy's
#: per-call cost is small (measured on the benchmark's EBM: 8,192 rows 0.48 M rows/s,
#: 16,384 0.69, 32,768 0.88, 65,536 0.87, a whole batch 0.64; load average 12)
ROWS_AT_ONCE = 32_768


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
        self.n_terms = T = len(terms)
        self.dtype = _key_type(card)
        self.count_bits = _count_bits(card)
        # every numeric feature's union of edges, over all the binnings that use it
        edges: dict[str, set[float]] = {}
        for t in terms:
            for f, b in zip(t.features, t.binnings, strict=True):
                if isinstance(b, NumericBinning):
                    edges.setdefault(f, set()).update(float(e) for e in b.edges)
        self.numeric = {
            f: _NumericCodes.of(np.unique(np.asarray(sorted(e), dtype=np.float64)))
            for f, e in edges.items()
        }
        self.tables = [self._tables(T - 1 - k, t) for k, t in enumerate(terms)]
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

    def _tables(self, pos: int, t: Term) -> _TermTables:
        """The term's tables; ``pos`` is ``T − 1 − position``, the tie-break of its keys."""
        T, dt = self.n_terms, self.dtype
        cells = t.cells()
        pts = np.array([v for _, v in cells], dtype=np.int64)
        miss = np.array([t.is_missing(idx) for idx, _ in cells], dtype=np.bool_)
        loss = t.best - pts
        reason = np.where(loss > 0, 2 * (loss * T + pos) + miss, -1).astype(dt)
        helps = np.where((pts > 0) & ~miss, pts * T + pos, -1).astype(dt)
        counted = ((pts << self.count_bits) + ~miss).astype(dt)
        maps = [self._bin_map(f, b) for f, b in zip(t.features, t.binnings, strict=True)]
        if t.is_pair:
            width = t.binnings[1].size
            return _TermTables(
                t.features, t.dimension, counted, reason, helps, maps[0] * width, maps[1]
            )
        # a single feature's tables read by its code directly: composed with its bin map
        m = maps[0]
        return _TermTables(t.features, t.dimension, counted[m], reason[m], helps[m])

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

    def _score_rows(
        self, inputs: _Inputs, lo: int, hi: int, on_file: B, by_code: list[str]
    ) -> _Keys:
        """Rows ``lo:hi``: every dimension's running sum and the top reason and help keys
        (and ``on_file`` of those rows completed from the codes of ``by_code``)."""
        n, dt = hi - lo, self.dtype
        codes = {f: self.numeric[f].codes(x[lo:hi]) for f, x in inputs.numeric.items()}
        codes.update((f, bins[lo:hi]) for f, bins in inputs.categorical.items())
        for f in by_code:
            on_file[lo:hi] |= codes[f] != self.numeric[f].missing
        sums: dict[str, npt.NDArray[np.signedinteger]] = {}
        reasons = _TopKeys(MAX_REASONS, n, dt)
        helps = _TopKeys(MAX_HELPS if self.texts else 0, n, dt)
        for tab in self.tables:
            if tab.row is None:
                cell = codes[tab.features[0]]
            else:  # a pair: its ``row`` and ``column`` are set together
                cell = tab.row.take(codes[tab.features[0]])
                cell += cast(I64, tab.column).take(codes[tab.features[1]])
            p = tab.points.take(cell)
            if tab.dimension in sums:
                sums[tab.dimension] += p
            else:
                sums[tab.dimension] = p
            # a term that never loses (earns) feeds only −1: it would change no place
            if tab.loses:
                reasons.add(tab.reason_key.take(cell))
            if helps.k and tab.earns:
                helps.add(tab.help_key.take(cell))
        return _Keys(sums, reasons.tops, helps.tops)

    def score_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """Score every row of ``batch``: the columns of ``score_table``, in its order."""
        if isinstance(batch, pa.Table):
            batch = pa.RecordBatch.from_arrays(
                [_column_of(batch, c) for c in batch.schema.names], schema=batch.schema
            )
        self.check(batch.schema.names)
        n = batch.num_rows
        inputs = self._inputs(batch)
        on_file, by_code = self._on_file(batch, inputs)
        keys = _Keys.join(
            [
                self._score_rows(inputs, lo, min(lo + ROWS_AT_ONCE, n), on_file, by_code)
                for lo in range(0, max(n, 1), ROWS_AT_ONCE)
            ]
        )
        bad = ~on_file
        bits = self.count_bits
        s = self.card.scaling
        raw = np.full(n, self.card.intercept_points, dtype=np.int64)
        points: dict[str, npt.NDArray[np.signedinteger]] = {}
        known: dict[str, B] = {}  # per dimension: some term of it is not missing
        for dim, v in keys.sums.items():
            points[dim] = v >> bits
            known[dim] = (v & ((1 << bits) - 1)) != 0
            raw += points[dim]
        score = np.clip(raw, s.score_min, s.score_max)
        band_idx = np.searchsorted(_BAND_LOWS, score, side="right")
        cols: list[pa.Array] = []
        if self.id_column:
            cols.append(_column(batch, self.id_column))
        scored = _Valid(bad)
        cols.append(scored.ints(score))
        cols.append(self._text(_BAND_NAMES, scored.index(band_idx)))
        everyone = _Valid(None)
        cols.append(self._text(_STATUS, everyone.index(bad.view(np.int8))))
        for dim, rng in self.card.dimensions.items():
            if dim not in points:
                cols.append(pa.nulls(n, pa.int64()))
                continue
            span = rng.max_points - rng.min_points
            if span <= 0:
                value = np.full(n, NEUTRAL_SUBSCORE, dtype=np.int64)
            else:
                pts = points[dim].astype(np.int64)
                value = (200 * (pts - rng.min_points) + span) // (2 * span)
            cols.append(_Valid(bad | ~known[dim]).ints(value))
        cols += self._reasons(keys.reasons, keys.helps, bad)
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
        self,
        tops: list[npt.NDArray[np.signedinteger]],
        htops: list[npt.NDArray[np.signedinteger]],
        bad: B,
    ) -> list[pa.Array]:
        n, T = len(bad), self.n_terms
        cols: list[pa.Array] = []
        for r in range(MAX_REASONS):
            if r >= T:
                cols.append(self._nulls(n))
                if self.texts:
                    cols += [
                        self._nulls(n),
                        self._nulls(n),
                        pa.nulls(n, pa.int64()),
                        pa.nulls(n, pa.bool_()),
                    ]
                continue
            absent = bad | (tops[r] < 0)
            miss = (tops[r] & 1).astype(np.bool_)
            key = tops[r] >> 1
            loss = key // T
            term = (T - 1) - (key - loss * T)
            np.copyto(term, 0, where=absent)
            at = 2 * term + miss
            valid = _Valid(absent)
            idx = valid.index(at)
            cols.append(self._text(self.reason_names, idx))
            if self.texts:
                cols.append(self._text(self.reason_texts, idx))
                cols.append(self._text(self.reason_improves, idx))
                cols.append(valid.ints(loss))
                cols.append(valid.bools(miss))
        if not self.texts:
            return cols
        for r in range(MAX_HELPS):
            if r >= T:
                cols += [self._nulls(n), self._nulls(n), pa.nulls(n, pa.int64())]
                continue
            key = htops[r]
            absent = bad | (key < 0)
            points = key // T
            term = (T - 1) - (key - points * T)
            np.copyto(term, 0, where=absent)
            valid = _Valid(absent)
            idx = valid.index(term)
            cols.append(self._text(self.help_names, idx))
            cols.append(self._text(self.help_texts, idx))
            cols.append(valid.ints(points))
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
#: per-call overhead of each numpy step outweighs the second core)
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


class _TopKeys:
    """The ``k`` largest keys of every row, largest first, fed one term's keys at a time
    (keys unique in a row but for −1, "nothing"): an insertion network, a ``maximum``
    and a ``minimum`` per place, so no row is ever sorted."""

    def __init__(self, k: int, n: int, dtype: type[np.signedinteger]) -> None:
        self.k = k
        self.tops = [np.full(n, -1, dtype=dtype) for _ in range(k)]
        self.spare = np.empty(n, dtype=dtype)
        self.fed = 0

    def add(self, v: npt.NDArray[np.signedinteger]) -> None:
        """Insert one term's keys (``v`` is used as scratch)."""
        self.fed += 1
        last = min(self.fed, self.k) - 1  # places below the terms fed so far hold −1
        for r in range(last):
            top = self.tops[r]
            np.maximum(top, v, out=self.spare)
            np.minimum(top, v, out=v)
            self.tops[r], self.spare = self.spare, top
        np.maximum(self.tops[last], v, out=self.tops[last])


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
