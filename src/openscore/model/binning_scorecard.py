"""The classic scorecard: optbinning's optimal binning + logistic regression on WoE.

Why not optbinning's own ``Scorecard``: we need the missing bin to carry exactly 0
points (principle 2) *while the regression is fitted*, unseen categories to be neutral,
and coefficients of the wrong sign removed (a wrong sign would turn a declared monotonic
trend upside down in the points). So the binning comes from optbinning and the rest is
done here on the exported bins, which makes the points exactly what was fitted.

WoE here is optbinning's: ``ln(share of goods / share of bads)``, so a good bin has a
positive WoE, the logistic coefficients on WoE are negative, and
``points = round(-factor * coef * woe)``.

The WoE of the bins of a value are centred on the people who have one (see
:func:`centred_on_sharers`), so that the missing bin's 0 is the average sharer's standing.

A feature that may only raise a score (``FeatureMeta.only_raises``) has its negative WoEs
set to 0 *before* the regression — its risky bins are encoded like missing — so the
fitted points are never below the missing bin's 0 and nothing is patched afterwards;
``max_points`` caps the points after the fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from openscore.model.apply import bin_indices
from openscore.model.format import (
    CategoricalBinning,
    FeatureMeta,
    NumericBinning,
    Scaling,
    Term,
)
from openscore.model.texts import term_texts

#: FeatureMeta.monotonic -> optbinning's monotonic_trend (of the *event* = bad rate)
_TRENDS = {
    "ascending": "ascending",
    "descending": "descending",
    "auto": "auto_asc_desc",
    "none": "auto",
}


@contextmanager
def quiet_optbinning() -> Iterator[None]:
    """optbinning 1.0 + pandas 3 emits deprecation warnings on every fit (STACK.md)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="optbinning")
        warnings.filterwarnings("ignore", category=FutureWarning, module="optbinning")
        try:  # pandas 3 names it Pandas4Warning (a DeprecationWarning subclass)
            from pandas.errors import Pandas4Warning

            warnings.filterwarnings("ignore", category=Pandas4Warning)
        except ImportError:  # pragma: no cover - older pandas
            pass
        yield


def centred_on_sharers(woe: np.ndarray, binning: Any, values: pd.Series) -> np.ndarray:
    """WoE shifted so that the people who have a value average 0, missing staying at 0.

    optbinning's WoE is relative to everyone, the people without the value included; when
    they are riskier than average, every present bin's WoE is above 0 and the mere fact of
    sharing earns points (not sharing loses them: principle 2 broken by the back door).
    Centred on the sharers, 0 -- the missing bin -- is where an average sharer stands, so a
    person who does not share scores like the average person who does; the intercept
    absorbs the shift. Unseen categories stay at 0 with the missing bin.
    """
    idx = bin_indices(binning, values)
    present = idx != binning.missing_index
    other = getattr(binning, "other_index", None)
    if other is not None and other != binning.missing_index:
        present &= idx != other
    if not present.any():
        return woe
    shift = float(woe[idx[present]].mean())
    out = woe - shift
    out[binning.missing_index] = 0.0
    if other is not None:
        out[other] = 0.0
    return out


class BinningScorecard:
    """optbinning bins + WoE logistic regression → integer point tables.

    Parameters are optbinning's and scikit-learn's names: ``max_n_prebins``,
    ``min_prebin_size``, ``max_n_bins``, ``min_bin_size``, ``C`` (inverse L2 strength).
    """

    method = "scorecard"

    def __init__(
        self,
        meta: Mapping[str, FeatureMeta],
        *,
        scaling: Scaling | None = None,
        max_n_prebins: int = 20,
        min_prebin_size: float = 0.05,
        max_n_bins: int | None = None,
        min_bin_size: float | None = None,
        C: float = 1.0,
    ) -> None:
        self.meta = meta
        self.scaling = scaling
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.C = C

    def fit(self, X: pd.DataFrame, y: Any) -> BinningScorecard:
        from optbinning import BinningProcess

        y = np.asarray(y, dtype=int)
        names = [c for c in X.columns if c in self.meta]
        categorical = [c for c in names if self.meta[c].type == "categorical"]
        params = {}
        for c in names:
            p: dict[str, Any] = {}
            if self.meta[c].type == "numeric":
                p["monotonic_trend"] = _TRENDS[self.meta[c].monotonic]
            if self.max_n_bins is not None:
                p["max_n_bins"] = self.max_n_bins
            if self.min_bin_size is not None:
                p["min_bin_size"] = self.min_bin_size
            params[c] = p
        with quiet_optbinning():
            bp = BinningProcess(
                variable_names=names,
                categorical_variables=categorical or None,
                max_n_prebins=self.max_n_prebins,
                min_prebin_size=self.min_prebin_size,
                binning_fit_params=params,
            )
            Xb = X[names].copy()
            for c in categorical:
                Xb[c] = Xb[c].astype(object).where(Xb[c].notna(), np.nan)
            bp.fit(Xb, y)
            binnings, woes = {}, {}
            for c in names:
                ob = bp.get_binned_variable(c)
                table = ob.binning_table.build()
                woe_col = table["WoE"].to_numpy()
                if self.meta[c].type == "numeric":
                    edges = tuple(float(s) for s in np.asarray(ob.splits, dtype=float))
                    binning: Any = NumericBinning(edges)
                    woe = list(woe_col[: len(edges) + 1].astype(float)) + [0.0]
                else:
                    groups = tuple(
                        tuple(sorted(str(v) for v in np.asarray(g, dtype=object).tolist()))
                        for g in ob.splits
                    )
                    binning = CategoricalBinning(groups)
                    woe = list(woe_col[: len(groups)].astype(float)) + [0.0, 0.0]
                woe_arr = np.asarray(woe, dtype=float)
                if self.meta[c].only_raises:
                    # a bin riskier than average is encoded like missing (WoE 0): with the
                    # coefficient's sign enforced below, no bin scores under the missing bin
                    woe_arr = np.maximum(woe_arr, 0.0)
                else:
                    woe_arr = centred_on_sharers(woe_arr, binning, X[c])
                binnings[c] = binning
                woes[c] = woe_arr
        self.binning_process_ = bp
        self.binnings_ = binnings
        self.woe_ = woes

        W = pd.DataFrame({c: woes[c][bin_indices(binnings[c], X[c])] for c in names}, index=X.index)
        # A constant WoE column (one bin) carries nothing; a positive coefficient means the
        # variable works against its own WoE (collinearity): drop it and refit, as
        # scorecard practice does, so the points keep the binning's direction.
        active = [c for c in names if np.ptp(W[c].to_numpy()) > 0]
        dropped: dict[str, str] = {c: "no information (one bin)" for c in names if c not in active}
        lr = LogisticRegression(C=self.C, max_iter=1000)
        while True:
            if not active:
                lr = None
                break
            lr = LogisticRegression(C=self.C, max_iter=1000).fit(W[active].to_numpy(), y)
            wrong = [c for c, b in zip(active, lr.coef_[0], strict=True) if b > 0]
            if not wrong:
                break
            worst = max(wrong, key=lambda c: lr.coef_[0][active.index(c)])
            dropped[worst] = "coefficient against its WoE (collinear); dropped"
            active.remove(worst)
        scaling = self.scaling or Scaling()
        coefs = dict(zip(active, lr.coef_[0], strict=True)) if lr is not None else {}
        b0 = float(lr.intercept_[0]) if lr is not None else float(np.log(y.mean() / (1 - y.mean())))
        terms = []
        for c in active:
            raw = scaling.points_of_logit(1.0) * coefs[c] * woes[c]
            pts = [int(round(v)) for v in raw]
            pts[binnings[c].missing_index] = 0
            if isinstance(binnings[c], CategoricalBinning):
                pts[binnings[c].other_index] = 0
            pts = self.meta[c].bound_points(pts)  # a cap (max_points) is a projection
            labels = tuple(binnings[c].labels())
            reason, improve = term_texts(c, self.meta[c], pts, labels, binnings[c])
            terms.append(
                Term(
                    name=c,
                    features=(c,),
                    dimension=self.meta[c].dimension,
                    binnings=(binnings[c],),
                    points=tuple(pts),
                    labels=labels,
                    reason=reason,
                    improve=improve,
                )
            )
        self.logistic_ = lr
        self.coef_ = coefs
        self.intercept_logit_ = b0
        self.intercept_points_ = int(round(scaling.intercept_of_logit(b0)))
        self.terms_ = tuple(terms)
        self.dropped_ = dropped
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "terms_"):
            raise NotFittedError("BinningScorecard is not fitted: call fit(X, y) first")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Unrounded log-odds of bad (missing and unseen at WoE 0)."""
        self._check_fitted()
        z = np.full(len(X), self.intercept_logit_)
        for c, b in self.coef_.items():
            z += b * self.woe_[c][bin_indices(self.binnings_[c], X[c])]
        return z
