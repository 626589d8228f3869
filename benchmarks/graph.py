"""Trust propagation (features/graph.py) on 1 M people / 20 M edges: DuckDB vs scipy.sparse.

    .venv/bin/python benchmarks/graph.py [--people 1000000] [--edges 20000000]
                                         [--sample 100000] [--threads N]
    .venv/bin/python benchmarks/graph.py auc [--people 50000] [--seed 1]

**The graph** is generated here with numpy, not with ``openscore synth``: the synthetic
world writes a relationship only when both people share ``social`` (about 12 % of its
friendships), so a 1 M-person world holds ~1.2 M connections, far fewer than the 20 M
asked for; generating 10 M+ people to get them would take the benchmark's time on the
generator. The generator's *shape* is copied instead: each person starts a
Lomax-distributed number of connections (tail index 2.3, as ``synth/graph.py``), each to
someone ``1 + Exponential(25 + k)`` places away in id order (locality, as cities and
homophily give), then self-loops and duplicates are removed; exactly ``--edges``
undirected connections are kept (each is stored once, ``a < b``; 20 M connections =
40 M directed edges, mean degree 40). Connections started uniformly over the last 8
years; standing is Beta(2, 2) for 60 % of people and 0 for the rest; 70 % vouch. Files:
``benchmarks/work/graph/{edges,people}.parquet`` (reused unless ``--fresh``).

**Measured, in this one process, from the same Parquet files to the result in memory**:

* ``duckdb``: ``features.graph.propagate`` (the Ibis expression the jobs run: tenure
  weights, both directions, 3 rounds of iterative joins, the final collection), executed
  by DuckDB into an Arrow table. Also, separately, ``mutual_edges`` + ``propagate`` from
  the 40 M *directed* rows the ledger would hold (the dedup/mutuality join included).
* ``scipy``: ``features.graph.propagate_csr``, the same rule as a scipy.sparse CSR power
  iteration: reading the Parquet with pyarrow, the tenure weights in numpy, building the
  CSR matrix, the rounds. The two results are compared person by person.
* ``networkx`` on a ``--sample``-person sample (the first ids and the connections among
  them): building the ``nx.Graph`` and the same rounds over its adjacency in Python; the
  per-edge rate is extrapolated to the full graph, to show why not.

``auc``: a synthetic world (``openscore synth``, 24 months) ingested into a ledger, then
event-mode training (``jobs.train_from_events``), scorecard and EBM, once as shipped (the
relationships term is kept only if it passes the held-out check) and once with the term
forced in: test AUC with and without it, overall and among people who share ``social``,
with a paired-bootstrap 95 % interval of the difference; and, for comparison, the plain
mean of one's connections' stage-1 scores with no anti-farming rule (a logistic model
beside the base score), close to the generator's own quick check.

Writes ``benchmarks/results/graph.json`` (``graph-auc.json``; ``graph-auc-<people>.json`` for
another size) and the ``docs/benchmarks.md`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, save

AS_OF = date(2026, 6, 30)
DIR = WORK / "graph"


# -- the graph -------------------------------------------------------------------------------


def generate(people: int, edges: int, seed: int, out: Path) -> dict:
    """A heavy-tailed, local graph of exactly ``edges`` undirected connections."""
    from openscore.features.frame import AsOf

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    tail = 2.3
    started_mean = edges / people * 1.2  # lost: flooring, duplicates (some are dropped)
    k = np.minimum((rng.pareto(tail, people) * started_mean * (tail - 1)).astype(np.int64), 1000)
    src = np.repeat(np.arange(people, dtype=np.int64), k)
    spread = 25.0 + np.repeat(k, k)
    hop = 1 + rng.exponential(spread).astype(np.int64)
    side = np.where(rng.random(len(src)) < 0.5, -1, 1)
    dst = (src + side * hop) % people
    keep = src != dst
    a, b = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    key = np.unique(a * people + b)
    if len(key) < edges:
        raise SystemExit(f"only {len(key):,} distinct edges; raise the started mean")
    key = rng.choice(key, edges, replace=False)
    key.sort()
    a, b = key // people, key % people
    day = AsOf(AS_OF).day
    since = day - rng.integers(0, 8 * 365, edges)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table({"a": a, "b": b, "since_day": since}),
        out / "edges.parquet",
        row_group_size=1 << 20,
    )
    standing = np.where(rng.random(people) < 0.6, rng.beta(2, 2, people), 0.0)
    vouches = rng.random(people) < 0.7
    pq.write_table(
        pa.table(
            {
                "person_id": np.arange(people, dtype=np.int64),
                "standing": standing,
                "vouches": vouches,
            }
        ),
        out / "people.parquet",
    )
    degree = np.bincount(np.concatenate([a, b]), minlength=people)
    return {
        "people": people,
        "edges": edges,
        "directed_edges": 2 * edges,
        "seconds": round(time.perf_counter() - t0, 1),
        "degree_mean": round(float(degree.mean()), 2),
        "degree_median": float(np.median(degree)),
        "degree_p99": float(np.quantile(degree, 0.99)),
        "degree_max": int(degree.max()),
    }


# -- the three implementations -------------------------------------------------------------


def run_duckdb(threads: int | None) -> tuple[dict, np.ndarray]:
    import ibis

    from openscore.engines.duckdb import ibis_connect
    from openscore.features.frame import AsOf
    from openscore.features.graph import mutual_edges, propagate

    con = ibis_connect(threads=threads)
    edges = con.read_parquet(str(DIR / "edges.parquet"))
    people = con.read_parquet(str(DIR / "people.parquet"))
    a = AsOf(AS_OF)
    t0 = time.perf_counter()
    result = con.to_pyarrow(propagate(edges, people, a))
    seconds = time.perf_counter() - t0
    trust = _by_person(result)

    # the ledger path: 40 M directed rows -> mutual edges -> propagation
    directed = edges.select(person_id=edges.a, counterparty_id=edges.b, since_day=edges.since_day)
    directed = directed.union(
        edges.select(person_id=edges.b, counterparty_id=edges.a, since_day=edges.since_day),
        distinct=False,
    )
    con.create_table("directed", directed, temp=True)  # as the ledger would hold it
    stored = con.table("directed")
    t0 = time.perf_counter()
    via_ledger = con.to_pyarrow(propagate(mutual_edges(stored), people, a))
    ledger_seconds = time.perf_counter() - t0
    same = np.allclose(_by_person(via_ledger), trust, rtol=1e-9, atol=1e-12)
    con.disconnect()
    del ibis
    return {
        "seconds": round(seconds, 2),
        "from_directed_rows_seconds": round(ledger_seconds, 2),
        "from_directed_rows_same_result": bool(same),
        "threads": threads or os.cpu_count(),
    }, trust


def _by_person(table: pa.Table) -> np.ndarray:
    ids = table["person_id"].to_numpy()
    out = np.empty(len(ids))
    out[ids] = table["network_trust"].to_numpy()
    return out


def run_scipy() -> tuple[dict, np.ndarray]:
    import scipy.sparse  # noqa: F401 - imported before the clock starts

    from openscore.features.frame import DAYS_PER_MONTH, AsOf
    from openscore.features.graph import GraphParams, propagate_csr

    p = GraphParams()
    t0 = time.perf_counter()
    e = pq.read_table(DIR / "edges.parquet")
    people = pq.read_table(DIR / "people.parquet")
    a, b = e["a"].to_numpy(), e["b"].to_numpy()
    months = np.floor((AsOf(AS_OF).day - e["since_day"].to_numpy()) / DAYS_PER_MONTH)
    w = np.where(months >= p.min_tenure_months, np.minimum(1.0, months / p.full_tenure_months), 0)
    n = people.num_rows
    read = time.perf_counter() - t0
    trust = propagate_csr(
        n, a, b, w, people["standing"].to_numpy(), people["vouches"].to_numpy(), p
    )
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "read_and_weights_seconds": round(read, 2)}, trust


def run_networkx(sample: int) -> dict:
    import networkx as nx
    import psutil

    from openscore.features.frame import DAYS_PER_MONTH, AsOf
    from openscore.features.graph import GraphParams

    p = GraphParams()
    e = pq.read_table(
        DIR / "edges.parquet", filters=[("a", "<", sample), ("b", "<", sample)]
    ).to_pandas()
    people = pq.read_table(DIR / "people.parquet").to_pandas().iloc[:sample]
    rss0 = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    months = np.floor((AsOf(AS_OF).day - e["since_day"].to_numpy()) / DAYS_PER_MONTH)
    w = np.where(months >= p.min_tenure_months, np.minimum(1.0, months / p.full_tenure_months), 0)
    g = nx.Graph()
    g.add_nodes_from(range(sample))
    g.add_weighted_edges_from(
        (int(x), int(y), float(z)) for x, y, z in zip(e["a"], e["b"], w, strict=True) if z > 0
    )
    built = time.perf_counter() - t0
    graph_mb = (psutil.Process().memory_info().rss - rss0) / 2**20
    s = np.where(people["vouches"] & (people["standing"] > 0), people["standing"], 0.0)
    alpha, kappa = p.damping, p.saturation
    r = {i: (1 - alpha) * s[i] for i in range(sample)}
    for _ in range(p.iterations):
        nxt = {}
        for i in range(sample):
            x = sum(d["weight"] * r[j] for j, d in g.adj[i].items())
            nxt[i] = s[i] * ((1 - alpha) + alpha * x / (x + kappa))
        r = nxt
    trust = {}
    for i in range(sample):
        x = sum(d["weight"] * r[j] for j, d in g.adj[i].items())
        trust[i] = x / (x + kappa)
    seconds = time.perf_counter() - t0
    return {
        "people": sample,
        "edges": int(len(e)),
        "build_seconds": round(built, 2),
        "graph_memory_mb": round(graph_mb),
        "seconds": round(seconds, 2),
        "seconds_per_million_edges": round(seconds / max(1, len(e)) * 1e6, 2),
    }


# -- AUC with and without the relationships dimension ---------------------------------------


def auc_study(people: int, seed: int, methods: list[str]) -> None:
    import subprocess

    from openscore.engines.duckdb import DuckDBEngine
    from openscore.jobs import train_from_events
    from openscore.ledger import Ledger

    root = DIR / f"auc-{people}-{seed}"
    world, data = root / "world", root / "data"
    if not (data / "ledger" / "manifest.json").exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        exe = [sys.executable, "-m", "openscore"]
        subprocess.run(
            [
                *exe,
                "synth",
                "--people",
                str(people),
                "--months",
                "24",
                "--seed",
                str(seed),
                "--out",
                str(world),
                "--quiet",
            ],
            check=True,
        )
        env = {**os.environ, "OPENSCORE_DATA_DIR": str(data)}
        subprocess.run(
            # a synthetic world and no registry: nobody's data, consent not checked
            [*exe, "ingest", str(world / "events"), "--furnisher", "synth", "--no-consent-check"],
            check=True,
            env=env,
            capture_output=True,
        )
    engine = DuckDBEngine()
    ledger = Ledger(data / "ledger")
    outcomes = world / "outcomes.parquet"
    figures: dict = {"people": people, "seed": seed, "months": 24}
    for method in methods:
        t0 = time.perf_counter()
        card = train_from_events(engine, ledger, outcomes, method=method)  # as shipped
        kept = card.training["relationships"]
        # the same without the held-out check: what the term would have done
        forced = train_from_events(engine, ledger, outcomes, method=method, relationships_cv=0)
        rel = forced.metrics.get("relationships") or {}
        figures[method] = {
            "term_kept": not kept.get("why_no_term"),
            "why_no_term": kept.get("why_no_term"),
            "cv_log_likelihood_gain": kept.get("cv_log_likelihood_gain"),
            "shipped_test_auc": card.metrics["test"]["auc"],
            "without_check": {
                **rel,
                "points": forced.training["relationships"].get("points"),
                "edges": forced.training["relationships"].get("edges"),
                "train_rows": forced.training["relationships"].get("rows"),
                "train_rows_sharing": forced.training["relationships"].get("rows_sharing"),
                "train_rows_with_trust": forced.training["relationships"].get("rows_with_trust"),
            },
            "seconds": round(time.perf_counter() - t0, 1),
        }
        figures[method]["friends_average"] = friends_average(engine, ledger, outcomes, card)
    parts = []
    for method in methods:
        f, g = figures[method], figures[method]["without_check"]
        verdict = "term kept" if f["term_kept"] else "term dropped by the held-out check"
        parts.append(
            f"{method}: {verdict}; forced in, test AUC {g['test_auc_without']:.4f} -> "
            f"{g['test_auc_with']:.4f} ({g['test_auc_gain']:+.4f}, 95 % CI "
            f"{_ci(g.get('test_auc_gain_ci95'))}), among people sharing social "
            f"{g['test_auc_sharing_without']:.4f} -> {g['test_auc_sharing_with']:.4f}"
        )
    fa = figures[methods[0]]["friends_average"]
    parts.append(
        f"for comparison, no rule at all (mean stage-1 score of all mutual connections "
        f"beside the {methods[0]} score, logistic): {fa['test_auc_without']:.4f} -> "
        f"{fa['test_auc_with']:.4f}; the same with friends' standing (only above 600) "
        f"{fa['test_auc_with_standing_only']:.4f}"
    )
    save(
        "graph-auc" if people == 50_000 else f"graph-auc-{people}",
        figures,
        f"{people:,} synthetic people (seed {seed}): " + "; ".join(parts),
        f"python benchmarks/graph.py auc --people {people} --seed {seed}",
    )


def _ci(interval: list[float] | None) -> str:
    return f"{interval[0]:+.4f} to {interval[1]:+.4f}" if interval else "n/a"


def friends_average(engine, ledger, outcomes, card) -> dict:
    """Test AUC of a logistic model on the base score with and without the plain mean of
    one's mutual connections' stage-1 scores (no vouching rule, no tenure): the ceiling
    the anti-farming rules give up, for comparison."""
    from sklearn.linear_model import LogisticRegression

    from openscore.features import build_features
    from openscore.features.frame import AsOf, as_of_view
    from openscore.features.graph import mutual_edges, relationship_edges
    from openscore.jobs.train import read_outcomes
    from openscore.model.metrics import auc
    from openscore.model.relationships import stage_one_card
    from openscore.model.training import split_rows
    from openscore.scoring import score_table

    out, as_of = read_outcomes(outcomes)
    events = engine.ledger(ledger.snapshot().paths)
    base = stage_one_card(card)
    scores = score_table(base, build_features(events, as_of), "person_id", texts=False)
    scores = scores.select("person_id", "score")
    edges = mutual_edges(relationship_edges(as_of_view(events, AsOf(as_of))))
    both = edges.select(p=edges.a, q=edges.b).union(edges.select(p=edges.b, q=edges.a))
    j = both.join(scores, both.q == scores.person_id)
    standing = ((j.score - 600.0) / 80.0).clip(lower=0.0, upper=1.0)
    mean = j.group_by(person_id=j.p).aggregate(
        friends=j.score.mean(), friends_standing=standing.mean()
    )
    s = engine.to_pandas(scores).merge(engine.to_pandas(mean), on="person_id", how="left")
    df = out[["person_id", "defaulted_12m"]].merge(s, on="person_id", how="left")
    df = df.sort_values("person_id").reset_index(drop=True)
    # people without a single event score the intercept (every feature missing)
    df["score"] = df["score"].fillna(
        min(max(base.intercept_points, base.scaling.score_min), base.scaling.score_max)
    )
    y = df["defaulted_12m"].to_numpy()
    parts = split_rows(y, test_size=0.3, random_state=42)
    has = df["friends"].notna().to_numpy()
    f = np.where(has, df["friends"].fillna(0) - 600.0, 0.0) / 40.0
    x0 = df[["score"]].to_numpy() / 40.0
    x1 = np.column_stack([x0, f, has])
    # the same with only the part above the neutral point (standing), so that a friend
    # can only help: what "can only raise" costs, before any anti-farming rule
    x2 = np.column_stack([x0, df["friends_standing"].fillna(0).to_numpy(), has])
    tr, te = parts["train"], parts["test"]
    p0 = LogisticRegression().fit(x0[tr], y[tr]).decision_function(x0[te])
    p1 = LogisticRegression().fit(x1[tr], y[tr]).decision_function(x1[te])
    p2 = LogisticRegression().fit(x2[tr], y[tr]).decision_function(x2[te])
    return {
        "test_auc_without": auc(y[te], -p0),
        "test_auc_with": auc(y[te], -p1),
        "test_auc_sharing_without": auc(y[te][has[te]], -p0[has[te]]),
        "test_auc_sharing_with": auc(y[te][has[te]], -p1[has[te]]),
        "test_auc_with_standing_only": auc(y[te], -p2),
        "test_auc_sharing_with_standing_only": auc(y[te][has[te]], -p2[has[te]]),
    }


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "auc":
        ap = argparse.ArgumentParser(prog="graph.py auc")
        ap.add_argument("--people", type=int, default=50_000)
        ap.add_argument("--seed", type=int, default=1)
        ap.add_argument("--methods", default="scorecard,ebm")
        args = ap.parse_args(sys.argv[2:])
        auc_study(args.people, args.seed, args.methods.split(","))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=20_000_000)
    ap.add_argument("--sample", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()

    marker = DIR / f"made-{args.people}-{args.edges}-{args.seed}"
    if args.fresh or not marker.exists():
        for old in DIR.glob("made-*"):
            old.unlink()
        print(f"generating {args.people:,} people / {args.edges:,} edges ...", flush=True)
        graph = generate(args.people, args.edges, args.seed, DIR)
        marker.write_text(repr(graph))
    else:
        graph = eval(marker.read_text())
    print(f"graph: {graph}", flush=True)

    scipy_figures, want = run_scipy()
    print(f"scipy: {scipy_figures}", flush=True)
    duck_figures, got = run_duckdb(args.threads)
    print(f"duckdb: {duck_figures}", flush=True)
    diff = float(np.max(np.abs(got - want)))
    nx_figures = run_networkx(args.sample)
    print(f"networkx: {nx_figures}", flush=True)
    nx_full = nx_figures["seconds_per_million_edges"] * graph["edges"] / 1e6
    nx_gb = nx_figures["graph_memory_mb"] / max(1, nx_figures["edges"]) * graph["edges"] / 1024
    ratio = duck_figures["seconds"] / scipy_figures["seconds"]
    figures = {
        "graph": {**graph, "generator": "numpy in this benchmark (synth's shape)"},
        "duckdb": duck_figures,
        "scipy": scipy_figures,
        "networkx": {
            **nx_figures,
            "extrapolated_full_seconds": round(nx_full),
            "extrapolated_full_memory_gb": round(nx_gb, 1),
        },
        "max_abs_difference": diff,
        "ratio_duckdb_to_scipy": round(ratio, 2),
        "load_average_at_start": os.getloadavg()[0],
    }
    summary = (
        f"{graph['people'] / 1e6:g} M people / {graph['edges'] / 1e6:g} M connections "
        f"({graph['directed_edges'] / 1e6:g} M directed): DuckDB {duck_figures['seconds']} s "
        f"({ratio:.2f}x scipy.sparse CSR {scipy_figures['seconds']} s, of which "
        f"{scipy_figures['read_and_weights_seconds']} s reading and weights; same values "
        f"to {diff:.0e}); from the {graph['directed_edges'] / 1e6:g} M directed rows incl. the "
        f"mutual join "
        f"{duck_figures['from_directed_rows_seconds']} s; networkx "
        f"{nx_figures['seconds']} s on {nx_figures['people'] // 1000} k people / "
        f"{nx_figures['edges'] / 1e6:.1f} M edges (~{nx_full:,.0f} s and ~{nx_gb:.0f} GB "
        f"extrapolated) "
        f"(aim < 30 s, <= 2x scipy; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores)"
    )
    cmd = "python benchmarks/graph.py"
    if (args.people, args.edges) != (1_000_000, 20_000_000):
        cmd += f" --people {args.people} --edges {args.edges}"
    save("graph", figures, summary, cmd)


if __name__ == "__main__":
    main()
