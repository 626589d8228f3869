"""The thin-file analysis: are people with little wallet activity scored worse than people
of the same true risk with full files?

Only a synthetic world can answer it, because only there is the true risk known
(``true_pd`` in ``people.parquet``). A person's file is *thin* when they made fewer than
``THIN_FILE_PAYMENTS`` wallet payments in the 12 months before the as-of date (none at
all — wallet not shared, or not used — counts as thin); otherwise it is *full*.

Two gaps, both in score points, negative when thin files come off worse:

* **at equal true risk** — people are put into tenths of true PD; within each tenth, the
  mean score of thin files minus that of full files, averaged with the thin files'
  weights, over people of *ordinary* true risk (between the 10th and 90th percentile).
  This is the question as asked. Note that any model with less information about a
  person pulls their score towards the middle, so even a perfect model shows thin
  low-risk people a little below full low-risk people here.
* **at equal score (calibration)** — within 25-point score bins, how much riskier or safer
  thin files truly are than full files with the same score, in points
  (``score − offset − factor·ln((1 − PD) / PD)``, the score their true PD warrants under
  the model's scaling). Zero means a score means the same for both.
* **at equal score, in bad rates** — the same bins, but comparing the thin and full files'
  *mean* true PD: ``factor·(logit mean PD thin − logit mean PD full)``, negative when thin
  files are safer. It differs from the gap above because a model knows less about a thin
  file, so the true risks behind one thin-file score are more spread out, and a mean of
  probabilities is pulled up by the risky tail more than a mean of log-odds (on a
  30 000-person world the two differ by about 10 points for the same model; see
  docs/fairness.md). Reported beside the first, not instead of it.

To show what the design (*missing is neutral*, principle 2) does, the same training is
run twice on one half of the world and both models are measured on the other half: the
**design** model (missing bins at exactly 0 points) and a **naive** model that treats
missing data as bad — every feature a person does not share is filled with the worst
value seen in training (the riskiest end of its range), before training and before
scoring, the way a lender who reads "no data" as "bad data" would. The audited model is
measured on the same half too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from openscore.errors import InputError
from openscore.fairness.inputs import AuditData
from openscore.model import FeatureMeta, Scorecard, train_model
from openscore.model.apply import points_matrix, scores_of
from openscore.model.format import Scaling

#: fewer wallet payments than this in the 12 months before the as-of date: a thin file
THIN_FILE_PAYMENTS = 12
#: "ordinary" true risk: between these quantiles of true PD
ORDINARY_RISK = (0.10, 0.90)
RISK_BINS = 10
SCORE_BIN_POINTS = 25
#: a risk or score bin is used only where both thin and full files have this many people
MIN_CELL = 20

NOT_SYNTHETIC = (
    "the thin-file analysis needs a synthetic world (true risk and wallet activity); "
    "{path} has none"
)
TOO_FEW_THIN = (
    "too few thin or full files to compare ({thin} thin, {full} full; at least {need} each)"
)


@dataclass
class ModelGap:
    """One model's thin-file figures on the evaluation half."""

    name: str
    description: str
    auc: float
    gap_equal_risk: float
    gap_equal_score: float
    gap_no_wallet: float
    gap_low_wallet: float
    #: per tenth of true PD: mean true PD, mean score of thin and full files, counts
    by_risk: pd.DataFrame = field(repr=False)
    #: the terms that make the gap at equal true risk (points, thin − full), largest first
    terms: dict[str, float] = field(default_factory=dict)
    #: the calibration gap at equal score in mean bad rates (module docstring)
    gap_equal_score_bad_rate: float = math.nan


@dataclass
class ThinFileResult:
    definition: dict[str, object]
    people: dict[str, int]
    mean_true_pd: dict[str, float]
    models: list[ModelGap]
    naive_fills: dict[str, float]

    def model(self, name: str) -> ModelGap:
        return next(m for m in self.models if m.name == name)


def worst_value_fills(
    X: pd.DataFrame, y: np.ndarray, monotonic: Mapping[str, str]
) -> dict[str, float]:
    """For each feature, the riskiest value seen: the maximum where risk rises with the
    value, the minimum where it falls, and otherwise the end whose top tenth defaults
    more. What a naive model puts in place of missing data."""
    fills: dict[str, float] = {}
    y = np.asarray(y)
    for column in X.columns:
        values = X[column].to_numpy(dtype=float)
        seen = ~np.isnan(values)
        if not seen.any():
            continue
        v = values[seen]
        direction = monotonic.get(column, "none")
        if direction == "ascending":
            fills[column] = float(v.max())
        elif direction == "descending":
            fills[column] = float(v.min())
        else:
            low_cut, high_cut = np.quantile(v, [0.1, 0.9])
            low = y[seen][v <= low_cut].mean()
            high = y[seen][v >= high_cut].mean()
            fills[column] = float(v.min() if low >= high else v.max())
    return fills


def score_gaps(
    scores: np.ndarray,
    true_pd: np.ndarray,
    thin: np.ndarray,
    scaling: Scaling,
    *,
    points: pd.DataFrame | None = None,
    subgroups: Mapping[str, np.ndarray] | None = None,
) -> dict[str, object]:
    """The gaps of one set of scores (see the module docstring); ``points`` (people ×
    terms) gives the per-term breakdown, ``subgroups`` gaps of parts of the thin files."""
    s = np.asarray(scores, dtype=float)
    p = np.clip(np.asarray(true_pd, dtype=float), 1e-6, 1 - 1e-6)
    thin = np.asarray(thin, dtype=bool)
    risk_bin = pd.qcut(p, RISK_BINS, labels=False, duplicates="drop")
    low, high = np.quantile(p, ORDINARY_RISK)
    ordinary = (p >= low) & (p <= high)

    def equal_risk(values: np.ndarray, part: np.ndarray, mask: np.ndarray) -> float:
        total = weight = 0.0
        for b in np.unique(risk_bin[mask]):
            a = mask & (risk_bin == b) & part
            f = mask & (risk_bin == b) & ~thin
            if a.sum() >= MIN_CELL and f.sum() >= MIN_CELL:
                total += a.sum() * (values[a].mean() - values[f].mean())
                weight += a.sum()
        return total / weight if weight else math.nan

    warranted = scaling.offset + scaling.factor * np.log((1 - p) / p)
    residual = s - warranted
    score_bin = np.floor(s / SCORE_BIN_POINTS)
    total = weight = by_rate = 0.0
    for b in np.unique(score_bin):
        a = (score_bin == b) & thin
        f = (score_bin == b) & ~thin
        if a.sum() >= MIN_CELL and f.sum() >= MIN_CELL:
            total += a.sum() * (residual[a].mean() - residual[f].mean())
            pa, pf = p[a].mean(), p[f].mean()
            by_rate += a.sum() * scaling.factor * (_logit(pa) - _logit(pf))
            weight += a.sum()
    rows = []
    for b in np.unique(risk_bin):
        a, f = (risk_bin == b) & thin, (risk_bin == b) & ~thin
        rows.append(
            {
                "risk_tenth": int(b) + 1,
                "mean_true_pd": float(p[risk_bin == b].mean()),
                "thin_mean_score": float(s[a].mean()) if a.any() else math.nan,
                "full_mean_score": float(s[f].mean()) if f.any() else math.nan,
                "thin_people": int(a.sum()),
                "full_people": int(f.sum()),
            }
        )
    out: dict[str, object] = {
        "gap_equal_risk": equal_risk(s, thin, ordinary),
        "gap_equal_score": total / weight if weight else math.nan,
        "gap_equal_score_bad_rate": by_rate / weight if weight else math.nan,
        "by_risk": pd.DataFrame(rows),
    }
    for name, part in (subgroups or {}).items():
        out[f"gap_{name}"] = equal_risk(s, np.asarray(part, dtype=bool) & thin, ordinary)
    if points is not None:
        terms = {
            str(c): equal_risk(points[c].to_numpy(dtype=float), thin, ordinary)
            for c in points.columns
        }
        ranked = sorted(
            ((k, v) for k, v in terms.items() if not math.isnan(v)), key=lambda kv: kv[1]
        )
        out["terms"] = {k: round(v, 2) for k, v in ranked if abs(v) >= 0.05}
    return out


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _auc(y_bad: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_bad, -np.asarray(scores, dtype=float)))


def thin_file_analysis(
    card: Scorecard,
    data: AuditData,
    *,
    method: str = "scorecard",
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ThinFileResult:
    """Thin-file gaps of the audited model, the design model and the naive model, all
    measured on the same half of the world (the other half trains the two retrained
    models with ``method``)."""
    from sklearn.model_selection import train_test_split

    from openscore.jobs.train import feature_meta

    say = progress or (lambda _m: None)
    if data.true_pd is None or data.wallet_payments_12m is None:
        raise InputError(NOT_SYNTHETIC.format(path=data.source), path=str(data.source))
    payments = data.wallet_payments_12m
    thin_all = payments < THIN_FILE_PAYMENTS
    need = 2 * MIN_CELL
    if thin_all.sum() < need or (~thin_all).sum() < need:
        raise InputError(
            TOO_FEW_THIN.format(thin=int(thin_all.sum()), full=int((~thin_all).sum()), need=need)
        )
    positions = np.arange(len(data))
    train, test = train_test_split(
        positions, test_size=0.5, stratify=data.y_bad, random_state=random_state
    )
    train, test = np.sort(train), np.sort(test)
    # a feature nobody has (e.g. a source no one in the world shares) carries nothing and
    # cannot be binned: leave it out of both retrained models alike
    X = data.features.loc[:, data.features.notna().any()]
    meta: dict[str, FeatureMeta] = {c: m for c, m in feature_meta().items() if c in X.columns}
    X = X[list(meta)]  # the model inputs (the catalog's not_an_input features left out)
    Xa, ya = X.iloc[train].reset_index(drop=True), data.y_bad[train]
    Xb, yb = X.iloc[test].reset_index(drop=True), data.y_bad[test]

    say(f"training the design model ({method}, missing neutral) on {len(train):,} people")
    design = train_model(Xa, ya, meta, method=method, random_state=random_state)
    monotonic = {c: m.monotonic for c, m in meta.items()}
    fills = worst_value_fills(Xa, ya, monotonic)
    say(f"training the naive model ({method}, missing = worst value) on {len(train):,} people")
    naive = train_model(Xa.fillna(fills), ya, meta, method=method, random_state=random_state)

    thin = thin_all[test]
    subgroups = {"no_wallet": payments[test] == 0, "low_wallet": payments[test] > 0}
    true_pd = data.true_pd[test]
    models = []
    for name, description, model, inputs in (
        ("audited", f"the audited model {card.model_id}", card, Xb),
        ("design", f"retrained ({method}), missing data neutral (0 points)", design, Xb),
        (
            "naive",
            f"retrained ({method}), missing data = worst value seen",
            naive,
            Xb.fillna(fills),
        ),
    ):
        scores = data.scores[test] if name == "audited" else scores_of(model, inputs)
        every = data.features.iloc[test].reset_index(drop=True)  # the audited model's inputs
        if name == "naive":
            every = inputs
        points = pd.DataFrame(
            points_matrix(model.terms, every), columns=[t.name for t in model.terms]
        )
        gaps = score_gaps(scores, true_pd, thin, model.scaling, points=points, subgroups=subgroups)
        models.append(
            ModelGap(
                name=name,
                description=description,
                auc=_auc(yb, scores),
                gap_equal_risk=float(gaps["gap_equal_risk"]),  # type: ignore[arg-type]
                gap_equal_score=float(gaps["gap_equal_score"]),  # type: ignore[arg-type]
                gap_no_wallet=float(gaps["gap_no_wallet"]),  # type: ignore[arg-type]
                gap_low_wallet=float(gaps["gap_low_wallet"]),  # type: ignore[arg-type]
                by_risk=gaps["by_risk"],  # type: ignore[arg-type]
                terms=gaps["terms"],  # type: ignore[arg-type]
                gap_equal_score_bad_rate=float(gaps["gap_equal_score_bad_rate"]),  # type: ignore[arg-type]
            )
        )
    return ThinFileResult(
        definition={
            "thin_file": f"fewer than {THIN_FILE_PAYMENTS} wallet payments in the 12 months "
            "before the as-of date (none at all included)",
            "ordinary_risk": f"true PD between the {ORDINARY_RISK[0]:.0%} and "
            f"{ORDINARY_RISK[1]:.0%} quantiles",
            "risk_bins": RISK_BINS,
            "score_bin_points": SCORE_BIN_POINTS,
            "min_cell": MIN_CELL,
            "train_people": int(len(train)),
            "evaluation_people": int(len(test)),
            "method": method,
        },
        people={
            "thin": int(thin.sum()),
            "no_wallet": int((thin & subgroups["no_wallet"]).sum()),
            "low_wallet": int((thin & subgroups["low_wallet"]).sum()),
            "full": int((~thin).sum()),
        },
        mean_true_pd={
            "thin": float(true_pd[thin].mean()),
            "full": float(true_pd[~thin].mean()),
        },
        models=models,
        naive_fills={k: round(v, 6) for k, v in fills.items()},
    )
