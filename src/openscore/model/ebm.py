"""interpret's Explainable Boosting Machine, exported as point tables.

An EBM is already additive: an intercept plus one score table per term (one feature's
bins, or a grid of two features' bins), in log-odds of the positive class (bad). The
export is a change of units — ``points = round(-factor * score)`` — and of bin layout
(EBM puts *missing* first and *unknown* last; our format puts them after the bins).

Rules this module adds on purpose:

- **Interactions stay within a dimension.** Pairs across dimensions are passed to EBM's
  ``exclude`` so they are never fitted (a pair term would otherwise belong to two
  dimensions and the radar could not show it).
- **Declared monotonic features keep their direction in every term.** EBM is fitted with
  a monotone constraint on their main effect (interpret then fits no pair over them).
  A second EBM, started from the first one's scores, fits only pairs that involve a
  declared feature (``monotone_pairs`` of them, the strongest by interpret's FAST
  ranking), and each such pair table is projected along that feature's axis, row by
  row (weighted isotonic regression, then an exact guarantee on the integer points),
  so that it bends against the direction by no more than the feature's main table moves
  the declared way at the same edge (``model/monotone.py``; with ``pair_slack=False``
  it may not bend at all). The sum of the terms over the feature -- its whole effect --
  then moves the declared way whoever the person is. On Taiwan's event features the
  room is worth +0.0008 2-fold CV AUC over pairs projected on their own (docs/model.md).
- **Missing is neutral.** Cells of the missing bin are set to 0 after fitting (EBM
  centres every term, so 0 is the average person's effect).
- **Features that may only raise a score** (``FeatureMeta.only_raises``, e.g. the
  relationships dimension) get no pair, and their exported points are projected onto the
  constraint: a bin below the missing bin's 0 is raised to 0 and ``max_points`` caps the
  rest. EBM has no per-bin bounds, so this is done on the exported table; with a declared
  monotonic trend the result stays monotonic.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from openscore.model.format import (
    CategoricalBinning,
    FeatureMeta,
    NumericBinning,
    Scaling,
    Term,
)
from openscore.model.monotone import along, keep_room, room_at
from openscore.model.texts import pair_texts, term_texts

#: EBM settings used unless the caller passes others. Chosen by 3-fold cross-validation
#: on the Taiwan *training* part only (never the test split) among 20 settings; see
#: docs/model.md. Every setting tried was within ±0.0015 CV AUC of interpret's defaults:
#: these are also 5× faster to fit and give 256-bin tables instead of 1024.
DEFAULT_EBM_PARAMS: dict[str, Any] = {
    "interactions": 10,
    "learning_rate": 0.03,
    "max_bins": 256,
    "n_jobs": -1,  # interpret's default -2 leaves one of two cores idle
}


_DECLARED = ("ascending", "descending")
#: pairs over declared features fitted in the second stage unless told otherwise (3-fold
#: CV on Taiwan's event features: 10 pairs 0.7743, 20 pairs 0.7747 at 2.4x the time)
MONOTONE_PAIRS = 10
#: project a pair over a declared feature together with that feature's main effect (the
#: pair may bend against the direction by as much as the main effect moves the right way
#: at the same edge), not on its own: see ``model/monotone.py``
PAIR_SLACK = True


def allowed_pairs(
    meta: Mapping[str, FeatureMeta], names: list[str], *, declared: bool = False
) -> set[frozenset[str]]:
    """Pairs EBM may fit: same dimension, neither feature bounded, and (unless
    ``declared``: the second stage, whose tables are projected) neither declared
    monotonic."""
    ok = set()
    for a, b in itertools.combinations(names, 2):
        if meta[a].dimension != meta[b].dimension:
            continue
        if meta[a].only_raises or meta[b].only_raises:
            continue
        if not declared and (meta[a].monotonic in _DECLARED or meta[b].monotonic in _DECLARED):
            continue
        ok.add(frozenset((a, b)))
    return ok


def _isotonic_along(
    scores: np.ndarray, weights: np.ndarray, axis: int, increasing: bool
) -> np.ndarray:
    """Each line of ``scores`` along ``axis`` projected onto the increasing (or
    decreasing) sequences by weighted isotonic regression; the weighted mean of every
    line is kept (isotonic regression keeps it)."""
    from sklearn.isotonic import IsotonicRegression

    out = np.moveaxis(np.array(scores, dtype=float), axis, -1)
    w = np.moveaxis(np.asarray(weights, dtype=float), axis, -1)
    x = np.arange(out.shape[-1], dtype=float)
    for idx in np.ndindex(out.shape[:-1]):
        line_w = w[idx] + 1e-9  # a bin no training row fell in must still follow the order
        out[idx] = IsotonicRegression(increasing=increasing).fit_transform(
            x, out[idx], sample_weight=line_w
        )
    return np.moveaxis(out, -1, axis)


def _cumulative_along(scores: np.ndarray, axis: int, increasing: bool) -> np.ndarray:
    """The exact guarantee after the isotonic passes: a running max (min) along ``axis``.
    It changes nothing on a line already in order, and keeps the order of the other axis
    (a running max of lines that each rise, taken across them, still rises)."""
    acc = np.maximum.accumulate if increasing else np.minimum.accumulate
    return acc(scores, axis=axis)


def project_monotone(
    scores: np.ndarray, weights: np.ndarray, directions: tuple[str, ...]
) -> np.ndarray:
    """One EBM term's scores (log-odds of bad; EBM's layout: missing first, unknown last on
    each axis) with every declared axis made to move the declared way.

    ``directions``: the declared direction of risk of each of the term's features
    (``ascending`` risk = scores increasing). Missing and unknown cells are left as they
    are (outside the order).
    """
    inner = tuple(slice(1, -1) for _ in directions)
    s = np.array(scores, dtype=float)
    core, w = s[inner], np.asarray(weights, dtype=float)[inner]
    if core.size == 0:
        return s
    axes = [(k, d == "ascending") for k, d in enumerate(directions) if d in _DECLARED]
    for _ in range(3 if len(axes) > 1 else 1):
        for k, up in axes:
            core = _isotonic_along(core, w, k, up)
    for k, up in axes:
        core = _cumulative_along(core, k, up)
    s[inner] = core
    return s


def _pair_counts(term_features: list[tuple[int, ...]]) -> dict[int, int]:
    """How many pair terms each feature is in (the room of its main effect is shared)."""
    counts: dict[int, int] = {}
    for features in term_features:
        if len(features) == 2:
            for f in features:
                counts[f] = counts.get(f, 0) + 1
    return counts


def _main_term(ebm: object, feature: int) -> int | None:
    for t, features in enumerate(ebm.term_features_):  # type: ignore[attr-defined]
        if tuple(features) == (feature,):
            return t
    return None


class EBMScorecard:
    """EBM fitted under our interaction rules, exported to integer point tables.

    ``params`` go to ``ExplainableBoostingClassifier`` (e.g. ``outer_bags``,
    ``interactions``, ``max_bins``); ``interactions`` counts pairs *within* the allowed set.
    """

    method = "ebm"

    def __init__(
        self,
        meta: Mapping[str, FeatureMeta],
        *,
        scaling: Scaling | None = None,
        params: Mapping[str, Any] | None = None,
        random_state: int = 42,
        monotone_pairs: int = MONOTONE_PAIRS,
        pair_slack: bool = PAIR_SLACK,
    ) -> None:
        self.meta = meta
        self.scaling = scaling
        self.params = params
        self.random_state = random_state
        self.monotone_pairs = monotone_pairs
        self.pair_slack = pair_slack

    def fit(self, X: pd.DataFrame, y: Any) -> EBMScorecard:
        from interpret.glassbox import ExplainableBoostingClassifier

        y = np.asarray(y, dtype=int)
        names = [c for c in X.columns if c in self.meta]
        params = {**DEFAULT_EBM_PARAMS, **(self.params or {})}
        ok = allowed_pairs(self.meta, names)
        exclude = [
            (a, b) for a, b in itertools.combinations(names, 2) if frozenset((a, b)) not in ok
        ]
        wants_pairs = params.get("interactions", 1) != 0
        if not ok:
            params["interactions"] = 0
        monotone = [
            {"ascending": 1, "descending": -1}.get(self.meta[c].monotonic, 0) for c in names
        ]
        types = ["nominal" if self.meta[c].type == "categorical" else "continuous" for c in names]
        Xf = X[names].copy()
        for c in names:
            if self.meta[c].type == "categorical":
                Xf[c] = Xf[c].astype(object).where(Xf[c].notna(), None)
        ebm = ExplainableBoostingClassifier(
            feature_names=names,
            feature_types=types,
            exclude=exclude or None,
            monotone_constraints=monotone if any(monotone) else None,
            random_state=self.random_state,
            **params,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ebm.fit(Xf, y)
        self.ebm_ = ebm
        self.names_ = names
        self.pairs_ebm_ = (
            self._fit_monotone_pairs(ebm, Xf, y, names, types, params) if wants_pairs else None
        )
        self._export([ebm] if self.pairs_ebm_ is None else [ebm, self.pairs_ebm_], names)
        return self

    def _fit_monotone_pairs(
        self,
        first: Any,
        Xf: pd.DataFrame,
        y: np.ndarray,
        names: list[str],
        types: list[str],
        params: dict[str, Any],
    ) -> Any:
        """Second stage: pairs over declared features, from the first stage's scores, each
        projected onto the declared directions (None when there is none to fit)."""
        from interpret.glassbox import ExplainableBoostingClassifier
        from interpret.utils import measure_interactions

        if self.monotone_pairs <= 0:
            return None
        declared = {c for c in names if self.meta[c].monotonic in _DECLARED}
        candidates = [
            (i, j)
            for i, j in itertools.combinations(range(len(names)), 2)
            if frozenset((names[i], names[j])) in allowed_pairs(self.meta, names, declared=True)
            and {names[i], names[j]} & declared
            and "nominal" not in (types[i], types[j])
        ]
        if not candidates:
            return None
        init = first.decision_function(Xf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ranked = measure_interactions(
                Xf, y, interactions=candidates, init_score=init, feature_types=types
            )
        pairs = [tuple(p) for p in list(dict(ranked))[: self.monotone_pairs]]
        second_params = {k: v for k, v in params.items() if k != "interactions"}
        second = ExplainableBoostingClassifier(
            feature_names=names,
            feature_types=types,
            interactions=pairs,
            exclude="mains",
            random_state=self.random_state,
            **second_params,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            second.fit(Xf, y, init_score=init)
        shares = _pair_counts(second.term_features_) if self.pair_slack else {}
        for t, features in enumerate(second.term_features_):
            directions = tuple(self.meta[names[f]].monotonic for f in features)
            before = np.asarray(second.term_scores_[t], dtype=float)
            weights = np.asarray(second.bin_weights_[t], dtype=float)
            offset = np.zeros_like(before)
            for axis, f in enumerate(features if self.pair_slack else ()):
                if directions[axis] not in _DECLARED:
                    continue
                main = _main_term(first, f)
                if main is None:
                    continue
                levels = second.bins_[f]
                pair_cuts = np.asarray(levels[min(1, len(levels) - 1)], dtype=float)
                up = directions[axis] == "ascending"
                core = np.asarray(first.term_scores_[main], dtype=float)[1:-1]
                room = room_at(core, np.asarray(first.bins_[f][0], dtype=float), pair_cuts, up)
                if before.shape[axis] != len(pair_cuts) + 3:
                    continue  # not the layout expected: no room (the strict projection)
                # EBM's layout: missing first, unknown last (both outside the order)
                line = np.concatenate([[0.0, 0.0], np.cumsum(room / shares[f]), [0.0]])
                offset += (1.0 if up else -1.0) * along(line, axis, before.ndim)
            # project the table plus the room the main effect leaves it (a table that bends
            # no more than that gives a whole effect in the declared direction)
            after = project_monotone(before + offset, weights, directions) - offset
            # keep the term's weighted mean: a constant does not bend any direction
            if weights.sum() > 0:
                after -= float(((after - before) * weights).sum() / weights.sum())
            second.term_scores_[t] = after
        return second

    # -- export --------------------------------------------------------------------
    def _binning(self, ebm: Any, feature: int, level: int) -> tuple[Any, np.ndarray]:
        """Our binning and the map from our bin index to EBM's for one feature."""
        levels = ebm.bins_[feature]
        bins = levels[min(level, len(levels) - 1)]
        if isinstance(bins, dict):
            by_index: dict[int, list[str]] = {}
            for category, i in bins.items():
                by_index.setdefault(int(i), []).append(str(category))
            order = sorted(by_index)
            groups = tuple(tuple(sorted(by_index[i])) for i in order)
            n_ebm = max(order) + 2 if order else 2
            # ours: groups..., missing, other  ->  EBM: indices..., 0, unknown (last)
            to_ebm = np.array([*order, 0, n_ebm - 1])
            return CategoricalBinning(groups), to_ebm
        cuts = np.asarray(bins, dtype=float)
        k = len(cuts)
        # ours: 0..k bins, k+1 missing  ->  EBM: 1..k+1 bins, 0 missing
        to_ebm = np.array([*range(1, k + 2), 0])
        return NumericBinning(tuple(float(c) for c in cuts)), to_ebm

    def _export(self, ebms: list[Any], names: list[str]) -> None:
        scaling = self.scaling or Scaling()
        terms = []
        main_improve: dict[str, str] = {}  # EBM lists main effects before pairs
        for ebm, t, features in ((m, t, f) for m in ebms for t, f in enumerate(m.term_features_)):
            scores = np.asarray(ebm.term_scores_[t], dtype=float)
            level = len(features) - 1
            binned = [self._binning(ebm, f, level) for f in features]
            grid = scores[np.ix_(*[m for _, m in binned])]
            pts = np.rint(-scaling.factor * grid).astype(np.int64)
            fnames = tuple(names[f] for f in features)
            binnings = tuple(b for b, _ in binned)
            if len(features) == 1:
                b = binnings[0]
                pts[b.missing_index] = 0
                pts = np.asarray(self.meta[fnames[0]].bound_points(pts), dtype=np.int64)
                points: Any = tuple(int(v) for v in pts)
                labels: Any = tuple(b.labels())
                reason, improve = term_texts(fnames[0], self.meta[fnames[0]], points, labels, b)
                main_improve[fnames[0]] = improve
            else:
                pts[binnings[0].missing_index, :] = 0
                pts[:, binnings[1].missing_index] = 0
                points = tuple(tuple(int(v) for v in row) for row in pts)
                labels = (tuple(binnings[0].labels()), tuple(binnings[1].labels()))
                reason, improve = pair_texts(
                    (fnames[0], fnames[1]),
                    (self.meta[fnames[0]], self.meta[fnames[1]]),
                    main_improve,
                )
            if all(v == 0 for v in np.ravel(pts)):
                continue  # a term that never moves a score is noise in reasons and cards
            terms.append(
                {
                    "name": " x ".join(fnames),
                    "features": fnames,
                    "dimension": self.meta[fnames[0]].dimension,
                    "binnings": binnings,
                    "points": points,
                    "labels": labels,
                    "reason": reason,
                    "improve": improve,
                }
            )
        self.terms_ = tuple(Term(**t) for t in terms)
        if self.pair_slack:
            # the exact guarantee on the rounded points (each table was rounded alone)
            self.terms_ = keep_room(self.terms_, {c: self.meta[c].monotonic for c in names})
        intercept = sum(float(np.ravel(ebm.intercept_)[0]) for ebm in ebms)
        self.intercept_logit_ = intercept
        self.intercept_points_ = int(round(scaling.intercept_of_logit(intercept)))
        self.dropped_: dict[str, str] = {}

    def _check_fitted(self) -> None:
        if not hasattr(self, "ebm_"):
            raise NotFittedError("EBMScorecard is not fitted: call fit(X, y) first")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """EBM's own log-odds of bad (before the export's rounding and neutral missing)."""
        self._check_fitted()
        Xf = X[self.names_].copy()
        for c in self.names_:
            if self.meta[c].type == "categorical":
                Xf[c] = Xf[c].astype(object).where(Xf[c].notna(), None)
        first = np.asarray(self.ebm_.decision_function(Xf), dtype=float)
        if self.pairs_ebm_ is None:
            return first
        return np.asarray(self.pairs_ebm_.decision_function(Xf, init_score=first), dtype=float)
