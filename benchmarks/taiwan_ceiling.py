"""How far each shape of model gets on Taiwan's seed-42 split: the ceiling under the aims.

    .venv/bin/python benchmarks/taiwan_ceiling.py [--configs 12]

Issue 14 sets test-AUC aims on Taiwan's seed-42 split (tabular 0.78, event pipeline
0.775). This measures what a well-tuned gradient-boosted model reaches on that split when
it is held to the shapes a score can take, so that openscore's own figures are read
against a ceiling measured in the same run, not against a number:

- ``gam``: main effects only (trees of one split), what a scorecard is;
- ``ga2m``: main effects and pairs (trees of depth 2; every pair allowed), the richest
  model whose score is a sum of one- and two-feature tables, as openscore's is;
- ``ga2m_directions`` (event pipeline): the same with every catalog direction as
  LightGBM's own monotone constraint (``advanced``), which is openscore's rule (the whole
  effect of a declared feature moves the declared way for everyone);
- ``ga2m_directions_but_recent_dpd_3m``: as above with ``recent_dpd_3m`` left free;
- ``trees``: unrestricted trees (up to 63 leaves), the black box.

Each shape is tuned by 5-fold CV on the training part only (a seeded random search of
``--configs`` settings, early stopping on the folds), refitted on the whole training
part with the chosen setting and measured once on the test part; the highest test AUC of
any setting is reported too, to show what no choice would have reached. Tabular columns
are openscore's tabular mode's (protected attributes and the id excluded), event
features are openscore's (``convert taiwan`` and the DuckDB event features, as
``benchmarks/taiwan_accuracy.py`` computes them). The baseline is openscore's chosen
model on the same split, read from ``benchmarks/results/taiwan_accuracy.json``. Writes
``benchmarks/results/taiwan_ceiling.json`` and the ``docs/benchmarks.md`` line.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from openscore.model import Scaling
from openscore.model.metrics import auc
from openscore.model.tabular import prepare_tabular, read_table
from openscore.model.training import split_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, WORK, save
from taiwan_accuracy import SHARED, event_frame

FREE_IN_LAST = "recent_dpd_3m"
#: shape -> (max_depth, num_leaves choices, monotone constraints)
SHAPES: dict[str, tuple[int, tuple[int, ...], str]] = {
    "gam": (1, (2,), "none"),
    "ga2m": (2, (3,), "none"),
    "ga2m_directions": (2, (3,), "all"),
    "ga2m_directions_but_recent_dpd_3m": (2, (3,), "all_but"),
    "trees": (-1, (4, 8, 16, 31, 63), "none"),
}
TABULAR_SHAPES = ("gam", "ga2m", "trees")


def settings(n: int, leaves: tuple[int, ...], seed: int = 0) -> list[dict]:
    """A seeded random search over LightGBM's usual knobs (the same draws for every shape)."""
    rng = np.random.default_rng(seed)
    return [
        {
            "learning_rate": float(rng.choice([0.02, 0.05, 0.1])),
            "num_leaves": int(rng.choice(leaves)),
            "min_data_in_leaf": int(rng.choice([20, 50, 100, 200, 400])),
            "feature_fraction": float(rng.choice([0.5, 0.7, 0.9, 1.0])),
            "bagging_fraction": float(rng.choice([0.7, 0.8, 1.0])),
            "bagging_freq": 1,
            "lambda_l2": float(rng.choice([0.0, 1.0, 10.0, 50.0])),
            "max_bin": int(rng.choice([63, 255])),
        }
        for _ in range(n)
    ]


def directions(columns: list[str], which: str) -> list[int] | None:
    """LightGBM's monotone constraints on P(bad) from the catalog (ascending risk = +1)."""
    if which == "none":
        return None
    from openscore.jobs.train import feature_meta

    meta = feature_meta(Scaling())
    sign = {"ascending": 1, "descending": -1}
    return [
        0 if which == "all_but" and c == FREE_IN_LAST else sign.get(meta[c].monotonic, 0)
        for c in columns
    ]


def tune(X: pd.DataFrame, y: np.ndarray, parts: dict, shape: str, configs: int) -> dict:
    import lightgbm as lgb

    depth, leaves, which = SHAPES[shape]
    tr, te = parts["train"], parts["test"]
    mono = directions(list(X.columns), which)
    runs = []
    for extra in settings(configs, leaves):
        params = {
            "objective": "binary",
            "metric": "auc",
            "verbose": -1,
            "seed": 42,
            "num_threads": 2,
            "max_depth": depth,
            **extra,
        }
        if mono is not None:
            params |= {"monotone_constraints": mono, "monotone_constraints_method": "advanced"}
        # a Dataset of its own per setting: its bins follow max_bin and min_data_in_leaf
        train = lgb.Dataset(X.iloc[tr], y[tr], params={"verbose": -1})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = lgb.cv(
                params,
                train,
                num_boost_round=4000,
                nfold=5,
                stratified=True,
                seed=42,
                callbacks=[lgb.early_stopping(100, verbose=False)],
            )
            curve = next(v for k, v in cv.items() if k.endswith("auc-mean"))
            rounds = int(np.argmax(curve)) + 1
            model = lgb.train(params, train, num_boost_round=rounds)
        test = auc(y[te], -model.predict(X.iloc[te]))
        runs.append({"cv_auc": float(max(curve)), "test_auc": test, "rounds": rounds, **extra})
        print(f"    {shape}: CV {max(curve):.4f} test {test:.4f} ({rounds} rounds)", flush=True)
    chosen = max(runs, key=lambda r: r["cv_auc"])
    return {
        "cv_auc": chosen["cv_auc"],
        "test_auc": chosen["test_auc"],
        "best_test_auc_of_any_setting": max(r["test_auc"] for r in runs),
        "chosen": chosen,
        "runs": runs,
    }


def frames() -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    from openscore.features.graph import GRAPH_FEATURES
    from openscore.jobs.train import feature_meta

    csv = SHARED / "taiwan-default/UCI_Credit_Card.csv"
    tab = prepare_tabular(read_table(csv), "default.payment.next.month", id_column="ID")
    WORK.mkdir(parents=True, exist_ok=True)
    X, y, _ = event_frame(csv, WORK)
    meta = feature_meta(Scaling())
    # the event features a model trains on: inputs, with more than one value
    keep = [c for c in X.columns if c in meta and c not in GRAPH_FEATURES and X[c].nunique() > 1]
    return {
        "tabular": (tab.X.astype(float), tab.y),
        "events": (X[keep].astype(float), np.asarray(y)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=12, help="settings tried per shape")
    args = parser.parse_args()
    ours = json.loads((RESULTS / "taiwan_accuracy.json").read_text())
    openscore = {
        "tabular": ours["taiwan"]["chosen_test"]["auc"],
        "events": ours["taiwan_events"]["chosen_test"]["auc"],
    }
    results: dict = {
        "split": "stratified 70/30, random_state 42",
        "tuning": f"{args.configs} LightGBM settings per shape, 5-fold CV on the training part",
        "openscore_from": f"{ours['when']}: {ours['command']}",
    }
    t0 = time.perf_counter()
    for mode, (X, y) in frames().items():
        parts = split_rows(y, test_size=0.3, random_state=42)
        shapes = TABULAR_SHAPES if mode == "tabular" else tuple(SHAPES)
        print(f"  {mode}: {X.shape[1]} columns", flush=True)
        results[mode] = {
            "columns": list(X.columns),
            "openscore_test_auc": openscore[mode],
            **{s: tune(X, y, parts, s, args.configs) for s in shapes},
        }
    results["seconds"] = round(time.perf_counter() - t0, 1)
    command = shlex.join(["python", "benchmarks/taiwan_ceiling.py", *sys.argv[1:]])
    save("taiwan_ceiling", results, summary(results), command)


def summary(r: dict) -> str:
    def part(mode: str, label: str) -> str:
        d = r[mode]
        ours = d["openscore_test_auc"]
        shapes = [s for s in SHAPES if s in d]
        figures = ", ".join(
            f"{s} {d[s]['test_auc']:.4f} (CV {d[s]['cv_auc']:.4f}; best of any setting "
            f"{d[s]['best_test_auc_of_any_setting']:.4f})"
            for s in shapes
        )
        ratios = f"{ours / d['ga2m']['test_auc']:.3f}x the tuned GA2M"
        if "ga2m_directions" in d:
            ratios += f", {ours / d['ga2m_directions']['test_auc']:.3f}x it with the directions"
        return (
            f"{label}: test AUC of LightGBM tuned by CV, by shape: {figures}; "
            f"openscore {ours:.4f} = {ratios}"
        )

    return (
        f"Taiwan seed-42 split, {r['tuning']}. {part('tabular', 'Tabular')}. "
        f"{part('events', 'Event pipeline')} (aims: tabular 0.78, event pipeline 0.775)"
    )


if __name__ == "__main__":
    main()
