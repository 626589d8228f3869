"""Benchmark of the DP city map: the error the noise adds, per city-size band, at ε = 1.

    .venv/bin/python benchmarks/dp_map.py [--people 100000 --repeats 20 --epsilon 1]

Makes a synthetic world (``openscore synth``, 13 months, seed 1; kept in
``benchmarks/work/dp_map/`` and reused when it is there), trains a scorecard on it (event
features, ``method=scorecard``), scores everyone and places them in their city
(``people.parquet``, the public list ``cities.parquet``). Then draws ``--repeats``
independent releases (``release_city_map``: ε split evenly between the band histogram and
the score sums, k = 20) and measures each against the true figures of the same people:
mean absolute error of the mean score (points) and of the band shares (share points,
the five bands averaged), of the count; and how often the noisy suppression misjudges a
city. Baseline in the same run: the true values — the between-city spread (standard
deviation) of the true mean scores in each band, the yardstick the map is read against,
and the sampling error a city's true mean already has (score SD / √n).

Results: ``benchmarks/results/dp_map.json`` and a line in ``docs/benchmarks.md``. No
registry is touched and no budget spent: this is synthetic data.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, save
from openscore.fairness.inputs import read_directory
from openscore.jobs.train import feature_meta
from openscore.model import train_model
from openscore.model.apply import scores_of
from openscore.privacy import (
    measure_error,
    place_people,
    public_cities,
    release_city_map,
    residences_from_file,
    true_city_stats,
)
from openscore.synth import RunOptions, generate, parse_params

BANDS = ("mega", "large", "medium", "small", "all")


def world(people: int, seed: int, workers: int) -> Path:
    out = WORK / "dp_map" / f"world-{people}-s{seed}"
    if not (out / "manifest.json").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(
            parse_params(people=people, months=13, seed=seed), out, RunOptions(workers=workers)
        )
        print(f"generated {people:,} people in {time.perf_counter() - t:.0f} s")
    return out


def scored_people(root: Path) -> tuple[pd.DataFrame, dict]:
    t = time.perf_counter()
    prepared = read_directory(root)
    X = prepared.features
    X = X.loc[:, X.notna().any()]
    meta = {c: m for c, m in feature_meta().items() if c in X.columns}
    X = X[list(meta)]
    card = train_model(X, prepared.frame["defaulted_12m"].astype(int), meta, method="scorecard")
    scores = pd.DataFrame({"person_id": prepared.frame["person_id"], "score": scores_of(card, X)})
    info = {
        "model": card.model_id,
        "model_test_auc": round(card.metrics["test"]["auc"], 4),
        "score_mean": round(float(scores["score"].mean()), 1),
        "score_sd": round(float(scores["score"].std()), 1),
        "seconds_features_and_training": round(time.perf_counter() - t, 1),
    }
    return scores, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    root = world(args.people, args.seed, args.workers)
    scores, model_info = scored_people(root)
    cities = public_cities(root / "cities.parquet")
    people = place_people(scores, residences_from_file(root / "people.parquet"), cities)
    truth = true_city_stats(people, cities)

    errors: list[dict] = []
    seconds = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        release = release_city_map(people, cities, epsilon=args.epsilon, k=args.k)
        seconds.append(time.perf_counter() - t)
        errors.append(measure_error(release, truth, args.k))

    score_sd = float(people["score"].std())
    figures: dict[str, dict] = {}
    for band in BANDS:
        runs = [e[band] for e in errors if band in e]
        part = truth if band == "all" else truth[truth["size_band"] == band]
        big = part[part["people"] >= args.k]

        def avg(key: str, runs: list[dict] = runs) -> float:
            values = [r[key] for r in runs if not math.isnan(r[key])]
            return float(np.mean(values)) if values else math.nan

        spread = float(big["mean_score"].std(ddof=1)) if len(big) > 1 else math.nan
        mae = avg("mean_score_mae_points")
        figures[band] = {
            "cities": int(len(part)),
            "cities_with_k_or_more": int(len(big)),
            "median_people": float(part["people"].median()),
            "published_mean": avg("published"),
            "mean_score_mae_points": round(mae, 2),
            "mean_score_mae_sd_over_repeats": round(
                float(np.std([r["mean_score_mae_points"] for r in runs])), 2
            ),
            "share_mae_points": round(avg("share_mae_points"), 2),
            "count_mae": round(avg("count_mae"), 2),
            "count_mae_relative": round(avg("count_mae_relative"), 4),
            "baseline_true_mean_spread_points": round(spread, 2),
            "error_to_spread": round(mae / spread, 3) if spread else math.nan,
            "baseline_sampling_error_points": round(
                float(np.median(score_sd / np.sqrt(big["people"].clip(lower=1)))), 2
            )
            if len(big)
            else math.nan,
            "suppressed_with_k_or_more": avg("suppressed_with_k_or_more"),
            "published_with_fewer_than_k": avg("published_with_fewer_than_k"),
        }
    body = {
        "people": args.people,
        "placed": int(len(people)),
        "epsilon": args.epsilon,
        "k": args.k,
        "repeats": args.repeats,
        "split": {"histogram": args.epsilon / 2, "sums": args.epsilon / 2},
        "release_seconds_median": round(float(np.median(seconds)), 3),
        **model_info,
        "bands": figures,
    }
    f = figures
    summary = (
        f"{args.people / 1000:.0f} k people in {len(cities)} cities, ε = {args.epsilon:g}, "
        f"k = {args.k}, {args.repeats} releases: MAE of the city mean score "
        + ", ".join(
            f"{b} {f[b]['mean_score_mae_points']:.1f}" for b in ("mega", "large", "medium", "small")
        )
        + " points (error / between-city spread of true means "
        + ", ".join(f"{f[b]['error_to_spread']:.2f}" for b in ("mega", "large", "medium", "small"))
        + "); band shares "
        + ", ".join(f"{f[b]['share_mae_points']:.1f}" for b in ("mega", "large", "medium", "small"))
        + f" points; release {body['release_seconds_median']:.2f} s"
    )
    cmd = "python benchmarks/dp_map.py" + (
        f" --people {args.people}" if args.people != 100_000 else ""
    )
    save("dp_map", body, summary, cmd)


if __name__ == "__main__":
    main()
