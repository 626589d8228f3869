"""Point tables applied to a pandas frame with numpy: how training measures what it exports.

Cross-validation, the test split and the model card are computed on the *exported*
integer points (not on the estimator's own unrounded predictions), so that the figures
describe exactly the model that scores people. The batch scorer (``scoring.compile``)
and the one-person scorer implement the same rules; tests compare all three.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from openscore.model.format import Binning, CategoricalBinning, Scaling, Scorecard, Term


def bin_indices(binning: Binning, values: pd.Series | np.ndarray) -> np.ndarray:
    """The bin index of every value (missing and unseen categories included)."""
    if isinstance(binning, CategoricalBinning):
        s = pd.Series(values, copy=False)
        lookup = {c: i for i, g in enumerate(binning.groups) for c in g}
        missing = s.isna().to_numpy()
        as_text = s.map(lambda v: None if v is None else _text(v))
        idx = as_text.map(lookup).to_numpy(dtype=float, na_value=np.nan)
        out = np.where(np.isnan(idx), binning.other_index, idx).astype(np.int64)
        out[missing] = binning.missing_index
        indices: np.ndarray = out
        return indices
    x = pd.to_numeric(pd.Series(values, copy=False), errors="raise").to_numpy(dtype=float)
    out = np.searchsorted(np.asarray(binning.edges, dtype=float), x, side="right")
    out[np.isnan(x)] = binning.missing_index
    found: np.ndarray = out.astype(np.int64)
    return found


def _text(v: object) -> str:
    from openscore.model.format import category_string

    return category_string(v)


def term_points(term: Term, X: pd.DataFrame) -> np.ndarray:
    """Points of ``term`` for every row of ``X``."""
    table = np.asarray(term.points, dtype=np.int64)
    idx = [bin_indices(b, X[f]) for f, b in zip(term.features, term.binnings, strict=True)]
    points: np.ndarray = table[idx[0], idx[1]] if term.is_pair else table[idx[0]]
    return points


def points_matrix(terms: Sequence[Term], X: pd.DataFrame) -> np.ndarray:
    """rows × terms matrix of points."""
    if not terms:
        return np.zeros((len(X), 0), dtype=np.int64)
    matrix: np.ndarray = np.column_stack([term_points(t, X) for t in terms])
    return matrix


def raw_points(intercept: int, terms: Sequence[Term], X: pd.DataFrame) -> np.ndarray:
    """Unclipped sums (intercept + Σ points): the ranking before the 350–950 clip."""
    sums: np.ndarray = intercept + points_matrix(terms, X).sum(axis=1)
    return sums


def clipped_scores(
    intercept: int, terms: Sequence[Term], X: pd.DataFrame, scaling: Scaling
) -> np.ndarray:
    clipped: np.ndarray = np.clip(
        raw_points(intercept, terms, X), scaling.score_min, scaling.score_max
    )
    return clipped


def scores_of(card: Scorecard, X: pd.DataFrame) -> np.ndarray:
    """The published scores of a scorecard for every row of ``X`` (clipped integers)."""
    return clipped_scores(card.intercept_points, card.terms, X, card.scaling)
