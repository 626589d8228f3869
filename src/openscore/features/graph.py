"""The relationships dimension: trust propagated over mutual connections, as Ibis.

Sesame raises scores for people with high-credit friends, which pushes people to choose
friends by score. Here relationships can only add a little, and only through connections
that are hard to fake. The rules (``docs/relationships.md`` has the reasoning and the
measured figures):

* **Mutual connections only.** A connection counts when A's relationship event names B
  *and* B's names A. Relationship events exist only for people who share ``social`` (the
  ingest consent gate stores nothing else; a revocation purges them), so when either side
  stops sharing the connection becomes one-sided and drops out. Self-loops and duplicates
  are dropped. A connection dates from the later of its two sides.
* **What flows is standing**: a person's score *without* the relationships dimension
  (stage 1), mapped to [0, 1] above a neutral point — 0 at or below 600 (20:1 good:bad
  odds, the scaling's base), 1 at 680 (80:1) and above. Being connected to someone below
  the neutral point neither helps nor hurts.
* **Only vouchers carry standing** (anti-farming): a verified identity, at least
  :attr:`GraphParams.min_history_months` of one's own wallet, credit or rental history,
  and a connection at least :attr:`GraphParams.min_tenure_months` old (its weight grows
  linearly to 1 at :attr:`GraphParams.full_tenure_months`). A ring of new or unverified
  accounts carries exactly nothing, to its members or to anyone else.
* **Diffusion**, a fixed number of rounds, personalised-PageRank style but with a
  saturating sum in place of degree normalisation::

      r⁰ᵢ   = (1 − α)·sᵢ                         for vouchers i (0 for everyone else)
      rᵏ⁺¹ᵢ = sᵢ·((1 − α) + α·sat(Σⱼ wᵢⱼ·rᵏⱼ))
      network_trustᵢ = sat(Σⱼ wᵢⱼ·rᴷⱼ)          sat(x) = x / (x + κ)

  with each product ``wᵢⱼ·rⱼ`` rounded to a multiple of 2⁻³⁰ (:data:`FIXED_POINT`) so
  that the sums are of integers and every engine gets the same value bit for bit.

  A voucher's value never exceeds their own standing, so trust cannot be laundered
  through a low-standing account; every step is monotone in the edges, so **no
  connection ever lowers anyone's value** (no one gains by dropping a friend); and the
  result stays in [0, 1) whatever the degree (a thousand friends saturate — the gain is
  capped again in points by the scorecard).

Everything here is an Ibis expression with iterative joins, so the same code runs on
DuckDB and on Spark. :func:`trust_propagation` is the entry point for a graph given
directly (it checks its input and names what is wrong); :func:`network_features` is the
ledger path used by the jobs, which drops one-sided connections silently because a
revocation makes them in the normal course of things. The batch job on DuckDB runs the
same rule on arrays instead (:func:`propagate_arrays` over the edges of
:func:`weighted_edges`): a gather and an exact integer sum per round in memory, in place
of a query per round, with the same result to the last bit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import ibis
import ibis.expr.types as ir
import numpy as np

from openscore.errors import InputError
from openscore.features.frame import AsOf, day_of, months_since

#: the features this module produces (joined by ``build_features``)
GRAPH_FEATURES = ("network_trust",)
#: sources whose events count as a person's own history (self-declared facts do not)
HISTORY_SOURCES = ("wallet", "credit", "rentals")


@dataclass(frozen=True, slots=True)
class GraphParams:
    """The knobs of trust propagation; the defaults are the documented rule."""

    #: diffusion rounds (each one more hop of confirmation)
    iterations: int = 3
    #: α: the share of a voucher's value that must be confirmed by their own connections
    damping: float = 0.5
    #: κ: the weighted sum of vouching that gives half the maximum trust
    saturation: float = 2.0
    #: a connection younger than this carries nothing
    min_tenure_months: int = 6
    #: a connection this old carries full weight (linear in between)
    full_tenure_months: int = 24
    #: own wallet / credit / rental history a voucher needs
    min_history_months: int = 12
    #: stage-1 score at or below which standing is 0 (600: 20:1 good:bad)
    neutral_score: float = 600.0
    #: stage-1 score at or above which standing is 1 (680: 80:1)
    full_score: float = 680.0

    def __post_init__(self) -> None:
        if self.iterations < 0:
            raise InputError("iterations must be 0 or more", field="iterations")
        if not 0.0 <= self.damping <= 1.0:
            raise InputError("damping must be between 0 and 1", field="damping")
        if self.saturation <= 0:
            raise InputError("saturation must be positive", field="saturation")
        if not 0 <= self.min_tenure_months <= self.full_tenure_months or (
            self.full_tenure_months <= 0
        ):
            raise InputError(
                "need 0 <= min_tenure_months <= full_tenure_months, full_tenure_months > 0",
                field="min_tenure_months",
            )
        if self.full_score <= self.neutral_score:
            raise InputError("full_score must be above neutral_score", field="full_score")

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


# -- small pieces ------------------------------------------------------------------------

#: Each product ``w·r`` of a person's sum is rounded to a multiple of 2⁻³⁰ and the sum
#: is taken over those integers (``floor(w·r·2³⁰ + 0.5)``, int64), then divided back by
#: 2³⁰: a sum of floats depends on the order it is added in (DuckDB, Spark and numpy add
#: in different orders, and a last-place difference on a bin edge moves a score), a sum
#: of integers does not (as ``frame.cents`` for money). ``w`` and ``r`` lie in [0, 1], so
#: each term is at most 2³⁰ and no sum can overflow int64 below 2³³ (8.6 billion)
#: neighbours; the rounding moves each term by at most 2⁻³¹ (~5·10⁻¹⁰). Multiplying and
#: dividing by a power of two are exact, and the integer sum's conversion to float64 is
#: correctly rounded on every engine, so every implementation gives the same float.
FIXED_POINT = float(2**30)


def saturate(x: ir.NumericValue, params: GraphParams) -> ir.FloatingValue:
    """``x / (x + κ)``: monotone, 0 at 0, below 1 however large ``x`` grows."""
    x = x.cast("float64")
    return x / (x + params.saturation)


def standing_of(score: ir.NumericValue, params: GraphParams) -> ir.FloatingValue:
    """A stage-1 score mapped to [0, 1] above the neutral point; null for no score.

    Not ``greatest(0, least(1, s))``: DuckDB's and Spark's ``least`` skip nulls, so an
    unscorable person would get standing 1.
    """
    span = params.full_score - params.neutral_score
    s = (score.cast("float64") - params.neutral_score) / span
    return ibis.cases((s <= 0.0, 0.0), (s >= 1.0, 1.0), else_=s)


def tenure_weight(since_day: ir.IntegerValue, as_of: AsOf, params: GraphParams) -> ir.Value:
    """0 below the minimum tenure, then months / full tenure, at most 1."""
    months = months_since(since_day, as_of)
    w = ibis.least(ibis.literal(1.0), months.cast("float64") / params.full_tenure_months)
    return ibis.cases((months >= params.min_tenure_months, w), else_=0.0)


# -- from the ledger ---------------------------------------------------------------------


def relationship_edges(ev: ir.Table) -> ir.Table:
    """Directed edges ``person_id → counterparty_id`` with ``since_day`` (earliest event).

    ``ev`` is the as-of view of the ledger (``frame.as_of_view``): later events are unseen.
    """
    rel = ev.filter((ev.type == "relationship") & ev.counterparty_id.notnull())
    return rel.group_by(["person_id", "counterparty_id"]).aggregate(since_day=rel.day.min())


def mutual_edges(directed: ir.Table) -> ir.Table:
    """Undirected mutual edges ``a < b`` dated by the later side; the rest is dropped.

    Dropped: self-loops, duplicates (the earliest of a direction is kept) and one-sided
    edges (the other person does not name this one, e.g. they revoked ``social``). One
    group-by over the unordered pair does it all (as fast as joining the edges to their
    reverses on 40 M rows, and duplicates need no separate pass).
    """
    d = directed.filter(
        directed.person_id.notnull()
        & directed.counterparty_id.notnull()
        & (directed.person_id != directed.counterparty_id)
    )
    forward = d.person_id < d.counterparty_id
    pairs = d.group_by(
        a=ibis.least(d.person_id, d.counterparty_id),
        b=ibis.greatest(d.person_id, d.counterparty_id),
    ).aggregate(
        there=d.since_day.min(where=forward),
        back=d.since_day.min(where=~forward),
    )
    pairs = pairs.filter(pairs.there.notnull() & pairs.back.notnull())
    return pairs.select("a", "b", since_day=ibis.greatest(pairs.there, pairs.back).cast("int64"))


def ledger_edges(ev: ir.Table) -> ir.Table:
    """:func:`mutual_edges` of :func:`relationship_edges`, in one aggregation of the events.

    The earliest event of a direction is the minimum over that direction's events, so
    :func:`mutual_edges` over the relationship events themselves (each its own directed
    edge) gives the same ``a, b, since_day`` without grouping the directed edges first.
    """
    rel = ev.filter(ev.type == "relationship")
    return mutual_edges(rel.select("person_id", "counterparty_id", since_day=rel.day))


def weighted_edges(edges: ir.Table, as_of: AsOf, params: GraphParams) -> ir.Table:
    """``a, b, w``: the clean undirected edges that carry weight (``w`` > 0)."""
    weighted = edges.select(
        edges.a, edges.b, w=tenure_weight(edges.since_day, as_of, params).cast("float64")
    )
    return weighted.filter(weighted.w > 0)


def verified_identity(ev: ir.Table) -> ir.BooleanValue:
    """An event that verifies the person's identity (a verified ``identity`` fact)."""
    return (ev.type == "profile_fact") & (ev.fact == "identity") & ev.verified.fill_null(False)


def own_history(ev: ir.Table) -> ir.BooleanValue:
    """An event of the person's own history (wallet, credit or rentals)."""
    return ev.source.isin(HISTORY_SOURCES)


def may_vouch(
    verified: ir.BooleanValue, first_day: ir.IntegerValue, as_of: AsOf, params: GraphParams
) -> ir.BooleanValue:
    """The voucher rule over per-person aggregates: a verified identity (``verified``,
    never null) and :attr:`GraphParams.min_history_months` of own history since
    ``first_day`` (null: no own history, so no)."""
    enough = months_since(first_day, as_of) >= params.min_history_months
    return verified & enough.fill_null(False)


def voucher_facts(ev: ir.Table, as_of: AsOf, params: GraphParams) -> ir.Table:
    """Per person: verified identity and enough own history to vouch for others.

    (The DuckDB batch job takes the same two aggregates in the feature query's pass over
    the events instead: ``build_features(..., vouchers=params)``.)
    """
    ident = ev.filter(verified_identity(ev))
    verified = ident.group_by("person_id").aggregate(n_verified=ident.count())
    own = ev.filter(own_history(ev))
    history = own.group_by("person_id").aggregate(first_day=day_of(own.occurred_at.min()))
    both = verified.join(history, "person_id").select(verified.person_id, history.first_day)
    return both.select(
        "person_id",
        vouches=months_since(both.first_day, as_of) >= params.min_history_months,
    )


def network_features(
    ev: ir.Table, as_of: AsOf, scores: ir.Table, params: GraphParams | None = None
) -> ir.Table:
    """``person_id, network_trust`` for every person of ``scores`` (``person_id, score``).

    ``scores`` are stage-1 scores (without the relationships dimension); ``ev`` the
    as-of view of the ledger. One-sided, duplicate and self edges are dropped quietly:
    here they are the normal result of revocations, not bad input.
    """
    params = params or GraphParams()
    people = graph_people(ev, as_of, scores, params)
    edges = mutual_edges(relationship_edges(ev))
    return propagate(edges, people, as_of, params)


def graph_people(
    ev: ir.Table, as_of: AsOf, scores: ir.Table, params: GraphParams | None = None
) -> ir.Table:
    """``person_id, standing, vouches`` of every person of ``scores`` (stage 1)."""
    params = params or GraphParams()
    facts = voucher_facts(ev, as_of, params)
    return scores.left_join(facts, scores.person_id == facts.person_id).select(
        person_id=scores.person_id,
        # an unscorable person (no stage-1 score) carries no standing
        standing=standing_of(scores.score, params).fill_null(0.0),
        vouches=facts.vouches.fill_null(False),
    )


# -- the propagation -----------------------------------------------------------------------


def propagate(
    edges: ir.Table, people: ir.Table, as_of: AsOf, params: GraphParams | None = None
) -> ir.Table:
    """Trust of every person in ``people`` over clean undirected ``edges``.

    ``edges``: ``a, b, since_day`` — mutual, each pair once, no self-loops (what
    :func:`mutual_edges` returns). ``people``: ``person_id, standing`` (in [0, 1]) and
    ``vouches`` (bool). Returns ``person_id, network_trust`` (0 without trusted ties).
    Nothing is checked here: call :func:`trust_propagation` for a graph from elsewhere.
    """
    params = params or GraphParams()
    alpha = params.damping
    weighted = weighted_edges(edges, as_of, params)
    directed = weighted.select(src=weighted.a, dst=weighted.b, w=weighted.w).union(
        weighted.select(src=weighted.b, dst=weighted.a, w=weighted.w), distinct=False
    )
    vouchers = people.filter(people.vouches.fill_null(False) & (people.standing > 0)).select(
        vid=people.person_id, s=people.standing.cast("float64")
    )
    # Only vouchers hold a value, so the rounds need only edges between two vouchers;
    # the last step collects from vouchers into everyone.
    inner = directed.semi_join(vouchers, directed.src == vouchers.vid)
    ends = vouchers.view()
    inner = inner.semi_join(ends, inner.dst == ends.vid)
    value = vouchers.select("vid", "s", r=vouchers.s * (1.0 - alpha))
    for _ in range(params.iterations):
        sums = _collect(inner, value)
        step = vouchers.left_join(sums, vouchers.vid == sums.src)
        value = step.select(
            vid=vouchers.vid,
            s=vouchers.s,
            r=vouchers.s * ((1.0 - alpha) + alpha * saturate(sums.x.fill_null(0.0), params)),
        )
    sums = _collect(directed, value)
    out = people.left_join(sums, people.person_id == sums.src)
    return out.select(
        person_id=people.person_id,
        network_trust=saturate(sums.x.fill_null(0.0), params),
    )


def _collect(directed: ir.Table, value: ir.Table) -> ir.Table:
    """``src, x``: each person's weighted sum of their neighbours' current values, each
    product ``w·r`` in fixed point (:data:`FIXED_POINT`) so that the sum is exact."""
    j = directed.join(value, directed.dst == value.vid)
    q = ((j.w * j.r) * FIXED_POINT + 0.5).floor().cast("int64")
    return j.group_by(src=j.src).aggregate(x=q.sum().cast("float64") / FIXED_POINT)


# -- a graph given directly: checked -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphProblem:
    """One kind of bad input: how many rows, one example, and why it matters."""

    kind: str
    count: int
    example: str
    why: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.count} (e.g. {self.example}) — {self.why}"


def graph_problems(edges: ir.Table, people: ir.Table) -> list[GraphProblem]:
    """What is wrong with a directed edge list and its people table (runs queries).

    ``edges``: ``person_id, counterparty_id, since_day``, each mutual connection once in
    each direction (as the ledger holds it). ``people``: ``person_id, standing, vouches``.
    """
    missing = [c for c in ("person_id", "counterparty_id", "since_day") if c not in edges.columns]
    if missing:
        raise InputError(f"graph edges lack columns: {', '.join(missing)}", field="edges")
    missing = [c for c in ("person_id", "standing", "vouches") if c not in people.columns]
    if missing:
        raise InputError(f"graph people lack columns: {', '.join(missing)}", field="people")
    out: list[GraphProblem] = []

    def add(kind: str, rows: ir.Table, example: ir.Value, why: str) -> None:
        found = rows.aggregate(n=rows.count(), example=example.min()).to_pyarrow().to_pylist()
        n = int(found[0]["n"]) if found else 0
        if n:
            out.append(GraphProblem(kind, n, str(found[0]["example"]), why))

    e = edges
    nulls = e.filter(e.person_id.isnull() | e.counterparty_id.isnull() | e.since_day.isnull())
    add(
        "edges with an empty end or date",
        nulls,
        ibis.coalesce(nulls.person_id.cast("string"), nulls.counterparty_id.cast("string")),
        "every edge needs two people and the day it started",
    )
    e = e.filter(e.person_id.notnull() & e.counterparty_id.notnull() & e.since_day.notnull())
    loops = e.filter(e.person_id == e.counterparty_id)
    add("self-loops", loops, loops.person_id.cast("string"), "nobody can vouch for themselves")
    pairs = e.group_by(["person_id", "counterparty_id"]).aggregate(n=e.count())
    dups = pairs.filter(pairs.n > 1)
    add(
        "duplicate edges",
        dups,
        dups.person_id.cast("string").concat(" → ", dups.counterparty_id.cast("string")),
        "each direction of a connection must appear once",
    )
    one = pairs.filter(pairs.person_id != pairs.counterparty_id)
    rev = one.view()
    lonely = one.anti_join(
        rev, [one.person_id == rev.counterparty_id, one.counterparty_id == rev.person_id]
    )
    add(
        "one-sided edges",
        lonely,
        lonely.person_id.cast("string").concat(" → ", lonely.counterparty_id.cast("string")),
        "only mutual connections count; the other side must name this person too",
    )
    ids = people.select(pid=people.person_id)
    ends = e.select(end=e.person_id).union(e.select(end=e.counterparty_id), distinct=True)
    unknown = ends.anti_join(ids, ends.end == ids.pid)
    add(
        "unknown people in edges",
        unknown,
        unknown.end.cast("string"),
        "every person in an edge must be in the people table",
    )
    p = people
    dup_people = p.group_by("person_id").aggregate(n=p.count()).filter(lambda t: t.n > 1)
    add(
        "people listed twice",
        dup_people,
        dup_people.person_id.cast("string"),
        "one row per person",
    )
    bad = p.filter(
        p.person_id.isnull()
        | p.standing.isnull()
        | p.standing.isnan()
        | (p.standing < 0)
        | (p.standing > 1)
        | p.vouches.isnull()
    )
    add(
        "people without an id, a standing in [0, 1] or a vouches flag",
        bad,
        ibis.coalesce(bad.person_id.cast("string"), ibis.literal("(no id)")),
        "standing is a stage-1 score mapped to [0, 1]; vouches is true or false",
    )
    return out


def check_graph(edges: ir.Table, people: ir.Table) -> None:
    """Raise :class:`InputError` naming every problem of a directly given graph."""
    problems = graph_problems(edges, people)
    if problems:
        raise InputError("bad graph: " + "; ".join(str(p) for p in problems), field="edges")


def trust_propagation(
    edges: ir.Table,
    people: ir.Table,
    as_of: AsOf,
    params: GraphParams | None = None,
    *,
    strict: bool = True,
) -> ir.Table:
    """Trust of every person over a directly given graph; bad input is an error.

    ``edges``: ``person_id, counterparty_id, since_day`` (day number), each connection in
    both directions; ``people``: ``person_id, standing`` (in [0, 1]), ``vouches``.
    ``strict`` (default): self-loops, duplicates, one-sided edges, unknown people and
    bad people rows raise :class:`InputError` with counts and an example each. With
    ``strict=False`` the bad edges are dropped instead (edges to unknown people too).
    """
    if strict:
        check_graph(edges, people)
    else:
        ids = people.select(pid=people.person_id)
        edges = edges.semi_join(ids, edges.person_id == ids.pid)
        other = ids.view()
        edges = edges.semi_join(other, edges.counterparty_id == other.pid)
    return propagate(mutual_edges(edges), people, as_of, params)


# -- the same rule in numpy: the DuckDB batch job's, and the tests' reference --------------


def propagate_csr(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    standing: np.ndarray,
    vouches: np.ndarray,
    params: GraphParams | None = None,
) -> np.ndarray:
    """:func:`propagate` as a scipy.sparse power iteration over people ``0..n-1``.

    ``a, b``: clean undirected edges (each pair once); ``weight``: their tenure weights
    (:func:`tenure_weight`); returns ``network_trust`` per person. Each round's products
    are rounded to :data:`FIXED_POINT` and summed by an int64 sparse product, so the
    result equals :func:`propagate`'s exactly.
    """
    from scipy import sparse

    params = params or GraphParams()
    alpha, kappa = params.damping, params.saturation
    keep = weight > 0
    a, b, weight = a[keep], b[keep], weight[keep]
    w = sparse.csr_matrix(
        (np.concatenate([weight, weight]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n, n),
    )
    s = np.where(vouches & (standing > 0), standing, 0.0)
    ones = np.ones(n, dtype=np.int64)

    def collect(r: np.ndarray) -> np.ndarray:
        # the products in fixed point, summed by an int64 matrix product (exact)
        terms = fixed_point(w.data * r[w.indices])
        q = sparse.csr_matrix((terms, w.indices, w.indptr), shape=(n, n)) @ ones
        return np.asarray(q, dtype=np.int64).astype(np.float64) / FIXED_POINT

    r = (1.0 - alpha) * s
    for _ in range(params.iterations):
        x = collect(r)
        r = s * ((1.0 - alpha) + alpha * (x / (x + kappa)))  # the grouping of propagate's
    x = collect(r)
    return x / (x + kappa)


def propagate_arrays(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    standing: np.ndarray,
    vouches: np.ndarray,
    params: GraphParams | None = None,
) -> np.ndarray:
    """:func:`propagate` on arrays over people ``0..n-1`` (what the DuckDB batch job runs).

    The arguments are :func:`propagate_csr`'s. Each round is a gather and an exact
    integer sum by person (:func:`exact_sums`, two ``np.bincount`` passes) over the
    edges in both directions (numpy only: the batch command imports no SciPy), and every
    value is the same floating-point operation as in the Ibis expression — the products
    ``w·r`` and their fixed point (:data:`FIXED_POINT`), ``x / (x + κ)``,
    ``s·((1 − α) + α·sat(x))`` — and each sum is of integers, so the result is the
    expression's to the last bit, on DuckDB and on Spark.
    """
    params = params or GraphParams()
    alpha, kappa = params.damping, params.saturation
    keep = weight > 0
    src = np.concatenate([a[keep], b[keep]]).astype(np.intp)
    dst = np.concatenate([b[keep], a[keep]]).astype(np.intp)
    w = np.concatenate([weight[keep], weight[keep]]).astype(np.float64)
    s = np.where(vouches & (standing > 0), standing, 0.0)

    def collect(r: np.ndarray) -> np.ndarray:
        q = exact_sums(src, fixed_point(w * r[dst]), n)
        return q.astype(np.float64) / FIXED_POINT

    r = s * (1.0 - alpha)
    for _ in range(params.iterations):
        x = collect(r)
        r = s * ((1.0 - alpha) + alpha * (x / (x + kappa)))
    x = collect(r)
    return x / (x + kappa)


def fixed_point(products: np.ndarray) -> np.ndarray:
    """``floor(p·2³⁰ + 0.5)`` as int64: the products ``w·r`` in fixed point
    (:data:`FIXED_POINT`), as the Ibis expression rounds them."""
    return np.floor(products * FIXED_POINT + 0.5).astype(np.int64)


def exact_sums(index: np.ndarray, terms: np.ndarray, n: int) -> np.ndarray:
    """int64 sums of non-negative int64 ``terms`` (at most 2³⁰) by ``index`` in ``0..n-1``.

    Two ``np.bincount`` passes over 15-bit halves: each half-sum is an integer below
    2⁵³ for fewer than 2³⁸ terms per index, so the float64 adds are exact whatever their
    order, and the int64 total is the exact sum.
    """
    low = np.bincount(index, weights=terms & _LOW_MASK, minlength=n)
    high = np.bincount(index, weights=terms >> _LOW_BITS, minlength=n)
    return (high.astype(np.int64) << _LOW_BITS) + low.astype(np.int64)


_LOW_BITS = 15
_LOW_MASK = (1 << _LOW_BITS) - 1
