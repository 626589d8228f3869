"""A calibrated scale: the anchor and the points-to-double-the-odds chosen from the training
population, so that the score uses its range (DESIGN.md, "The score").

A fitted model's points are a linear function of its log-odds (``score = offset +
factor·ln(odds)``). Any other anchor and PDO is the same model with every term's points
multiplied by ``k`` and a new intercept -- the ranking (and so the AUC) is unchanged. The
scale is chosen by two quantiles of the scorable training people's unclipped points:

- the :data:`LOW_SHARE` quantile lands just below the first "fair" score (550): about
  10 % are "poor";
- the :data:`HIGH_SHARE` upper quantile lands just above the first "excellent" score
  (700): about 10 % are "excellent", so the top of the gauge is reachable and the ≥ 700
  products approve a stated, small share.

The three 50-point bands between them share the middle 80 %. The result is checked, and a
scaling that leaves a band with no one or a product threshold that no one reaches is
refused with a message naming it. The figures (score distribution, people and bad rate
per band, approval share per product) go to the model card under ``metrics["scale"]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
import pandas as pd

from openscore.domain import BANDS
from openscore.errors import InputError
from openscore.model.apply import raw_points
from openscore.model.eligibility import ScoringRule
from openscore.model.format import Scaling, Scorecard, Term, build_scorecard
from openscore.model.monotone import keep_room

#: the share of scorable training people placed below 550 ("poor") and at 700 or above
LOW_SHARE = 0.10
HIGH_SHARE = 0.10
#: a band holding fewer scorable training people than this is reported as thin
MIN_BAND_SHARE = 0.05
#: points by which the quantiles land inside the band they open (see calibrate_scale)
MARGIN = 3
_LOW_ANCHOR = next(b.low for b in BANDS if b.name == "fair")
_HIGH_ANCHOR = next(b.low for b in BANDS if b.name == "excellent")


def scorable_rows(card: Scorecard, X: pd.DataFrame) -> np.ndarray:
    """Which rows the minimum scoring rule scores (the population the scale is set on)."""
    rule = ScoringRule.from_settings()
    if rule.event_mode(card) and all(c in X.columns for c in rule.inputs(card)):
        known = X[list(rule.history_features)].notna().any(axis=1)
        active = pd.to_numeric(X[rule.activity_feature], errors="coerce")
        return cast(np.ndarray, (known | (active >= rule.min_activity)).to_numpy())
    return cast(np.ndarray, X[card.feature_names].notna().any(axis=1).to_numpy())


def _scaled_term(term: Term, k: float) -> Term:
    # a declared cap (relationships: at most max_points) is a promise the rescale keeps
    cap = term.max_points

    def one(v: float) -> int:
        scaled = int(round(k * v))
        return min(scaled, cap) if cap is not None else scaled

    if term.is_pair:
        points: Any = tuple(tuple(one(v) for v in row) for row in term.points)
    else:
        points = tuple(one(v) for v in term.points)
    return replace(term, points=points)


def calibrate_scale(
    card: Scorecard,
    X: pd.DataFrame,
    y: Any,
    *,
    products: Sequence[tuple[str, int]] | None = None,
) -> Scorecard:
    """``card`` rescaled so that the scorable people of ``X`` use the range, with the
    scale's figures in ``metrics["scale"]``; :class:`InputError` naming the band or the
    product when the result leaves a band empty or a threshold unreachable.

    ``products``: (product id, threshold) pairs to check (default: the shipped catalogue).
    """
    y = np.asarray(y, dtype=float)
    mask = scorable_rows(card, X)
    if mask.sum() < 20:
        raise InputError(
            f"only {int(mask.sum())} training rows have enough data to score: too few to "
            "choose a scale from"
        )
    raw = raw_points(card.intercept_points, card.terms, X).astype(float)
    lo, hi = np.quantile(raw[mask], [LOW_SHARE, 1.0 - HIGH_SHARE])
    if not hi > lo:
        raise InputError(
            "the model gives nearly everyone the same points: no scale can spread them over "
            "the bands (is anything learnt?)"
        )
    # The anchors sit MARGIN points inside the bands they open, so that rounding each
    # term's points cannot push the people on a quantile back across a band boundary.
    low_at, high_at = _LOW_ANCHOR - MARGIN, _HIGH_ANCHOR + MARGIN
    k = (high_at - low_at) / (hi - lo)
    s = card.scaling
    factor = s.factor * k
    offset = low_at + k * (s.offset - lo)
    scaling = Scaling(
        base_score=round(offset + factor * math.log(s.base_odds), 2),
        base_odds=s.base_odds,
        pdo=round(factor * math.log(2.0), 4),
        score_min=s.score_min,
        score_max=s.score_max,
    )
    # each table is rounded on its own: a pair over a declared feature is put back within
    # the room its main table leaves, so the feature's whole effect keeps its direction
    directions = {f.name: f.monotonic for f in card.features}
    terms = list(keep_room([_scaled_term(t, k) for t in card.terms], directions))
    intercept = int(round(low_at + k * (card.intercept_points - lo)))
    scaled = build_scorecard(
        method=card.method,
        scaling=scaling,
        intercept_points=intercept,
        features=card.features,
        terms=terms,
        training=card.training,
        metrics=card.metrics,
        audit_only=card.audit_only,
        id_column=card.id_column,
        target=card.target,
    )
    report = scale_report(scaled, X, y, mask, products=products)
    report["chosen"] = {
        "rule": f"{LOW_SHARE:.0%} of scorable training people below {_LOW_ANCHOR}, "
        f"{HIGH_SHARE:.0%} at {_HIGH_ANCHOR} or above",
        "points_multiplied_by": round(k, 6),
    }
    check_scale(report)
    return replace(scaled, metrics={**scaled.metrics, "scale": report})


def scale_report(
    card: Scorecard,
    X: pd.DataFrame,
    y: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    products: Sequence[tuple[str, int]] | None = None,
) -> dict[str, Any]:
    """People and bad rate per band, score distribution, approval share per product."""
    from openscore.model.apply import clipped_scores

    if mask is None:
        mask = scorable_rows(card, X)
    scores = clipped_scores(card.intercept_points, card.terms, X, card.scaling)[mask]
    bad = np.asarray(y, dtype=float)[mask]
    n = len(scores)
    bands: list[dict[str, Any]] = []
    for b in BANDS:
        inside = (scores >= b.low) & (scores <= b.high)
        rows = int(inside.sum())
        bands.append(
            {
                "band": b.name,
                "low": b.low,
                "high": b.high,
                "people": rows,
                "share": round(rows / n, 4) if n else 0.0,
                "bad_rate": round(float(bad[inside].mean()), 4) if rows else None,
            }
        )
    rates = [b["bad_rate"] for b in bands if b["bad_rate"] is not None]
    if products is None:
        from openscore.decisions import default_catalogue

        products = [(p.id, p.min_score) for p in default_catalogue().products]
    approvals = {
        pid: {"threshold": threshold, "share": round(float((scores >= threshold).mean()), 4)}
        for pid, threshold in products
    }
    percentiles = {
        f"p{q}": int(v)
        for q, v in zip(
            (1, 10, 25, 50, 75, 90, 99),
            np.percentile(scores, [1, 10, 25, 50, 75, 90, 99]),
            strict=True,
        )
    }
    return {
        "population": "scorable training rows",
        "people": n,
        "unscorable_share": round(1.0 - n / len(mask), 4) if len(mask) else 0.0,
        "bands": bands,
        "bad_rate_falls": all(a > b for a, b in zip(rates, rates[1:], strict=False)),
        "thin_bands": [b["band"] for b in bands if b["share"] < MIN_BAND_SHARE],
        "approval_share": approvals,
        "percentiles": percentiles,
    }


def check_scale(report: dict[str, Any]) -> None:
    """Refuse a scale with an empty band or a product threshold no one reaches."""
    empty = [b["band"] for b in report["bands"] if b["people"] == 0]
    if empty:
        raise InputError(
            f"the scale leaves band {', '.join(empty)} with no one of the "
            f"{report['people']} scorable training people"
        )
    unreachable = [
        f"{pid} (threshold {a['threshold']})"
        for pid, a in report["approval_share"].items()
        if a["share"] == 0
    ]
    if unreachable:
        raise InputError(
            f"product {', '.join(unreachable)} would approve no one of the "
            f"{report['people']} scorable training people: re-base its threshold"
        )
