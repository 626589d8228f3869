"""Trust propagation: only mutual ties, farming adds nothing, no tie lowers anyone, bad
input is named. Run on DuckDB against the numpy reference (``propagate_csr``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.engines.duckdb import connect, ibis_connect
from openscore.errors import InputError
from openscore.features.frame import DAYS_PER_MONTH, AsOf, as_of_view
from openscore.features.graph import (
    GraphParams,
    check_graph,
    ledger_edges,
    mutual_edges,
    network_features,
    propagate,
    propagate_arrays,
    propagate_csr,
    relationship_edges,
    standing_of,
    trust_propagation,
)

from fixtures.data import INPUT_SCHEMA

AS_OF = date(2025, 6, 30)
A = AsOf(AS_OF)
P = GraphParams()
#: a tie old enough for full weight
OLD = A.day - 36 * 31

CON = ibis_connect()


def ids(n: int) -> list[str]:
    return [f"p{i:03d}" for i in range(n)]


EDGE_SCHEMA = pa.schema(
    [("person_id", pa.string()), ("counterparty_id", pa.string()), ("since_day", pa.int64())]
)
PEOPLE_SCHEMA = pa.schema(
    [("person_id", pa.string()), ("standing", pa.float64()), ("vouches", pa.bool_())]
)
#: the expression compiled once (as the online path does): examples then cost one query
TRUST_SQL = ibis.to_sql(
    trust_propagation(
        ibis.table(ibis.Schema.from_pyarrow(EDGE_SCHEMA), name="e"),
        ibis.table(ibis.Schema.from_pyarrow(PEOPLE_SCHEMA), name="p"),
        A,
        strict=False,
    ),
    dialect="duckdb",
)
RAW = connect()


def trust(
    edges: list[tuple[int, int, int]], standing: list[float], vouches: list[bool]
) -> np.ndarray:
    """Ibis (DuckDB) trust of people 0..n-1 over undirected ``(i, j, since_day)``."""
    names = ids(len(standing))
    e = pa.table(
        {
            "person_id": [names[i] for i, j, _ in edges] + [names[j] for i, j, _ in edges],
            "counterparty_id": [names[j] for i, j, _ in edges] + [names[i] for i, j, _ in edges],
            "since_day": [d for *_, d in edges] * 2,
        },
        schema=EDGE_SCHEMA,
    )
    p = pa.table(
        {"person_id": names, "standing": standing, "vouches": vouches}, schema=PEOPLE_SCHEMA
    )
    RAW.register("e", e)
    RAW.register("p", p)
    by = dict(RAW.execute(TRUST_SQL).fetchall())
    return np.array([by[x] for x in names])


def reference(
    edges, standing, vouches, params: GraphParams = P, *, propagation=propagate_csr
) -> np.ndarray:
    a = np.array([i for i, _, _ in edges], dtype=np.int64)
    b = np.array([j for _, j, _ in edges], dtype=np.int64)
    months = np.floor((A.day - np.array([d for *_, d in edges], dtype=float)) / DAYS_PER_MONTH)
    w = np.where(
        months >= params.min_tenure_months, np.minimum(1.0, months / params.full_tenure_months), 0
    )
    return propagation(
        len(standing), a, b, w, np.array(standing, float), np.array(vouches, bool), params
    )


@st.composite
def graphs(draw: st.DrawFn, min_people: int = 2, max_people: int = 10) -> tuple:
    n = draw(st.integers(min_people, max_people))
    standing = draw(
        st.lists(st.sampled_from([0.0, 0.2, 0.5, 1.0]) | st.floats(0, 1), min_size=n, max_size=n)
    )
    vouches = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    pairs = draw(
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda t: t[0] < t[1]),
            max_size=3 * n,
        )
    )
    tenure_days = st.sampled_from([0, 100, 180, 183, 365, 730, 2000]) | st.integers(0, 3000)
    edges = [(i, j, A.day - draw(tenure_days)) for i, j in sorted(pairs)]
    return edges, standing, vouches


@settings(max_examples=50, deadline=None)
@given(graphs())
def test_ibis_matches_the_numpy_reference(g: tuple) -> None:
    got, want = trust(*g), reference(*g)
    # the sums are of fixed-point integers, so equal to the last bit, not approximately
    np.testing.assert_array_equal(got, want)
    assert ((got >= 0) & (got < 1)).all()
    # the batch job's arrays (numpy alone) against both
    np.testing.assert_array_equal(reference(*g, propagation=propagate_arrays), got)


def month_ties(hub: int, leaves: list[int], months: list[int]) -> list[tuple[int, int, int]]:
    """Ties of ``hub`` to ``leaves``, each exactly ``months`` old (whole months)."""
    return [
        (min(hub, leaf), max(hub, leaf), A.day - int(m * DAYS_PER_MONTH) - 1)
        for leaf, m in zip(leaves, months, strict=True)
    ]


@st.composite
def stars_on_a_bin_edge(draw: st.DrawFn) -> tuple:
    """A hub whose sum ``Σ w·r`` is exactly 0.5 or 3 in real numbers (``network_trust``
    0.2 or 0.6, the expert card's bin edges), with its people and ties in any order.

    The leaves have full standing and vouch for nobody but the hub, who does not vouch,
    so each carries ``r = 0.5``; their tie weights are whole months / 24 and add up to
    1 or 6. Added as floats, such sums come out one unit in the last place either side
    of the edge depending on their order."""
    rest = draw(st.sampled_from([24, 144]), label="months in all")
    months = []
    while rest > P.full_tenure_months:
        months.append(draw(st.integers(P.min_tenure_months, min(24, rest - 6))))
        rest -= months[-1]
    months.append(rest)
    n = len(months) + 1
    label = draw(st.permutations(range(n)), label="person order")
    edges = draw(st.permutations(month_ties(label[0], label[1:], months)), label="tie order")
    standing = [1.0] * n
    vouches = [k != label[0] for k in range(n)]
    return edges, standing, vouches, label[0]


@settings(max_examples=60, deadline=None)
@given(stars_on_a_bin_edge())
def test_a_sum_on_a_bin_edge_is_the_same_in_every_order_and_implementation(g: tuple) -> None:
    *graph, hub = g
    got = trust(*graph)
    np.testing.assert_array_equal(reference(*graph), got)
    np.testing.assert_array_equal(reference(*graph, propagation=propagate_arrays), got)
    # whatever the order of the people and the ties: the value of one canonical order
    edges, standing, _, _ = g
    months = sorted(round((A.day - d) // DAYS_PER_MONTH) for *_, d in edges)
    leaves = list(range(1, len(standing)))
    canonical = trust(month_ties(0, leaves, months), standing, [False] + [True] * len(leaves))
    assert got[hub] == canonical[0]
    assert got[hub] == pytest.approx(0.2, abs=1e-8) or got[hub] == pytest.approx(0.6, abs=1e-8)


def test_a_float_sum_on_a_bin_edge_would_depend_on_the_order() -> None:
    """Why the sums are of integers: these eight products ``(months / 24)·0.5`` add up
    to 3 exactly in real numbers, but as floats to 3 in one order and one unit below in
    another, which puts ``network_trust`` either side of the edge 0.6."""
    months = [6, 12, 17, 18, 22, 22, 23, 24]

    def float_sum(order: list[int]) -> float:
        total = 0.0
        for m in order:
            total += (m / 24) * 0.5
        return total

    assert float_sum(months) == 3.0 > float_sum(months[::-1])
    hub_last = [(leaf, 8, d) for leaf, _, d in month_ties(8, list(range(8)), months)]
    standing, vouches = [1.0] * 9, [True] * 8 + [False]
    one, other = trust(hub_last, standing, vouches), trust(hub_last[::-1], standing, vouches)
    assert one[8] == other[8] == reference(hub_last, standing, vouches)[8]
    assert one[8] == 0.6  # the fixed-point sum lands on 3 exactly here


@settings(max_examples=5, deadline=None)
@given(graphs())
def test_a_clean_graph_passes_the_checks(g: tuple) -> None:
    edges, standing, vouches = g
    names = ids(len(standing))
    e = {
        "person_id": [names[i] for i, j, _ in edges] + [names[j] for i, j, _ in edges],
        "counterparty_id": [names[j] for i, j, _ in edges] + [names[i] for i, j, _ in edges],
        "since_day": [d for *_, d in edges] * 2,
    }
    check_graph(
        CON.create_table("ce", pa.table(e, schema=EDGE_SCHEMA), overwrite=True),
        CON.create_table(
            "cp",
            pa.table({"person_id": names, "standing": standing, "vouches": vouches}),
            overwrite=True,
        ),
    )


@settings(max_examples=50, deadline=None)
@given(graphs(), st.data())
def test_a_ring_of_new_or_unverified_accounts_adds_nothing(g: tuple, data: st.DataObject) -> None:
    edges, standing, vouches = g
    n = len(standing)
    before = reference(edges, standing, vouches)
    m = data.draw(st.integers(2, 6), label="ring size")
    unverified = data.draw(st.booleans(), label="unverified (else: new ties)")
    fake = list(range(n, n + m))
    # a ring, plus ties from every fake account to people of the graph
    ring = [(fake[k], fake[(k + 1) % m]) for k in range(m)] if m > 2 else [(fake[0], fake[1])]
    targets = data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m), label="targets")
    ties = ring + [(t, f) for f, t in zip(fake, targets, strict=True)]
    if unverified:  # any tenure, full standing, but no verified identity / own history
        since = data.draw(st.sampled_from([OLD, A.day - 400, A.day]), label="since")
        extra = [(min(i, j), max(i, j), since) for i, j in ties]
        f_vouch = [False] * m
    else:  # verified and high standing, but every tie younger than the minimum tenure
        young = A.day - data.draw(st.integers(0, 6 * 30), label="tie age")
        extra = [(min(i, j), max(i, j), young) for i, j in ties]
        f_vouch = [True] * m
    grown = (edges + extra, standing + [1.0] * m, vouches + f_vouch)
    after_ibis = trust(*grown)
    np.testing.assert_array_equal(after_ibis[:n], before)
    # the fake accounts themselves get only what real vouchers give them
    np.testing.assert_array_equal(after_ibis[n:], reference(*grown)[n:])


@settings(max_examples=50, deadline=None)
@given(graphs(min_people=3), st.data())
def test_no_connection_lowers_anyone(g: tuple, data: st.DataObject) -> None:
    """Adding a tie never lowers anyone's trust: nobody gains by dropping a friend."""
    edges, standing, vouches = g
    n = len(standing)
    present = {(i, j) for i, j, _ in edges}
    free = [(i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in present]
    if not free:
        return
    i, j = data.draw(st.sampled_from(free))
    since = A.day - data.draw(st.integers(0, 3000))
    before = reference(edges, standing, vouches)
    after = trust(edges + [(i, j, since)], standing, vouches)
    assert (after >= before - 1e-15).all()


def test_trust_saturates_and_vouching_is_bounded_by_standing() -> None:
    n = 400
    star = [(0, k, OLD) for k in range(1, n)]
    t = reference(star, [1.0] * n, [True] * n)
    assert 0.99 < t[0] < 1.0
    # a low-standing intermediary cannot pass on more than its own standing
    chain = [(0, 1, OLD), (1, 2, OLD)] + [(2, k, OLD) for k in range(3, 50)]
    low = trust(chain, [0.0, 0.05] + [1.0] * 48, [True] * 50)
    high = trust(chain, [0.0, 1.0] + [1.0] * 48, [True] * 50)
    bound = 0.05 / (0.05 + P.saturation)  # sat of one full-weight tie at standing 0.05
    assert low[0] <= bound + 1e-12 < high[0]


def test_nobody_without_trusted_ties_gets_anything() -> None:
    edges = [(0, 1, OLD), (1, 2, A.day - 30)]  # 1-2 too young
    t = trust(edges, [1.0, 0.0, 1.0], [False, True, True])
    assert t.tolist() == [0.0, 0.0, 0.0]  # 0 does not vouch, 1 has no standing, 2 is new


# -- from the ledger ------------------------------------------------------------------------

T0 = datetime(2025, 6, 30, 12, tzinfo=UTC)


def row(**kw: object) -> dict:
    r = dict.fromkeys(INPUT_SCHEMA.names)
    r.update(kw)
    return r


def tie(a: str, b: str, days_ago: int) -> dict:
    return row(
        type="relationship",
        source="social",
        person_id=a,
        counterparty_id=b,
        occurred_at=T0 - timedelta(days=days_ago),
    )


def ledger_view(rows: list[dict]):
    for i, r in enumerate(rows):
        r["event_id"] = f"e{i}"
    t = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    t = t.append_column("furnisher_id", pa.array(["f"] * t.num_rows, pa.string()))
    return as_of_view(CON.create_table("ev", t, overwrite=True), A)


def test_only_mutual_ties_count_dated_by_the_later_side() -> None:
    ev = ledger_view(
        [
            tie("a", "b", 800),
            tie("b", "a", 500),  # mutual since 500 days ago
            tie("a", "b", 100),  # a duplicate: the earliest of a's side is kept
            tie("a", "c", 900),  # c never names a: one-sided (c does not share social)
            tie("d", "d", 900),  # a self-loop
            tie("e", "f", 900),
            tie("f", "e", -3),  # f's side is in the future: not yet mutual
        ]
    )
    got = CON.to_pyarrow(mutual_edges(relationship_edges(ev))).to_pylist()
    assert got == [{"a": "a", "b": "b", "since_day": A.day - 500}]
    # the same in one aggregation of the events (what the jobs read)
    assert CON.to_pyarrow(ledger_edges(ev)).to_pylist() == got


def test_vouching_needs_a_verified_identity_and_a_year_of_own_history() -> None:
    def person(pid: str, verified: bool, history_days: int) -> list[dict]:
        return [
            row(
                type="profile_fact",
                source="profile",
                person_id=pid,
                occurred_at=T0 - timedelta(days=history_days),
                fact="identity",
                verified=verified,
            ),
            row(
                type="payment",
                source="wallet",
                person_id=pid,
                occurred_at=T0 - timedelta(days=history_days),
                channel="online",
                amount=10.0,
                currency="CNY",
            ),
        ]

    rows = (
        person("me", True, 30)
        + person("good", True, 500)
        + person("unverified", False, 500)
        + person("new", True, 200)
    )
    for other in ("good", "unverified", "new"):
        rows += [tie("me", other, 900), tie(other, "me", 900)]
    ev = ledger_view(rows)
    scores = CON.create_table(
        "scores",
        pa.table({"person_id": ["me", "good", "unverified", "new"], "score": [500, 700, 700, 700]}),
        overwrite=True,
    )
    got = {
        r["person_id"]: r["network_trust"]
        for r in CON.to_pyarrow(network_features(ev, A, scores)).to_pylist()
    }
    only_good = trust([(0, 1, OLD)], [0.0, 1.0], [False, True])[0]
    assert got["me"] == only_good
    assert got["good"] == got["unverified"] == got["new"] == 0.0  # "me" has no standing
    # an unscorable voucher (no stage-1 score) carries no standing: nothing for "me"
    unscorable = CON.create_table(
        "scores",
        pa.table(
            {
                "person_id": ["me", "good", "unverified", "new"],
                "score": pa.array([500, None, 700, 700], pa.int64()),
            }
        ),
        overwrite=True,
    )
    again = CON.to_pyarrow(network_features(ev, A, unscorable)).to_pylist()
    assert {r["person_id"]: r["network_trust"] for r in again}["me"] == 0.0


def test_standing_is_null_without_a_score_and_clipped_to_0_1() -> None:
    """Not ``greatest(0, least(1, s))``: ``least`` skips nulls on DuckDB and Spark, which
    gave an unscorable person standing 1."""
    scores = pa.table({"score": pa.array([None, 560, 600, 640, 680, 720], pa.int64())})
    t = CON.create_table("standing", scores, overwrite=True)
    got = CON.to_pyarrow(t.select(s=standing_of(t.score, P)))["s"].to_pylist()
    assert got == [None, 0.0, 0.0, 0.5, 1.0, 1.0]


# -- bad input ---------------------------------------------------------------------------


def direct(edges: list[tuple], people: list[tuple], strict: bool = True):
    e = pa.table(
        {
            "person_id": [x[0] for x in edges],
            "counterparty_id": [x[1] for x in edges],
            "since_day": [OLD] * len(edges),
        },
        schema=EDGE_SCHEMA,
    )
    p = pa.table(
        {
            "person_id": [x[0] for x in people],
            "standing": [x[1] for x in people],
            "vouches": [x[2] for x in people],
        },
        schema=PEOPLE_SCHEMA,
    )
    expr = trust_propagation(
        CON.create_table("be", e, overwrite=True),
        CON.create_table("bp", p, overwrite=True),
        A,
        strict=strict,
    )
    return {r["person_id"]: r["network_trust"] for r in CON.to_pyarrow(expr).to_pylist()}


PEOPLE = [("a", 1.0, True), ("b", 1.0, True), ("c", 0.5, True)]
GOOD = [("a", "b"), ("b", "a")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([("c", "c")], "self-loops: 1 (e.g. c) — nobody can vouch for themselves"),
        ([("a", "b")], "duplicate edges: 1 (e.g. a → b)"),
        ([("a", "c")], "one-sided edges: 1 (e.g. a → c) — only mutual connections count"),
        ([("a", "zz"), ("zz", "a")], "unknown people in edges: 1 (e.g. zz)"),
        ([(None, "a")], "edges with an empty end or date: 1"),
    ],
)
def test_bad_edges_are_named(extra: list[tuple], message: str) -> None:
    with pytest.raises(InputError, match="bad graph") as err:
        direct(GOOD + extra, PEOPLE)
    assert message in str(err.value)
    assert err.value.field == "edges"
    # not strict: the bad edges are dropped and the rest is scored as if they were not there
    assert direct(GOOD + extra, PEOPLE, strict=False) == direct(GOOD, PEOPLE)


def test_every_problem_is_reported_at_once_and_people_are_checked() -> None:
    with pytest.raises(InputError) as err:
        direct(GOOD + [("c", "c"), ("a", "c")], [*PEOPLE, ("a", 2.0, True)])
    text = str(err.value)
    for part in ("self-loops: 1", "one-sided edges: 1", "people listed twice: 1"):
        assert part in text
    with pytest.raises(InputError, match="standing in \\[0, 1\\]"):
        direct(GOOD, [("a", 1.5, True), ("b", None, True)])


def test_missing_columns_and_bad_parameters_are_named() -> None:
    e = CON.create_table("x", pa.table({"person_id": ["a"], "to": ["b"]}), overwrite=True)
    p = CON.create_table("y", pa.table({"person_id": ["a"]}), overwrite=True)
    with pytest.raises(InputError, match="lack columns: counterparty_id, since_day"):
        trust_propagation(e, p, A)
    with pytest.raises(InputError, match="damping"):
        GraphParams(damping=1.5)
    with pytest.raises(InputError, match="full_score"):
        GraphParams(neutral_score=700, full_score=650)


def test_propagate_alone_takes_clean_edges() -> None:
    """The ledger path: ``propagate`` over ``mutual_edges`` output, with integer ids too."""
    e = CON.create_table(
        "ie", pa.table({"a": [0, 1], "b": [1, 2], "since_day": [OLD, OLD]}), overwrite=True
    )
    p = CON.create_table(
        "ip",
        pa.table({"person_id": [0, 1, 2], "standing": [1.0, 1.0, 0.0], "vouches": [True] * 3}),
        overwrite=True,
    )
    got = sorted(CON.to_pyarrow(propagate(e, p, A)).to_pylist(), key=lambda r: r["person_id"])
    want = reference([(0, 1, OLD), (1, 2, OLD)], [1.0, 1.0, 0.0], [True] * 3)
    assert [r["network_trust"] for r in got] == want.tolist()
