"""Training entry point: features + outcomes → a validated :class:`Scorecard`.

``train_model`` knows nothing about where features come from: tabular mode (a CSV) and
event mode (features computed from the ledger) both call it with a frame, a 0/1 target
and a :class:`FeatureMeta` per column.

The model that is returned is the one fitted on the training part; its figures on the
test (and out-of-time) part describe exactly that model. It is not refitted on all rows,
so that the figures in the file are not a promise about a different model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from openscore.domain import Dimension
from openscore.errors import InputError
from openscore.model import metrics as m
from openscore.model.apply import bin_indices, scores_of
from openscore.model.calibration import calibrate_scale
from openscore.model.format import (
    Feature,
    FeatureMeta,
    Monotonic,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
    with_metrics,
)
from openscore.model.protected import DEFAULT_PROTECTED_ATTRIBUTES, ProtectedAttributes
from openscore.model.selection import choose_method, make_estimator
from openscore.model.tabular import fingerprint

TRAIN_METHODS = ("auto", "scorecard", "ebm")


def _as_recorded(monotonic: Literal["ascending", "descending", "none", "auto"]) -> Monotonic:
    """``auto`` (the binning chose the direction) is recorded as ``none`` in the file."""
    return "none" if monotonic == "auto" else monotonic


def _check_inputs(X: pd.DataFrame, y: Any, meta: Mapping[str, FeatureMeta]) -> np.ndarray:
    y = np.asarray(y)
    if len(y) != len(X):
        raise InputError(f"{len(X)} feature rows but {len(y)} outcomes")
    if not np.isin(y, (0, 1, True, False)).all():
        raise InputError("outcomes must be 0/1 (1 = bad)")
    y = y.astype(np.int8)
    if len(y) == 0 or y.min() == y.max():
        raise InputError("outcomes have one class only; training needs goods and bads")
    unknown = [c for c in X.columns if c not in meta]
    if unknown:
        raise InputError(f"no FeatureMeta for columns: {', '.join(map(str, unknown))}")
    missing = [c for c in meta if c not in X.columns]
    if missing:
        raise InputError(f"FeatureMeta names columns the frame lacks: {', '.join(missing)}")
    dims = {d.value for d in Dimension}
    for c, fm in meta.items():
        if fm.dimension not in dims:
            raise InputError(f"unknown dimension {fm.dimension!r}", field=c)
    if min(np.bincount(y, minlength=2)) < 10:
        raise InputError("fewer than 10 goods or bads: too few outcomes to train on")
    outcomes: np.ndarray = y
    return outcomes


def check_constraints(terms: Sequence[Term], meta: Mapping[str, FeatureMeta]) -> None:
    """Every term over a bounded feature obeys its bounds; both trainers enforce them.

    The file cannot say that a term may only raise a score, so the trained tables are
    checked here before a model is built: a broken bound is a bug, never a model.
    """
    for t in terms:
        for f in t.features:
            fm = meta.get(f)
            if fm is None or not (fm.only_raises or fm.max_points is not None):
                continue
            if t.is_pair:
                raise InputError(f"term {t.name!r}: {f} may only raise a score; no pairs")
            cells = [int(v) for v in t.points]
            if fm.only_raises and min(cells) < 0:
                raise InputError(f"term {t.name!r}: points below the missing bin's 0")
            if fm.max_points is not None and max(cells) > fm.max_points:
                raise InputError(f"term {t.name!r}: points above its cap of {fm.max_points}")
    wrong = monotone_violations(terms, meta)
    if wrong:
        raise InputError("points not monotone where the meaning is: " + "; ".join(wrong))


def monotone_violations(terms: Sequence[Term], meta: Mapping[str, FeatureMeta]) -> list[str]:
    """Declared features whose whole effect can go against their direction of risk.

    ``ascending`` risk means a person's points never rise when the feature's value moves
    up a bin, ``descending`` that they never fall, whatever the person's other values (the
    missing bin is outside the order: it is 0). The whole effect is the sum of every term
    over the feature: its main table and its pair tables. A pair table may bend against
    the direction by no more than the main table moves the right way at the same edge:
    at each edge of any of those tables, the main table's step plus, for each pair, its
    worst step over the other feature's bins must go the declared way. The other
    features' bins are taken independently, so this holds for every combination of them.
    """
    out = []
    for f, fm in meta.items():
        if fm.monotonic not in ("ascending", "descending"):
            continue
        over: list[tuple[Term, int, NumericBinning]] = []
        for t in terms:
            if f in t.features:
                axis = t.features.index(f)
                b = t.binnings[axis]
                if isinstance(b, NumericBinning):
                    over.append((t, axis, b))
        if not over:
            continue
        edges = np.array(sorted({e for _, _, b in over for e in b.edges}), dtype=np.float64)
        if edges.size == 0:
            continue
        sign = 1 if fm.monotonic == "ascending" else -1  # points must fall (rise) with value
        total = np.zeros(len(edges), dtype=np.int64)
        for t, axis, b in over:
            n = b.missing_index
            table = np.asarray(t.points, dtype=np.int64)
            lines = np.moveaxis(table, axis, -1)[..., :n].reshape(-1, n)
            below = np.searchsorted(b.edges, edges, side="left")
            above = np.searchsorted(b.edges, edges, side="right")
            steps = sign * (lines[:, above] - lines[:, below])  # > 0: against the direction
            total += steps.max(axis=0)
        bad = np.flatnonzero(total > 0)
        if not bad.size:
            continue
        i = int(bad[0])
        if len(over) == 1 and not over[0][0].is_pair:
            t, _, b = over[0]
            k = int(np.searchsorted(b.edges, edges[i], side="left"))
            out.append(
                f"{t.name}: risk declared {fm.monotonic} but points go from "
                f"{t.points[k]} to {t.points[k + 1]} at bin {k + 1}"
            )
        else:
            names = ", ".join(t.name for t, _, _ in over)
            out.append(
                f"{f}: risk declared {fm.monotonic} but its terms ({names}) together can "
                f"{'rise' if sign > 0 else 'fall'} by {int(total[i])} points at {edges[i]:g}"
            )
    return out


def split_rows(
    y: np.ndarray,
    *,
    test_size: float,
    random_state: int,
    dates: pd.Series | None = None,
    oot_fraction: float = 0.2,
) -> dict[str, np.ndarray]:
    """Row positions of train / test (stratified) and, with dates, the latest rows as OOT."""
    positions = np.arange(len(y))
    out: dict[str, np.ndarray] = {}
    if dates is not None:
        d = pd.to_datetime(pd.Series(dates).reset_index(drop=True))
        if d.isna().any():
            raise InputError("the date column has missing values")
        cutoff = d.quantile(1 - oot_fraction)
        oot = positions[(d >= cutoff).to_numpy()]
        positions = positions[(d < cutoff).to_numpy()]
        out["oot"] = oot
        out["cutoff"] = np.array([str(cutoff.date())])
    train, test = train_test_split(
        positions, test_size=test_size, stratify=y[positions], random_state=random_state
    )
    out["train"] = np.sort(train)
    out["test"] = np.sort(test)
    return out


#: a feature present on fewer training rows than this is left out (recorded in the card)
MIN_PRESENT_ROWS = 20


def train_model(
    X: pd.DataFrame,
    y: Any,
    meta: Mapping[str, FeatureMeta],
    method: str = "auto",
    *,
    scaling: Scaling | None = None,
    test_size: float = 0.3,
    random_state: int = 42,
    cv_folds: int = 5,
    dates: pd.Series | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    audit_only: bool = False,
    id_column: str | None = None,
    target: str | None = None,
    excluded: Mapping[str, str] | None = None,
    as_of: str | None = None,
    protected: ProtectedAttributes = DEFAULT_PROTECTED_ATTRIBUTES,
    progress: Callable[[str], None] | None = None,
    calibrate: bool = True,
) -> Scorecard:
    """Split, choose (``auto``), fit, export to points and validate; return the model.

    ``calibrate``: choose the anchor and PDO from the scorable training people so that the
    bands are used (``model/calibration.py``); False keeps ``scaling`` as given.

    ``params``: per method, settings passed to the trainer (``{"ebm": {"outer_bags": 8}}``).
    ``dates``: one date per row; the latest 20 % become an out-of-time test set.
    ``audit_only``: allow protected attributes (fairness audits); the model cannot score.
    """
    if method not in TRAIN_METHODS:
        raise InputError(f"method must be one of {', '.join(TRAIN_METHODS)}, got {method!r}")
    y = _check_inputs(X, y, meta)
    named_protected = protected.find(meta)
    if named_protected and not audit_only:
        listed = ", ".join(f"{c} ({k})" for c, k in named_protected.items())
        raise InputError(
            f"protected attributes are never model inputs: {listed} (use audit_only for a "
            "fairness-audit model that cannot score people)"
        )
    scaling = scaling or Scaling.from_settings()
    say = progress or (lambda _msg: None)
    X = X.reset_index(drop=True)
    parts = split_rows(y, test_size=test_size, random_state=random_state, dates=dates)
    Xtr, ytr = X.iloc[parts["train"]].reset_index(drop=True), y[parts["train"]]
    # a column (almost) never present carries nothing and breaks binning (a fold with no
    # value at all): it is left out and says so, like a constant column in tabular mode
    present = Xtr.notna().sum()
    rare = {
        str(c): f"present on {int(n)} training rows (at least {MIN_PRESENT_ROWS} needed)"
        for c, n in present.items()
        if n < MIN_PRESENT_ROWS
    }
    # one value on every row that has one: nothing to rank people by (said, not crashed on)
    constant = {
        str(c): "one value on every training row that has one (nothing to learn from)"
        for c in Xtr.columns
        if str(c) not in rare and Xtr[c].nunique(dropna=True) == 1
    }
    if constant:
        say(f"left out, one value only: {', '.join(constant)}")
        rare = {**rare, **constant}
    if rare:
        say(f"left out: {', '.join(rare)}")
        Xtr = Xtr.drop(columns=list(rare))
        meta = {c: m for c, m in meta.items() if c not in rare}
        excluded = {**dict(excluded or {}), **rare}
    if Xtr.shape[1] == 0:
        raise InputError("no feature has values on the training rows: nothing to learn from")

    cv_report: dict[str, Any] | None = None
    if method == "auto":
        say(f"choosing by {cv_folds}-fold cross-validation on {len(ytr)} training rows")
        method, cv_report = choose_method(
            Xtr,
            ytr,
            meta,
            scaling=scaling,
            folds=cv_folds,
            random_state=random_state,
            params=params,
            progress=say,
        )
        say(f"chosen: {method}")
    say(f"fitting {method} on {len(ytr)} rows")
    est = make_estimator(method, meta, scaling, (params or {}).get(method), random_state)
    est.fit(Xtr, ytr)
    check_constraints(est.terms_, meta)

    used = {f for t in est.terms_ for f in t.features}
    features = [
        Feature(
            name=c,
            dimension=meta[c].dimension,
            type=meta[c].type,
            description=meta[c].description,
            improve=meta[c].improve,
            monotonic=_as_recorded(meta[c].monotonic),
        )
        for c in X.columns
        if c in used
    ]
    dropped = {**dict(excluded or {}), **est.dropped_}
    for c in X.columns:
        if c not in used and c not in dropped:
            dropped[c] = "no points in any term (no information after binning)"
    training = {
        "fingerprint": fingerprint(X, y),
        "rows": int(len(y)),
        "train_rows": int(len(parts["train"])),
        "bad_rate": round(float(y.mean()), 6),
        "as_of": as_of,
        "excluded": dropped,
        "protected_in_model": sorted(named_protected),
    }
    card = build_scorecard(
        method=method,
        scaling=scaling,
        intercept_points=est.intercept_points_,
        features=features,
        terms=est.terms_,
        training=training,
        audit_only=audit_only,
        id_column=id_column,
        target=target,
    )
    if calibrate and not audit_only:
        say("choosing the scale from the training population")
        train_rows = X.iloc[parts["train"]].reset_index(drop=True)
        card = calibrate_scale(card, train_rows, ytr)
        scaling = card.scaling
        check_constraints(card.terms, meta)  # the published points, after the rescale
    say("validating")
    figures = validate_scorecard(card, X, y, parts, scaling=scaling)
    if "scale" in card.metrics:
        figures["scale"] = card.metrics["scale"]
    if cv_report is not None:
        figures["cv"] = cv_report
    figures["split"] = {
        "method": "stratified" + (" + out-of-time" if "oot" in parts else ""),
        "test_size": test_size,
        "random_state": random_state,
        "train_rows": int(len(parts["train"])),
        "test_rows": int(len(parts["test"])),
        **(
            {"oot_rows": int(len(parts["oot"])), "oot_from": str(parts["cutoff"][0])}
            if "oot" in parts
            else {}
        ),
    }
    return with_metrics(card, figures)


def validate_scorecard(
    card: Scorecard,
    X: pd.DataFrame,
    y: np.ndarray,
    parts: Mapping[str, np.ndarray],
    *,
    scaling: Scaling,
) -> dict[str, Any]:
    """The model card's figures, computed on the exported points."""
    scores = scores_of(card, X)
    tr, te = parts["train"], parts["test"]
    out: dict[str, Any] = {
        "train": m.discrimination(y[tr], scores[tr]),
        "test": m.discrimination(y[te], scores[te]),
    }
    evaluation = te
    if "oot" in parts and len(parts["oot"]):
        out["oot"] = m.discrimination(y[parts["oot"]], scores[parts["oot"]])
    bands = m.band_table(y[evaluation], scores[evaluation], scaling)
    out["bands"] = bands
    out["bad_rate_falls"] = m.bad_rate_falls(bands)
    out["roc"] = m.roc_points(y[evaluation], scores[evaluation])
    out["score_distribution"] = m.score_distribution(y[evaluation], scores[evaluation], scaling)
    # PSI: score, then each feature on the bins of its main-effect term (deciles if none)
    out["psi"] = {"score": m.psi(scores[tr], scores[te]), "features": {}}
    main = {t.features[0]: t for t in card.terms if not t.is_pair}
    for f in card.features:
        if f.name in main:
            b = main[f.name].binnings[0]
            idx = bin_indices(b, X[f.name])
            value = m.psi_of_indices(idx[tr], idx[te], b.size)
        elif f.type == "numeric":
            value = m.psi(X[f.name].to_numpy(dtype=float)[tr], X[f.name].to_numpy(float)[te])
        else:
            codes = pd.factorize(X[f.name].astype(str))[0]
            size = int(codes.max()) + 1
            value = m.psi_of_indices(codes[tr], codes[te], size)
        out["psi"]["features"][f.name] = round(value, 6)
    out["evaluated_on"] = "test"
    out["generated_at"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    return out
