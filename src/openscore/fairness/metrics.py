"""Fairness as data: every figure of the audit, overall and by group, from fairlearn's
``MetricFrame``.

For every group attribute and every product threshold of the decisions catalogue:

* **approval rate** — the share of the group scoring at or above the threshold, and the
  **four-fifths ratio**: the lowest group's rate over the highest's (the US EEOC's
  screening rule for adverse impact flags a ratio below 0.8);
* **false-negative rate** — the share of people who *did* repay but would be declined
  (equal opportunity, with "repaid" as the positive outcome), and its gap between groups.

And once per group, independent of thresholds: **AUC** (does the score rank the group's
own members?), and **calibration** — the group's observed bad rate against the bad rate
people with the same scores have in the whole audited population (an isotonic fit of
outcome on score). The difference is also given in score points through the model's
points-to-double-the-odds factor: a positive gap means the group repays better than its
scores say, i.e. it is scored about that many points too low.

Groups below the minimum size (``groups.py``) keep their size and lose every other figure;
a group with fewer than ``MIN_OUTCOMES`` defaults or repayments has no AUC or calibration gap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from openscore.errors import InputError
from openscore.fairness.groups import (
    DEFAULT_MIN_GROUP_SIZE,
    GroupCheck,
    as_labels,
    check_groups,
)
from openscore.model.format import Scaling

#: the EEOC four-fifths rule: a ratio of approval rates below this is flagged
FOUR_FIFTHS = 0.8
#: a group whose calibration gap is wider than this many points either way is flagged:
#: at the default 40 points to double the odds, 10 points misstate its odds by about a
#: fifth (2 ** (10 / 40) ≈ 1.19) — a fifth of a 50-point band
CALIBRATION_GAP_POINTS = 10.0
#: AUC and calibration of a group need this many defaults and as many repayments: with
#: fewer, one person moves them by whole points
MIN_OUTCOMES = 10

LENGTH_MISMATCH = "scores, outcomes and groups must have the same length (got {lengths})"
OUTCOME_NOT_BINARY = "outcomes must be 0/1 (1 = defaulted); got values {values}"
NO_THRESHOLDS = "no approval thresholds to audit (the product catalogue is empty)"


def product_thresholds(catalogue: object | None = None) -> dict[int, list[str]]:
    """The distinct ``min_score`` of the product catalogue, each with its products."""
    from openscore.decisions.products import default_catalogue

    cat = catalogue if catalogue is not None else default_catalogue()
    out: dict[int, list[str]] = {}
    for product in cat.products:  # type: ignore[attr-defined]
        out.setdefault(int(product.min_score), []).append(product.id)
    return dict(sorted(out.items()))


# -- metric functions ----------------------------------------------------------------------
# MetricFrame is given one row per distinct (group, score, outcome) cell with its number of
# people as ``sample_weight``: the same figures as one row per person (every metric below
# is a weighted sum, AUC included), but fairlearn's cost per call grows with the rows, and
# a 100 k audit has a few thousand cells. ``y_true``: 1 = defaulted; ``y_pred``: the score.
def _weighted_mean(values: np.ndarray, weight: np.ndarray) -> float:
    total = float(np.sum(weight))
    return float(np.dot(values, weight) / total) if total else math.nan


def _people(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return float(np.sum(sample_weight))


def _bad_rate(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return _weighted_mean(np.asarray(y_true, dtype=float), sample_weight)


def _mean_score(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return _weighted_mean(np.asarray(y_pred, dtype=float), sample_weight)


def _auc(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    """AUC of the score ranking bads below goods; NaN where a group has one class only."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y_true)
    if y.min(initial=1) == y.max(initial=0):
        return math.nan
    return float(roc_auc_score(y, -np.asarray(y_pred, dtype=float), sample_weight=sample_weight))


def _expected_bad_rate(
    y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray, expected: np.ndarray
) -> float:
    return _weighted_mean(np.asarray(expected, dtype=float), sample_weight)


def _approval_at(threshold: int) -> Callable[..., float]:
    def approval_rate(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
        return _weighted_mean((np.asarray(y_pred) >= threshold).astype(float), sample_weight)

    return approval_rate


def _false_negative_rate_at(threshold: int) -> Callable[..., float]:
    def false_negative_rate(
        y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray
    ) -> float:
        """Share of the people who repaid that score below the threshold (declined)."""
        repaid = np.asarray(y_true) == 0
        return _weighted_mean(
            (np.asarray(y_pred)[repaid] < threshold).astype(float),
            np.asarray(sample_weight)[repaid],
        )

    return false_negative_rate


def points_gap(observed: float, expected: float, scaling: Scaling) -> float:
    """Score points between the bad rate a group's scores predict and the one it shows.

    Positive: the group defaults less than people with its scores do overall, so its
    scores are about that many points too low."""
    if not (0 < expected < 1) or math.isnan(observed):
        return math.nan
    eps = 1e-4
    o = min(max(observed, eps), 1 - eps)
    return scaling.factor * (math.log(expected / (1 - expected)) - math.log(o / (1 - o)))


def population_calibration(scores: np.ndarray, y_bad: np.ndarray) -> np.ndarray:
    """Each person's expected bad rate: the audited population's bad rate at their score
    (isotonic, falling with the score; equal scores get equal values)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(increasing=False, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return iso.fit_transform(np.asarray(scores, dtype=float), np.asarray(y_bad, dtype=float))


@dataclass
class GroupAudit:
    """The audit as data: ``by_group`` (attribute, group) × figures, ``comparison``
    attribute × ratios and gaps, ``overall`` figures, notices, and the MetricFrame of
    each attribute."""

    by_group: pd.DataFrame
    comparison: pd.DataFrame
    overall: dict[str, float]
    thresholds: dict[int, list[str]]
    checks: list[GroupCheck]
    notices: list[str]
    metric_frames: dict[str, MetricFrame] = field(repr=False, default_factory=dict)


def _compare(table: pd.DataFrame, check: GroupCheck, thresholds: Sequence[int]) -> dict:
    """Ratios and gaps among the groups large enough to compare."""
    eligible = table.loc[check.eligible]
    cmp: dict[str, float | bool | str] = {}
    for t in thresholds:
        approval = eligible[f"approval_{t}"].astype(float)
        high, low = float(approval.max()), float(approval.min())
        ratio = low / high if high > 0 else math.nan
        cmp[f"approval_ratio_{t}"] = ratio
        # nobody approved anywhere is no adverse impact: it passes
        cmp[f"four_fifths_{t}"] = bool(ratio >= FOUR_FIFTHS) if not math.isnan(ratio) else True
        cmp[f"lowest_{t}"] = str(approval.idxmin())
        cmp[f"highest_{t}"] = str(approval.idxmax())
        fnr = eligible[f"fnr_{t}"].astype(float)
        cmp[f"fnr_gap_{t}"] = float(fnr.max() - fnr.min())
    auc_min, auc_max = float(eligible["auc"].min()), float(eligible["auc"].max())
    cmp["auc_min"] = auc_min
    cmp["auc_max"] = auc_max
    cmp["auc_gap"] = auc_max - auc_min
    cmp["calibration_gap_points_min"] = float(eligible["calibration_gap_points"].min())
    cmp["calibration_gap_points_max"] = float(eligible["calibration_gap_points"].max())
    cmp["groups_compared"] = len(check.eligible)
    cmp["groups_too_small"] = len(check.small)
    return cmp


def audit_frame(
    scores: Sequence[float] | np.ndarray,
    y_bad: Sequence[int] | np.ndarray,
    groups: pd.DataFrame,
    *,
    thresholds: Mapping[int, Sequence[str]] | None = None,
    scaling: Scaling | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> GroupAudit:
    """Approval, four-fifths ratio, false-negative rate, AUC and calibration by group.

    ``scores``: published scores (350–950); ``y_bad``: 1 = defaulted; ``groups``: one
    labelled column per attribute (``derive_groups``); ``thresholds``: score → products
    (default: the decisions catalogue).
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y_bad)
    if not (len(s) == len(y) == len(groups)):
        raise InputError(LENGTH_MISMATCH.format(lengths=f"{len(s)}, {len(y)}, {len(groups)}"))
    values = set(pd.unique(y).tolist())
    if not values <= {0, 1}:  # True and False compare equal to 1 and 0
        raise InputError(OUTCOME_NOT_BINARY.format(values=sorted(map(str, values))[:5]))
    y = y.astype(int)
    thresholds = dict(thresholds) if thresholds is not None else product_thresholds()
    if not thresholds:
        raise InputError(NO_THRESHOLDS)
    scaling = scaling or Scaling()
    groups = as_labels(groups)
    checks = check_groups(groups, min_group_size)
    expected = population_calibration(s, y)
    metrics: dict[str, Callable[..., float]] = {
        "people": _people,
        "bad_rate": _bad_rate,
        "mean_score": _mean_score,
        "auc": _auc,
        "expected_bad_rate": _expected_bad_rate,
        **{f"approval_{t}": _approval_at(t) for t in thresholds},
        **{f"fnr_{t}": _false_negative_rate_at(t) for t in thresholds},
    }

    rows: list[pd.DataFrame] = []
    comparison: dict[str, dict] = {}
    frames: dict[str, MetricFrame] = {}
    overall: dict[str, float] = {}
    for check in checks:
        cells = (
            pd.DataFrame({"group": groups[check.name], "score": s, "bad": y, "expected": expected})
            .groupby(["group", "score", "bad"], sort=False)
            .agg(people=("expected", "size"), expected=("expected", "first"))
            .reset_index()
        )
        weight = cells["people"].to_numpy(dtype=float)
        params: dict[str, dict[str, np.ndarray]] = {m: {"sample_weight": weight} for m in metrics}
        params["expected_bad_rate"]["expected"] = cells["expected"].to_numpy()
        mf = MetricFrame(
            metrics=metrics,
            y_true=cells["bad"].to_numpy(),
            y_pred=cells["score"].to_numpy(),
            sensitive_features=cells["group"].rename(check.name),
            sample_params=params,
        )
        frames[check.name] = mf
        overall = {k: float(v) for k, v in mf.overall.items()}
        table = mf.by_group.astype(float)
        table["calibration_gap_points"] = [
            points_gap(o, e, scaling)
            for o, e in zip(table["bad_rate"], table["expected_bad_rate"], strict=True)
        ]
        bads = table["bad_rate"] * table["people"]
        few = (bads < MIN_OUTCOMES - 1e-9) | (table["people"] - bads < MIN_OUTCOMES - 1e-9)
        table.loc[few, ["auc", "calibration_gap_points"]] = np.nan
        comparison[check.name] = _compare(table, check, list(thresholds))
        table = table.reindex(list(check.sizes))
        table.loc[check.small, [c for c in table.columns if c != "people"]] = np.nan
        table["people"] = [check.sizes[x] for x in table.index]
        table["compared"] = [x in check.eligible for x in table.index]
        table.index = pd.MultiIndex.from_product(
            [[check.name], table.index], names=["attribute", "group"]
        )
        rows.append(table)

    ordered = ["people", "compared", "bad_rate", "mean_score", "auc", "expected_bad_rate"]
    ordered += ["calibration_gap_points"]
    ordered += [f"approval_{t}" for t in thresholds] + [f"fnr_{t}" for t in thresholds]
    return GroupAudit(
        by_group=pd.concat(rows)[ordered],
        comparison=pd.DataFrame(comparison).T,
        overall=overall,
        thresholds={t: list(p) for t, p in thresholds.items()},
        checks=checks,
        notices=[n for c in checks for n in c.notices],
        metric_frames=frames,
    )
