"""Benchmark: features + scores for 1 M people / ~100 M events on DuckDB.

openscore's path (``openscore score``: the feature modules as one Ibis expression, the
relationships graph, then the feature table streamed as Arrow batches through the
scoring kernel into Parquet) against a baseline in the same run: one
hand-written DuckDB SQL query computing the same features (benchmarks/handwritten_features.py,
held equal to it by tests/features/test_handwritten_baseline.py) written to Parquet.

    .venv/bin/python benchmarks/pipeline.py [--people 1000000] [--months 24] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, python, run_measured, save
from handwritten_features import handwritten_sql

AS_OF = date(2026, 6, 30)


def build_ledger(world: Path, data: Path) -> int:
    """A ledger made directly from the synthetic files (setup, not what is measured)."""
    import duckdb

    from openscore.domain.events import LEDGER_SCHEMA
    from openscore.ledger import Ledger, compact
    from openscore.ledger.manifest import Batch, now_iso
    from openscore.ledger.rewrite import PARQUET_OPTIONS

    ledger = Ledger(data / "ledger")
    select = []
    for f in LEDGER_SCHEMA:
        if f.name == "furnisher_id":
            select.append("'synth' AS furnisher_id")
        elif f.name == "batch_id":
            select.append("'b-setup' AS batch_id")
        elif f.name == "ingested_at":
            select.append("TIMESTAMPTZ '2026-07-01 00:00:00+00' AS ingested_at")
        else:
            select.append(f'"{f.name}"')
    rows = 0
    with ledger.writing() as txn:
        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        for part in sorted((world / "events").rglob("*.parquet")):
            tmp, final = txn.new_segment_path()
            con.execute(
                f"COPY (SELECT {', '.join(select)} FROM read_parquet('{part}')) "
                f"TO '{tmp}' ({PARQUET_OPTIONS})"
            )
            rows += txn.add_segment(tmp, final, sorted=False, batch_id="b-setup").rows
        txn.commit(batch=Batch("b-setup", "synth", rows, 0, 0, now_iso()))
    compact(ledger)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the world and ledger under benchmarks/work/pipeline (for profiling)",
    )
    args = ap.parse_args()
    load_at_start = os.getloadavg()
    work = WORK / "pipeline"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    world, data = work / "world", work / "data"
    print(f"generating {args.people:,} people × {args.months} months")
    run_measured(
        [
            sys.executable,
            "-m",
            "openscore",
            "synth",
            "--people",
            str(args.people),
            "--months",
            str(args.months),
            "--seed",
            "11",
            "--out",
            str(world),
            "--quiet",
        ]
    )
    events = build_ledger(world, data)
    print(f"ledger: {events:,} events")

    from openscore.features.expert import expert_scorecard
    from openscore.ledger import Ledger

    model = work / "expert.json"
    expert_scorecard().save(model)
    env = {"OPENSCORE_DATA_DIR": str(data), "OPENSCORE_AS_OF": AS_OF.isoformat()}
    paths = [str(p) for p in Ledger(data / "ledger").snapshot().paths]
    sql = handwritten_sql(AS_OF).replace("'", "\\'").replace("\n", " ")
    hand = run_measured(
        python(
            "import duckdb; c = duckdb.connect(); c.execute(\"SET TimeZone='UTC'\"); "
            f'c.execute("CREATE VIEW events AS SELECT * FROM read_parquet({paths!r})"); '
            f"c.execute('COPY ({sql}) TO \\'{work / 'hand.parquet'}\\' (FORMAT parquet)')"
        )
    )
    ours = run_measured(
        [
            sys.executable,
            "-m",
            "openscore",
            "score",
            "--model",
            str(model),
            "--out",
            str(work / "scores.parquet"),
        ],
        env=env,
    )
    feats = run_measured(
        [sys.executable, "-m", "openscore", "features", "--out", str(work / "features.parquet")],
        env=env,
    )
    import pyarrow.parquet as pq

    people = pq.read_metadata(work / "scores.parquet").num_rows
    figures = {
        "people": people,
        "events": events,
        "as_of": AS_OF.isoformat(),
        "features_and_scores_seconds": round(ours.seconds, 2),
        "features_and_scores_peak_rss_mb": round(ours.peak_rss_mb),
        "features_only_seconds": round(feats.seconds, 2),
        "handwritten_features_seconds": round(hand.seconds, 2),
        "handwritten_peak_rss_mb": round(hand.peak_rss_mb),
        "ratio_scores_to_handwritten_features": round(ours.seconds / hand.seconds, 2),
        "ratio_features_to_handwritten_features": round(feats.seconds / hand.seconds, 2),
        "ratio_scores_to_features": round(ours.seconds / feats.seconds, 2),
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "events_per_second": round(events / ours.seconds),
    }
    print(figures)
    save(
        "pipeline",
        figures,
        f"{people:,} people / {events / 1e6:.0f} M events: features + scores in "
        f"{ours.seconds:.0f} s (peak {ours.peak_rss_mb:,.0f} MB), features alone "
        f"{feats.seconds:.0f} s = {figures['ratio_features_to_handwritten_features']}x one "
        f"hand-written DuckDB query ({hand.seconds:.0f} s); features + scores = "
        f"{figures['ratio_scores_to_handwritten_features']}x the hand-written query, "
        f"{figures['ratio_scores_to_features']}x features alone (aim < 60 s at 1 M, <= 1.5x); "
        f"load average {load_at_start[0]:.1f} at start, {figures['load_average_at_end'][0]:.1f} "
        f"at end on {os.cpu_count()} cores",
        shlex.join(["python", "benchmarks/pipeline.py", *sys.argv[1:]]),
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
