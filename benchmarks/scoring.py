"""Batch-scoring speed: our compiled Ibis expression on DuckDB vs optbinning and interpret.

    .venv/bin/python benchmarks/scoring.py [--rows 10000000] [--baseline-rows 200000] [--repeats 3]

Models are trained on the Taiwan training split (tabular mode, protected attributes
excluded): a scorecard (our optbinning + logistic regression export) and an EBM (our
default settings). ``--rows`` feature rows are drawn from the Taiwan rows (a hash of the
row number picks the source row) into a DuckDB table; each model's compiled expression
scores all of them into a new table — score, band, five sub-scores and four reasons with
texts, everything ``openscore score`` writes.

Baselines, in the same run and on the same rows: optbinning's ``Scorecard.score`` (same
binning process and a logistic regression, fitted the optbinning way) and interpret's
``predict_proba`` of the EBM that our tables were exported from. They are slow, so they
are timed on the first ``--baseline-rows`` rows and their rate extrapolated per row (our
scorer is also timed on that subset, so the like-for-like ratio is reported too; with
``--baseline-rows`` equal to ``--rows`` the two are the same rows). Every measure, the
baselines' and ours, is the median of ``--repeats`` runs. They compute a
score or probability only; ours computes reasons and sub-scores as well.

The batch job's kernel (``scoring/kernel.py``: the feature table streamed from DuckDB as
Arrow batches and scored in numpy, sub-scores, reasons and their texts) is timed on the
same rows: on DuckDB's threads (what ``openscore score`` gives it), on one thread, and on
one thread without texts (read + score, nothing written).

Writes ``benchmarks/results/scoring.json`` and the ``docs/benchmarks.md`` line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import ibis
import numpy as np

from openscore.jobs.score import BATCH_ROWS
from openscore.model import Scaling
from openscore.model.binning_scorecard import quiet_optbinning
from openscore.model.format import Feature, build_scorecard
from openscore.model.selection import make_estimator
from openscore.model.tabular import prepare_tabular, read_table
from openscore.model.training import split_rows
from openscore.scoring import score_table
from openscore.scoring.kernel import ScoringKernel

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, save

ROOT = Path(__file__).resolve().parents[1]
TAIWAN = ROOT.parent / "shared" / "datasets" / "taiwan-default" / "UCI_Credit_Card.csv"


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def timed_median(fn, repeats: int):
    """``fn``'s value and the median of ``repeats`` wall times (one run is at the mercy of
    whatever else the machine does in that second; both sides are timed this way)."""
    runs = [timed(fn) for _ in range(max(1, repeats))]
    return runs[-1][0], float(np.median([secs for _, secs in runs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="times each measure (baselines and ours) is taken; the median is kept",
    )
    args = parser.parse_args()
    n, m = args.rows, min(args.baseline_rows, args.rows)

    df = read_table(TAIWAN)
    data = prepare_tabular(df, "default.payment.next.month", id_column="ID")
    parts = split_rows(data.y, test_size=0.3, random_state=42)
    Xtr, ytr = data.X.iloc[parts["train"]], data.y[parts["train"]]
    scaling = Scaling()
    cards, estimators = {}, {}
    for method in ("scorecard", "ebm"):
        est, secs = timed(
            lambda method=method: make_estimator(method, data.meta, scaling).fit(Xtr, ytr)
        )
        print(f"trained {method} in {secs:.1f}s ({len(est.terms_)} terms)", flush=True)
        used = {f for t in est.terms_ for f in t.features}
        features = [
            Feature(c, data.meta[c].dimension, data.meta[c].type) for c in data.X if c in used
        ]
        cards[method] = build_scorecard(
            method=method,
            scaling=scaling,
            intercept_points=est.intercept_points_,
            features=features,
            terms=est.terms_,
        )
        estimators[method] = est

    # optbinning's own scorecard, for its Scorecard.score
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard
    from sklearn.linear_model import LogisticRegression

    with quiet_optbinning():
        opt = OptScorecard(
            binning_process=BinningProcess(list(data.X.columns)),
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": 40, "odds": 20, "scorecard_points": 600},
        ).fit(Xtr, ytr)

    con = ibis.duckdb.connect()
    threads = con.raw_sql("SELECT current_setting('threads')").fetchall()[0][0]
    src = data.X.copy()
    src.insert(0, "k", np.arange(len(src)))
    con.create_table("taiwan", src)
    cols = ", ".join(f'"{c}"' for c in data.X.columns)
    _, gen = timed(
        lambda: con.raw_sql(
            f"CREATE OR REPLACE TABLE features AS SELECT r.range AS id, {cols} "
            f"FROM range({n}) r JOIN taiwan t ON t.k = hash(r.range) % {len(src)} "
            "ORDER BY r.range"
        )
    )
    con.raw_sql(f"CREATE OR REPLACE TABLE features_sub AS SELECT * FROM features WHERE id < {m}")
    print(f"generated {n:,} feature rows in {gen:.1f}s (DuckDB threads: {threads})", flush=True)
    sub_frame = con.table("features_sub").to_pandas().sort_values("id").reset_index(drop=True)

    results: dict = {
        "rows": n,
        "baseline_rows": m,
        "repeats": args.repeats,
        "duckdb_threads": int(threads),
        "machine": machine(),
        # other work on the machine skews every rate: recorded so a reader can tell
        "load_average_at_start": os.getloadavg(),
        "models": {},
    }
    variants = {
        # what `openscore score` needs minus the texts, which are a lookup by reason code
        "full": lambda e: e.drop([c for c in e.columns if c.endswith(("_text", "_improve"))]),
        "full_with_texts": lambda e: e,
        "score_band": lambda e: e.select("id", "score", "band"),
    }
    for method, card in cards.items():
        entry: dict = {
            "terms": len(card.terms),
            "pair_terms": sum(t.is_pair for t in card.terms),
        }
        for variant, shape in variants.items():
            expr = shape(score_table(card, con.table("features"), "id"))
            sql = ibis.to_sql(expr, dialect="duckdb")
            sub = shape(score_table(card, con.table("features_sub"), "id"))
            sub_sql = ibis.to_sql(sub, dialect="duckdb")
            con.raw_sql(f"CREATE OR REPLACE TABLE warm AS {sub_sql}")  # warm-up
            _, ours = timed_median(
                lambda sql=sql: con.raw_sql(f"CREATE OR REPLACE TABLE scores AS {sql}"),
                args.repeats,
            )
            count = con.raw_sql("SELECT count(*) FROM scores").fetchall()[0][0]
            assert count == n, (count, n)
            _, ours_sub = timed_median(
                lambda s=sub_sql: con.raw_sql(f"CREATE OR REPLACE TABLE s2 AS {s}"), args.repeats
            )
            entry[variant] = {
                "columns": list(expr.columns),
                "sql_chars": len(sql),
                "seconds": round(ours, 3),
                "rows_per_s": n / ours,
                "subset_seconds": round(ours_sub, 3),
                "subset_rows_per_s": m / ours_sub,
            }
            print(
                f"{method} {variant}: {n:,} rows in {ours:.2f}s = {n / ours:,.0f} rows/s",
                flush=True,
            )
        # the kernel the batch job uses (scoring/kernel.py): the feature table streamed
        # from DuckDB as Arrow batches and scored in numpy, texts as dictionary arrays as
        # `openscore score` writes them (read + score, nothing written)
        # one thread, and the DuckDB threads (what `openscore score` gives the kernel)
        kernel_variants = (
            ("kernel", True, int(threads)),
            ("kernel_one_thread", True, 1),
            ("kernel_no_texts", False, 1),
        )
        for variant, texts, nthreads in kernel_variants:
            kernel = ScoringKernel(card, "id", texts=texts, dictionary=True)

            def run(table: str, kernel=kernel, nthreads=nthreads) -> int:
                reader = con.con.sql(f"SELECT * FROM {table}").to_arrow_reader(BATCH_ROWS)
                return sum(b.num_rows for b in kernel.score_batches(reader, threads=nthreads))

            run("features_sub")  # warm-up
            got, ours = timed_median(lambda run=run: run("features"), args.repeats)
            assert got == n, (got, n)
            _, ours_sub = timed_median(lambda run=run: run("features_sub"), args.repeats)
            entry[variant] = {
                "threads": nthreads,
                "seconds": round(ours, 3),
                "rows_per_s": n / ours,
                "subset_seconds": round(ours_sub, 3),
                "subset_rows_per_s": m / ours_sub,
            }
            print(
                f"{method} {variant}: {n:,} rows in {ours:.2f}s = {n / ours:,.0f} rows/s",
                flush=True,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = sub_frame[list(data.X.columns)]
            if method == "scorecard":
                with quiet_optbinning():
                    _, base = timed_median(lambda X=X: opt.score(X), args.repeats)
                entry["baseline"] = "optbinning Scorecard.score"
            else:
                ebm = estimators["ebm"].ebm_
                Xe = X[estimators["ebm"].names_]
                _, base = timed_median(lambda Xe=Xe, ebm=ebm: ebm.predict_proba(Xe), args.repeats)
                entry["baseline"] = "interpret EBM predict_proba"
        entry["baseline_seconds_on_subset"] = round(base, 3)
        entry["baseline_rows_per_s"] = m / base
        entry["baseline_extrapolated_seconds_for_rows"] = round(base * n / m, 1)
        for variant in [*variants, *(v[0] for v in kernel_variants)]:
            v = entry[variant]
            v["speedup"] = v["rows_per_s"] / entry["baseline_rows_per_s"]
            v["speedup_same_subset"] = v["subset_rows_per_s"] / entry["baseline_rows_per_s"]
        results["models"][method] = entry
        print(
            f"{method}: {entry['baseline']} {m / base:,.0f} rows/s (on {m:,} rows); ours "
            + ", ".join(
                f"{v} {entry[v]['speedup']:.1f}× ({entry[v]['speedup_same_subset']:.1f}× same rows)"
                for v in [*variants, *(v[0] for v in kernel_variants)]
            ),
            flush=True,
        )
    results["load_average_at_end"] = os.getloadavg()
    command = shlex.join(["python", "benchmarks/scoring.py", *sys.argv[1:]])
    save("scoring", results, summary(results), command)


def summary(r: dict) -> str:
    """The docs/benchmarks.md line of a scoring.json (also of one measured earlier)."""
    sc, ebm = r["models"]["scorecard"], r["models"]["ebm"]

    def rate(v: dict) -> str:
        return f"{v['rows_per_s'] / 1e6:.2f} M rows/s"

    return (
        f"{r['rows']:,} rows drawn from Taiwan, DuckDB {r['duckdb_threads']} threads, "
        f"baselines on {r['baseline_rows']:,} of them: scorecard score + band "
        f"{rate(sc['score_band'])} = {sc['score_band']['speedup']:.2f}x {sc['baseline']} "
        f"({sc['score_band']['speedup_same_subset']:.2f}x on the same rows); with sub-scores "
        f"and reasons {rate(sc['full'])} = {sc['full']['speedup']:.2f}x, with reason texts "
        f"{rate(sc['full_with_texts'])} = {sc['full_with_texts']['speedup']:.2f}x; EBM "
        f"({ebm['terms']} terms, {ebm['pair_terms']} pairs) with sub-scores and reasons "
        f"{rate(ebm['full'])} = {ebm['full']['speedup']:.2f}x {ebm['baseline']}, score + band "
        f"{ebm['score_band']['speedup']:.2f}x"
        + (
            f"; the batch job's kernel (a compiled loop on Arrow batches read from DuckDB, "
            f"sub-scores, reasons and texts): scorecard {rate(sc['kernel'])} = "
            f"{sc['kernel']['speedup']:.2f}x {sc['baseline']} "
            f"({sc['kernel']['speedup_same_subset']:.2f}x on the same rows), EBM "
            f"{rate(ebm['kernel'])} = {ebm['kernel']['speedup']:.2f}x {ebm['baseline']} "
            f"({ebm['kernel']['speedup_same_subset']:.2f}x on the same rows)"
            if "kernel" in sc
            else ""
        )
        + (
            f"; kernel threads {sc['kernel']['threads']}, on one thread: scorecard "
            f"{sc['kernel_one_thread']['speedup']:.2f}x "
            f"({sc['kernel_one_thread']['speedup_same_subset']:.2f}x same rows), EBM "
            f"{ebm['kernel_one_thread']['speedup']:.2f}x "
            f"({ebm['kernel_one_thread']['speedup_same_subset']:.2f}x same rows)"
            if "kernel_one_thread" in sc
            else ""
        )
        + f"; load average {r['load_average_at_start'][0]:.1f} at start"
        + (
            f", {r['load_average_at_end'][0]:.1f} at end on {r['machine'].get('cpus', 2)} cores"
            if "load_average_at_end" in r
            else ""
        )
    )


if __name__ == "__main__":
    main()
