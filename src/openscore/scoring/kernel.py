"""A scorecard applied to Arrow record batches with numpy: the batch scoring kernel.

The batch job computes everyone's features once (one DuckDB query streamed as Arrow
batches, or a Spark DataFrame through ``mapInArrow``) and scores each batch here, with
the same rules as the one-person scorer (``scoring/person.py``, ``scoring/reasons.py``)
and the compiled Ibis expression (``scoring/compile.py``, still the standalone SQL
export): the property tests in ``tests/scoring/test_kernel.py`` hold all three to the
same answers on random scorecards and rows.

Per batch, every step is a whole-array operation:

- a numeric feature's bin is ``np.searchsorted(edges, x, side="right")`` (``bisect_right``
  of the one-person scorer); null and NaN are the missing bin;
- a categorical feature is dictionary-encoded, its few distinct values are looked up in
  Python (``category_string``, exactly as one person's), and the bin of every row is a
  take of that small mapping;
- a term's points are a take of its points table (a pair's: of the flattened grid at
  ``row * width + column``), giving an ``n × terms`` matrix ``P``;
- score = intercept + row sums of ``P``, clipped to the score range; band by
  ``searchsorted`` on the band boundaries; each sub-score from the sum over its
  dimension's columns, in integers;
- reasons: each term's key ``loss·T + (T − 1 − position)`` is unique in a row and
  orders by loss, then position (the reasons' tie-break); the top four keys are four
  passes of a row-wise ``argmax`` (each taking the largest out), so no row is sorted;
  codes and texts are a take of small string arrays by the decoded term.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

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


def _numeric_bins(x: F64, b: NumericBinning) -> I64:
    idx: I64 = np.searchsorted(np.asarray(b.edges, dtype=np.float64), x, side="right").astype(
        np.int64
    )
    idx[np.isnan(x)] = b.missing_index
    return idx


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
        self.best = np.array([t.best for t in terms], dtype=np.int64)
        self.points: list[I64] = []
        self.widths: list[int] = []
        for t in terms:
            if t.is_pair:
                self.points.append(
                    np.array([int(v) for row in t.points for v in row], dtype=np.int64)
                )
                self.widths.append(t.binnings[1].size)
            else:
                self.points.append(np.array([int(v) for v in t.points], dtype=np.int64))
                self.widths.append(0)
        self.dim_terms = {
            d: np.array([k for k, t in enumerate(terms) if t.dimension == d], dtype=np.int64)
            for d in card.dimensions
        }
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
        ids = [id_column] if id_column else []
        self.inputs = list(dict.fromkeys([*ids, *card.feature_names, *self.rule.inputs(card)]))

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

    def cells(self, batch: pa.RecordBatch) -> tuple[I64, B]:
        """``(P, M)``: every row's points and missing flag per term (``n × terms``)."""
        n = batch.num_rows
        bins: dict[tuple[str, int], I64] = {}

        def bin_of(feature: str, b: NumericBinning | CategoricalBinning) -> I64:
            key = (feature, id(b))
            if key not in bins:
                arr = _column(batch, feature)
                if isinstance(b, NumericBinning):
                    bins[key] = _numeric_bins(_float_values(arr, feature), b)
                else:
                    bins[key] = _categorical_bins(arr, b)
            return bins[key]

        P = np.empty((n, self.n_terms), dtype=np.int64)
        M = np.empty((n, self.n_terms), dtype=np.bool_)
        for k, t in enumerate(self.card.terms):
            if t.is_pair:
                b0, b1 = t.binnings
                i, j = bin_of(t.features[0], b0), bin_of(t.features[1], b1)
                P[:, k] = self.points[k][i * self.widths[k] + j]
                M[:, k] = (i == b0.missing_index) | (j == b1.missing_index)
            else:
                b = t.binnings[0]
                i = bin_of(t.features[0], b)
                P[:, k] = self.points[k][i]
                M[:, k] = i == b.missing_index
        return P, M

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

    def score_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """Score every row of ``batch``: the columns of ``score_table``, in its order."""
        if isinstance(batch, pa.Table):
            batch = pa.RecordBatch.from_arrays(
                [_column_of(batch, c) for c in batch.schema.names], schema=batch.schema
            )
        self.check(batch.schema.names)
        n = batch.num_rows
        P, M = self.cells(batch)
        ok = self.scorable(batch)
        bad = ~ok
        s = self.card.scaling
        raw = self.card.intercept_points + P.sum(axis=1, dtype=np.int64)
        score = np.clip(raw, s.score_min, s.score_max).astype(np.int64)
        band_idx = np.searchsorted(_BAND_LOWS, score, side="right")
        cols: list[pa.Array] = []
        if self.id_column:
            cols.append(_column(batch, self.id_column))
        cols.append(pa.array(score, pa.int64(), mask=bad))
        cols.append(self._text(_BAND_NAMES, band_idx, bad))
        cols.append(self._text(_STATUS, bad.astype(np.int32), None))
        for dim, rng in self.card.dimensions.items():
            idx = self.dim_terms[dim]
            if len(idx) == 0:
                cols.append(pa.nulls(n, pa.int64()))
                continue
            span = rng.max_points - rng.min_points
            if span <= 0:
                value = np.full(n, NEUTRAL_SUBSCORE, dtype=np.int64)
            else:
                pts = P[:, idx].sum(axis=1, dtype=np.int64)
                value = (200 * (pts - rng.min_points) + span) // (2 * span)
            no_data = M[:, idx].all(axis=1)
            cols.append(pa.array(value, pa.int64(), mask=bad | no_data))
        cols += self._reasons(P, M, bad)
        zeros = np.zeros(n, dtype=np.int32)
        cols.append(self._text(pa.array([self.card.model_id], pa.string()), zeros, None))
        if self.as_of is not None:
            cols.append(self._text(pa.array([self.as_of], pa.string()), zeros, None))
        id_type = batch.schema.field(self.id_column).type if self.id_column else None
        return pa.RecordBatch.from_arrays(cols, schema=self.schema(id_type))

    def _text(self, values: pa.Array, at: npt.NDArray[np.integer], absent: B | None) -> pa.Array:
        """``values[at]`` (null where ``absent``): a take, or a dictionary array."""
        idx = pa.array(at.astype(np.int32), pa.int32(), mask=absent)
        if self.dictionary:
            return pa.DictionaryArray.from_arrays(idx, values)
        return values.take(idx)

    def _nulls(self, n: int) -> pa.Array:
        if self.dictionary:
            return pa.nulls(n, pa.dictionary(pa.int32(), pa.string()))
        return pa.nulls(n, pa.string())

    def _top(self, keys: I64, k: int) -> I64:
        """The ``k`` largest keys of every row, largest first (keys unique in a row, all
        >= -1): ``k`` passes of a row-wise ``argmax``, each taking the largest out."""
        n, T = keys.shape
        k = min(k, T)
        out: I64 = np.empty((n, k), dtype=np.int64)
        if k == 0:
            return out
        work = keys.copy()
        rows = np.arange(n)
        for r in range(k):
            j = work.argmax(axis=1)
            out[:, r] = work[rows, j]
            work[rows, j] = -2
        return out

    def _reasons(self, P: I64, M: B, bad: B) -> list[pa.Array]:
        n, T = P.shape
        pos = np.arange(T - 1, -1, -1, dtype=np.int64)  # T − 1 − k
        loss = self.best[None, :] - P
        keys = np.where(loss > 0, loss * T + pos, -1)
        top = self._top(keys, MAX_REASONS)
        cols: list[pa.Array] = []
        for r in range(MAX_REASONS):
            if r >= top.shape[1]:
                cols.append(self._nulls(n))
                if self.texts:
                    cols += [
                        self._nulls(n),
                        self._nulls(n),
                        pa.nulls(n, pa.int64()),
                        pa.nulls(n, pa.bool_()),
                    ]
                continue
            key = top[:, r]
            absent = bad | (key < T)
            term = (T - 1) - np.where(absent, 0, key % T)
            miss = M[np.arange(n), term]
            at = 2 * term + miss
            cols.append(self._text(self.reason_names, at, absent))
            if self.texts:
                cols.append(self._text(self.reason_texts, at, absent))
                cols.append(self._text(self.reason_improves, at, absent))
                cols.append(pa.array(key // T, pa.int64(), mask=absent))
                cols.append(pa.array(miss, pa.bool_(), mask=absent))
        if not self.texts:
            return cols
        hkeys = np.where((P > 0) & ~M, P * T + pos, -1)
        htop = self._top(hkeys, MAX_HELPS)
        for r in range(MAX_HELPS):
            if r >= htop.shape[1]:
                cols += [
                    self._nulls(n),
                    self._nulls(n),
                    pa.nulls(n, pa.int64()),
                ]
                continue
            key = htop[:, r]
            absent = bad | (key < 0)
            term = (T - 1) - np.where(absent, 0, key % T)
            cols.append(self._text(self.help_names, term, absent))
            cols.append(self._text(self.help_texts, term, absent))
            cols.append(pa.array(key // T, pa.int64(), mask=absent))
        return cols

    def score_batches(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Score a stream of batches (for ``mapInArrow`` and the DuckDB stream)."""
        for batch in batches:
            yield self.score_batch(batch)


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
