"""A scorecard compiled to one Ibis expression: batch scoring on DuckDB or Spark.

Only portable operations are used — ``ibis.cases``, ``isin``, ``isnull``/``isnan``,
integer arithmetic, ``greatest``, and indexing into constant arrays — so the same
expression runs on every backend and renders to one standalone SQL query
(``scoring.sql``).

How it is made fast (measured on DuckDB; ``benchmarks/scoring.py``): a ``CASE`` costs
about one vector operation per *node* for every row, so a term with hundreds of bins
(EBM) must not become a ``CASE`` with hundreds of branches.

- A feature's bin index is found by **binary lifting** over its edges kept in a constant
  array: ``idx += step * (edges[idx + step - 1] <= x)`` for ``step`` = 2^(L-1) … 1, one
  projection per step. Cost: log2(bins) steps instead of one per bin.
- Points are then **read from a constant array** at that index; a two-feature grid is a
  flat array read at ``row * width + column``.
- Terms with few distinct point runs (most scorecard terms) stay a small ``CASE`` tree,
  which is cheaper than lifting at that size.
- **Reasons without sorting**: each term gets a key ``loss·n + (n − 1 − position)``
  (``n`` terms), unique and ordered by loss then position. The first reason is the
  ``greatest`` key; the next is the greatest key below the previous one. A key below
  ``n`` means no loss: no reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import ibis
import ibis.expr.types as ir

from openscore.domain import BANDS
from openscore.errors import InputError
from openscore.model.format import CategoricalBinning, NumericBinning, Scorecard, Term
from openscore.scoring.eligibility import SCORED, UNSCORABLE, ScoringRule
from openscore.scoring.person import refuse_audit_only
from openscore.scoring.reasons import (
    MAX_HELPS,
    MAX_REASONS,
    NEUTRAL_SUBSCORE,
    help_text,
    missing_texts,
)

#: output columns after the id: these, then ``dim_<dimension>`` and the reason columns
SCORE_COLUMNS = ("score", "band", "status")
#: a numeric term with at most this many point runs is a CASE tree, else lifted (on
#: DuckDB a tree costs ~1 ns per node per row, a lifting step ~15 ns: break-even ≈ 50)
TREE_MAX_LEAVES = 48
#: pads edge arrays to a power of two; nothing finite compares above it
PAD_EDGE = 1.7976931348623157e308


def output_columns(
    card: Scorecard, id_column: str | None = None, *, texts: bool = True
) -> list[str]:
    """The columns ``score_table`` returns, in order."""
    cols = [id_column] if id_column else []
    cols += list(SCORE_COLUMNS)
    cols += [f"dim_{d}" for d in card.dimensions]
    for k in range(1, MAX_REASONS + 1):
        cols += [f"reason_{k}"]
        if texts:
            cols += [
                f"reason_{k}_text",
                f"reason_{k}_improve",
                f"reason_{k}_points",
                f"reason_{k}_missing",
            ]
    if texts:
        for k in range(1, MAX_HELPS + 1):
            cols += [f"help_{k}", f"help_{k}_text", f"help_{k}_points"]
    cols += ["model_id"]
    return cols


# -- inputs -----------------------------------------------------------------------------


def _missing(col: ir.Value) -> ir.BooleanValue:
    if col.type().is_floating():
        return col.isnull() | col.isnan()
    return col.isnull()


def _numeric_input(table: ir.Table, name: str) -> ir.NumericValue:
    col = table[name]
    dtype = col.type()
    if dtype.is_boolean():
        return col.cast("int64")
    if dtype.is_numeric():
        return col
    return col.cast("float64")


def _text_input(table: ir.Table, name: str) -> ir.StringValue:
    col = table[name]
    return col if col.type().is_string() else col.cast("string")


def _missing_of(table: ir.Table, feature: str, binning: Any) -> ir.BooleanValue:
    if isinstance(binning, NumericBinning):
        return _missing(_numeric_input(table, feature))
    raw = table[feature]
    return _missing(raw) if raw.type().is_floating() else _text_input(table, feature).isnull()


def _int_array(values: Sequence[int]) -> ir.ArrayValue:
    return ibis.literal([int(v) for v in values], type="array<int64>")


def _at(array: ir.ArrayValue, index: ir.IntegerValue) -> ir.Value:
    """``array[index]`` (0-based); the index is cast to int32, which Spark requires."""
    return array[index.cast("int32")]


# -- lookups ----------------------------------------------------------------------------


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive bins of equal value: (last bin index of the run, value)."""
    out: list[tuple[int, int]] = []
    for i, v in enumerate(values):
        if out and out[-1][1] == v:
            out[-1] = (i, int(v))
        else:
            out.append((i, int(v)))
    return out


def _tree(x: ir.Value, edges: Sequence[float], values: Sequence[int]) -> ir.Value:
    """``values[number of edges <= x]`` for a non-missing ``x``, as a balanced CASE tree."""
    runs = _runs(values)

    def build(lo: int, hi: int) -> ir.Value:
        if lo == hi:
            return ibis.literal(runs[lo][1], type="int64")
        mid = (lo + hi) // 2
        return ibis.cases((x < edges[runs[mid][0]], build(lo, mid)), else_=build(mid + 1, hi))

    return build(0, len(runs) - 1)


class _Lifting:
    """Binary-lifting searches, advanced one step per projection for all at once."""

    def __init__(self) -> None:
        self.searches: dict[str, tuple[str, list[float], int]] = {}  # col -> (feature, edges, L)
        self._by_key: dict[tuple[str, tuple[float, ...]], str] = {}

    def add(self, feature: str, edges: Sequence[float]) -> str:
        """Column that will hold ``number of edges <= x`` (capped at ``len(edges)``)."""
        key = (feature, tuple(edges))
        if key not in self._by_key:
            name = f"__s{len(self.searches)}"
            levels = max(1, len(edges).bit_length())
            padded = list(edges) + [PAD_EDGE] * ((1 << levels) - 1 - len(edges))
            self.searches[name] = (feature, padded, levels)
            self._by_key[key] = name
        return self._by_key[key]

    def apply(self, table: ir.Table) -> ir.Table:
        if not self.searches:
            return table
        table = table.mutate(**{c: ibis.literal(0, type="int64") for c in self.searches})
        depth = max(levels for _, _, levels in self.searches.values())
        for level in range(depth):
            updates = {}
            for col, (feature, padded, levels) in self.searches.items():
                if level >= levels:
                    continue
                step = 1 << (levels - 1 - level)
                x = _numeric_input(table, feature)
                edge = _at(ibis.literal(padded, type="array<float64>"), table[col] + (step - 1))
                updates[col] = table[col] + (edge <= x).cast("int64") * step
            table = table.mutate(**updates)
        return table


def _index(table: ir.Table, feature: str, b: Any, lifting: _Lifting | None) -> ir.Value:
    """Full bin index (missing and other included) of a feature."""
    if isinstance(b, NumericBinning):
        miss = _missing_of(table, feature, b)
        k = len(b.edges)
        if lifting is None:
            inside = _tree(_numeric_input(table, feature), b.edges, range(k + 1))
        else:
            inside = ibis.least(table[lifting.add(feature, b.edges)], k)
        return ibis.cases((miss, b.missing_index), else_=inside).cast("int64")
    x = _text_input(table, feature)
    branches = [(_missing_of(table, feature, b), b.missing_index)]
    branches += [(x.isin(list(g)), i) for i, g in enumerate(b.groups)]
    return ibis.cases(*branches, else_=b.other_index).cast("int64")


def _categorical_points(
    table: ir.Table, feature: str, b: CategoricalBinning, pts: Sequence[int]
) -> ir.Value:
    x = _text_input(table, feature)
    by_value: dict[int, list[str]] = {}
    for g, p in zip(b.groups, pts, strict=False):
        by_value.setdefault(int(p), []).extend(g)
    other = int(pts[b.other_index])
    branches = [(_missing_of(table, feature, b), 0)]
    branches += [(x.isin(cats), v) for v, cats in by_value.items() if v != other]
    return ibis.cases(*branches, else_=other).cast("int64")


def _needs_lifting(term: Term) -> bool:
    if term.is_pair:
        return any(
            isinstance(b, NumericBinning) and len(b.edges) + 1 > TREE_MAX_LEAVES
            for b in term.binnings
        )
    b = term.binnings[0]
    if not isinstance(b, NumericBinning):
        return False
    return len(_runs(term.points[: len(b.edges) + 1])) > TREE_MAX_LEAVES


def _plan_main(term: Term, lifting: _Lifting) -> None:
    """Register the searches a lifted one-feature term needs (on its run boundaries)."""
    b = cast(NumericBinning, term.binnings[0])  # _needs_lifting: only numeric ones are lifted
    runs = _runs(term.points[: len(b.edges) + 1])
    lifting.add(term.features[0], [b.edges[last] for last, _ in runs[:-1]])


def _term_points(table: ir.Table, term: Term, lifting: _Lifting) -> ir.Value:
    """The points expression of one term (after ``lifting`` has been applied)."""
    if not term.is_pair:
        (feature,), (b,) = term.features, term.binnings
        pts = [int(p) for p in term.points]
        if isinstance(b, CategoricalBinning):
            return _categorical_points(table, feature, b, pts)
        x = _numeric_input(table, feature)
        bins = pts[: len(b.edges) + 1]
        runs = _runs(bins)
        if len(runs) <= TREE_MAX_LEAVES:
            inside = _tree(x, b.edges, bins)
        else:
            boundaries = [b.edges[last] for last, _ in runs[:-1]]
            col = lifting.add(feature, boundaries)
            values = [v for _, v in runs]
            values += [values[-1]] * ((1 << max(1, len(boundaries).bit_length())) - len(values))
            inside = _at(_int_array(values), table[col])
        return ibis.cases((_missing(x), 0), else_=inside).cast("int64")
    use = lifting if _needs_lifting(term) else None
    i = _index(table, term.features[0], term.binnings[0], use)
    j = _index(table, term.features[1], term.binnings[1], use)
    width = term.binnings[1].size
    flat = [int(v) for row in term.points for v in row]
    return _at(_int_array(flat), i * width + j)


def _term_missing(table: ir.Table, term: Term) -> ir.BooleanValue:
    """Whether the term's cell is the missing one (any of its features is missing)."""
    flags = [_missing_of(table, f, b) for f, b in zip(term.features, term.binnings, strict=True)]
    out = flags[0]
    for f in flags[1:]:
        out = out | f
    return out


def _band(score: ir.IntegerValue) -> ir.StringValue:
    """The band of a (clipped) score as a balanced CASE tree over the band boundaries."""
    lows = [b.low for b in BANDS[1:]]

    def build(lo: int, hi: int) -> ir.Value:
        if lo == hi:
            return ibis.literal(BANDS[lo].name)
        mid = (lo + hi) // 2
        return ibis.cases((score < lows[mid], build(lo, mid)), else_=build(mid + 1, hi))

    return build(0, len(BANDS) - 1)


def check_columns(card: Scorecard, table: ir.Table, rule: ScoringRule | None = None) -> None:
    """The table must have every feature the model (and the minimum scoring rule) uses
    (extra columns are ignored)."""
    wanted = list(dict.fromkeys([*card.feature_names, *(rule.inputs(card) if rule else [])]))
    missing = [f for f in wanted if f not in table.columns]
    if missing:
        raise InputError(f"the table lacks columns the model needs: {', '.join(missing)}")


def _scorable(table: ir.Table, card: Scorecard, rule: ScoringRule) -> ir.BooleanValue:
    """The minimum scoring rule (``scoring/eligibility.py``) as an expression."""

    def known(name: str) -> ir.BooleanValue:
        col = table[name]
        if col.type().is_string():
            return col.notnull()
        return ~_missing(_numeric_input(table, name))

    if not rule.event_mode(card):
        names = card.feature_names
        out = known(names[0])
        for name in names[1:]:
            out = out | known(name)
        return out
    out = known(rule.activity_feature) & (
        _numeric_input(table, rule.activity_feature) >= rule.min_activity
    )
    for name in rule.history_features:
        out = out | known(name)
    return out.fill_null(False)


#: prefix of the per-term points columns of :func:`score_table` (``term_points=True``)
TERM_POINTS_PREFIX = "points:"


def score_table(
    card: Scorecard,
    table: ir.Table,
    id_column: str | None = None,
    *,
    as_of: str | None = None,
    texts: bool = True,
    rule: ScoringRule | None = None,
    term_points: bool = False,
) -> ir.Table:
    """One Ibis expression scoring every row of ``table``: score, band, sub-scores, reasons.

    Columns: ``id_column`` (if given), ``score``, ``band``, ``status`` (``scored`` or
    ``unscorable``: below the minimum scoring rule, when score, band, sub-scores and
    reasons are all null), ``dim_<dimension>`` (0–100, null for a dimension with no
    data) for the five dimensions, ``reason_k`` (the term's name) and — with ``texts`` —
    ``reason_k_text`` / ``reason_k_improve`` / ``reason_k_points`` (points it costs) /
    ``reason_k_missing`` for k = 1..4 (null when fewer reasons), ``help_k`` /
    ``help_k_text`` / ``help_k_points`` for the factors that earn the most points
    (k = 1..3), ``model_id`` and, when given, ``as_of``; with ``term_points``,
    ``points:<term>`` the points of every term (null when unscorable), what the history's
    "why your score changed" compares. Rows come back in no particular
    order: join or sort on the id.
    """
    refuse_audit_only(card)
    rule = rule or ScoringRule.from_settings()
    check_columns(card, table, rule)
    if id_column is not None and id_column not in table.columns:
        raise InputError(f"id column {id_column!r} is not in the table", field=id_column)
    terms = card.terms
    n = len(terms)
    ids = [id_column] if id_column else []
    inputs = list(dict.fromkeys([*ids, *card.feature_names, *rule.inputs(card)]))

    # 1. binary-lifting searches for every term (or pair feature) with many bins
    lifting = _Lifting()
    for t in terms:
        if _needs_lifting(t):
            if t.is_pair:
                for f, b in zip(t.features, t.binnings, strict=True):
                    if isinstance(b, NumericBinning):
                        lifting.add(f, b.edges)
            else:
                _plan_main(t, lifting)
    base = lifting.apply(table.select(*inputs))

    # 2. points of every term
    pcols = [f"__p{k}" for k in range(n)]
    mcols = [f"__m{k}" for k in range(n)]
    term_missing = [_term_missing(base, t) for t in terms]
    dim_missing: dict[str, ir.Value] = {}
    for dim in card.dimensions:
        flags = [m for t, m in zip(terms, term_missing, strict=True) if t.dimension == dim]
        if not flags:
            dim_missing[f"__dm_{dim}"] = ibis.literal(True)
            continue
        both = flags[0]
        for f in flags[1:]:
            both = both & f
        dim_missing[f"__dm_{dim}"] = both
    step = base.select(
        *[base[c] for c in ids],
        *[_term_points(base, t, lifting).name(c) for t, c in zip(terms, pcols, strict=True)],
        *[m.name(c) for m, c in zip(term_missing, mcols, strict=True)],
        *[v.name(k) for k, v in dim_missing.items()],
        _scorable(base, card, rule).name("__ok"),
    )
    ok = step["__ok"]

    # 3. score, sub-scores and reason keys
    s = card.scaling
    raw: ir.Value = ibis.literal(card.intercept_points, type="int64")
    for c in pcols:
        raw = raw + step[c]
    score = ibis.greatest(ibis.literal(s.score_min), ibis.least(ibis.literal(s.score_max), raw))
    score = ibis.cases((ok, score), else_=ibis.null("int64"))
    dims: dict[str, ir.Value] = {}
    for dim, rng in card.dimensions.items():
        cols = [step[c] for t, c in zip(terms, pcols, strict=True) if t.dimension == dim]
        span = rng.max_points - rng.min_points
        known = ok & ~step[f"__dm_{dim}"]
        if not cols or span <= 0:
            value: ir.Value = ibis.literal(NEUTRAL_SUBSCORE, type="int64")
        else:
            pts = cols[0]
            for c in cols[1:]:
                pts = pts + c
            value = (200 * (pts - rng.min_points) + span) // (2 * span)
        dims[f"dim_{dim}"] = ibis.cases((known, value), else_=ibis.null("int64")).cast("int64")
    # key = ((loss·n + (n−1−k))·2 + missing): the largest key is the largest loss, ties
    # to the lower k; the lowest bit says whether the term's cell was the missing one
    keys = {
        f"__k{k}": (((t.best - step[c]) * n + (n - 1 - k)) * 2 + step[m].cast("int64")).cast(
            "int64"
        )
        for k, (t, c, m) in enumerate(zip(terms, pcols, mcols, strict=True))
    }
    # what helps: key = points·n + (n−1−k) for a known cell earning > 0 points, else −1
    hkeys = (
        {
            f"__h{k}": ibis.cases(
                ((step[c] > 0) & ~step[m], step[c] * n + (n - 1 - k)), else_=-1
            ).cast("int64")
            for k, (c, m) in enumerate(zip(pcols, mcols, strict=True))
        }
        if texts
        else {}
    )
    step = step.select(
        *[step[c] for c in ids],
        score.cast("int64").name("score"),
        ok,
        *[v.name(k) for k, v in dims.items()],
        *[v.name(k) for k, v in keys.items()],
        *[v.name(k) for k, v in hkeys.items()],
        *([step[c] for c in pcols] if term_points else []),
    )

    # 4. the top keys, one projection per rank
    ranks: list[str] = []
    for r in range(1, min(MAX_REASONS, n) + 1):
        if ranks:
            prev = step[ranks[-1]]
            cands = [ibis.cases((step[k] < prev, step[k]), else_=-1) for k in keys]
        else:
            cands = [step[k] for k in keys]
        top = cands[0] if len(cands) == 1 else ibis.greatest(*cands)
        ranks.append(f"__r{r}")
        step = step.mutate(**{ranks[-1]: top.cast("int64")})
    hranks: list[str] = []
    for r in range(1, (min(MAX_HELPS, n) if hkeys else 0) + 1):
        if hranks:
            prev = step[hranks[-1]]
            cands = [ibis.cases((step[k] < prev, step[k]), else_=-1) for k in hkeys]
        else:
            cands = [step[k] for k in hkeys]
        top = cands[0] if len(cands) == 1 else ibis.greatest(*cands)
        hranks.append(f"__hr{r}")
        step = step.mutate(**{hranks[-1]: top.cast("int64")})

    # 5. decode: band from the score, reasons from the keys
    ok = step["__ok"]
    out: list[ir.Value] = [step[c] for c in ids]
    out += [
        step["score"],
        ibis.cases((ok, _band(step["score"])), else_=ibis.null("string")).name("band"),
        ibis.cases((ok, ibis.literal(SCORED)), else_=ibis.literal(UNSCORABLE)).name("status"),
    ]
    out += [step[k] for k in dims]
    # texts indexed by 2·k + missing: the term's own, or the missing-information ones
    missing = [missing_texts(card, t) for t in terms]
    names = ibis.literal([t.name for t in terms for _ in (0, 1)], type="array<string>")
    reasons = ibis.literal(
        [x for t, m in zip(terms, missing, strict=True) for x in (t.reason, m[0])],
        type="array<string>",
    )
    improves = ibis.literal(
        [x for t, m in zip(terms, missing, strict=True) for x in (t.improve, m[1])],
        type="array<string>",
    )
    for r in range(1, MAX_REASONS + 1):
        columns = [("", names), ("_text", reasons), ("_improve", improves)]
        key = step[f"__r{r}"] if r <= len(ranks) else None
        present = ok & (key >= 2 * n) if key is not None else None
        for suffix, arr in columns if texts else columns[:1]:
            if key is not None:
                pos = 2 * ((n - 1) - ((key // 2) % n)) + key % 2
                val = ibis.cases((present, _at(arr, pos)), else_=ibis.null("string"))
            else:
                val = ibis.null("string")
            out.append(val.name(f"reason_{r}{suffix}"))
        if texts:
            if key is not None:
                lost = ibis.cases((present, (key // 2) // n), else_=ibis.null("int64"))
                gone = ibis.cases((present, (key % 2) == 1), else_=ibis.null("boolean"))
            else:
                lost, gone = ibis.null("int64"), ibis.null("boolean")
            out.append(lost.cast("int64").name(f"reason_{r}_points"))
            out.append(gone.cast("boolean").name(f"reason_{r}_missing"))
    if texts:
        hnames = ibis.literal([t.name for t in terms], type="array<string>")
        htexts = ibis.literal([help_text(card, t) for t in terms], type="array<string>")
        for r in range(1, MAX_HELPS + 1):
            if r <= len(hranks):
                key = step[f"__hr{r}"]
                present = ok & (key >= 0)
                pos = (n - 1) - (key % n)
                vals = [
                    ibis.cases((present, _at(hnames, pos)), else_=ibis.null("string")),
                    ibis.cases((present, _at(htexts, pos)), else_=ibis.null("string")),
                    ibis.cases((present, key // n), else_=ibis.null("int64")).cast("int64"),
                ]
            else:
                vals = [ibis.null("string"), ibis.null("string"), ibis.null("int64")]
            for suffix, v in zip(("", "_text", "_points"), vals, strict=True):
                out.append(v.name(f"help_{r}{suffix}"))
    if term_points:
        for t, c in zip(terms, pcols, strict=True):
            pts = ibis.cases((ok, step[c]), else_=ibis.null("int64"))
            out.append(pts.cast("int64").name(f"{TERM_POINTS_PREFIX}{t.name}"))
    out.append(ibis.literal(card.model_id).name("model_id"))
    if as_of is not None:
        out.append(ibis.literal(as_of).name("as_of"))
    return step.select(*out)
