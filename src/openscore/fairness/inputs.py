"""What a fairness audit reads: scores of a model over a prepared dataset, the outcomes,
and the group attributes kept beside (never inside) the model's inputs.

Two kinds of ``--data``:

* **a directory** of events in the ledger's input format with ``outcomes.parquet`` — a
  synthetic world (``openscore synth``, groups from ``people.parquet``) or a converted
  Taiwan dataset (``openscore convert taiwan``, groups from ``fairness.parquet``). The
  features are computed from the directory's *own* events by the ledger's feature
  expression (``build_features``) on an in-memory DuckDB, as of the outcomes' date. The
  operator's ledger and registry are never read or written: the audit is reproducible
  from the directory alone, and protected attributes never enter the data directory.
* **a table** (CSV or Parquet) for a model trained in tabular mode — e.g. the raw Taiwan
  CSV. The target is the model's target column; the protected columns the model excluded
  are the groups.

When the rows are exactly the ones the model was trained on (the model file's training
fingerprint matches: its own training table, or the directory it was trained from), only
the model's test split is audited, so that AUC and calibration are out of sample.

Scores are the published integer scores (``scores_of``; the batch scorer is held to the
same numbers by the scoring tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from openscore.errors import InputError
from openscore.model import Scorecard
from openscore.model.apply import scores_of

DATA_NOT_FOUND = "audit data not found: {path}"
NOT_A_DATASET = (
    "{path} is neither a table (.csv, .parquet) nor a prepared directory with events/ and "
    "outcomes.parquet"
)
NO_GROUP_FILE = (
    "{path} has no group attributes beside its events: expected people.parquet (a "
    "synthetic world) or fairness.parquet (a converted Taiwan dataset)"
)
MODEL_NOT_EVENT_MODE = (
    "model {model_id} reads columns {columns} that are not ledger features: it was trained "
    "on a table; give that table as --data"
)
MODEL_WITHOUT_TARGET = (
    "model {model_id} does not name its target column; a table audit needs it to find the outcomes"
)
TARGET_NOT_IN_TABLE = "the table has no column {target!r} (the model's target)"
FEATURES_NOT_IN_TABLE = "the table lacks columns the model needs: {columns}"
NO_PEOPLE = "no people with both a score and an outcome in {path}"


@dataclass
class AuditData:
    """Everything the audit needs, one row per audited person, aligned."""

    kind: str  # "synthetic" | "taiwan" | "table"
    source: Path
    person_id: np.ndarray
    scores: np.ndarray
    y_bad: np.ndarray
    #: the model's inputs (for the thin-file analysis's retraining and term breakdown)
    features: pd.DataFrame
    #: protected and other group attributes, raw (``derive_groups`` labels them)
    group_source: pd.DataFrame
    evaluated_on: str
    as_of: date | None = None
    #: synthetic worlds only: the true probability of default, and wallet activity
    true_pd: np.ndarray | None = None
    wallet_payments_12m: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y_bad)


def load_audit_data(card: Scorecard, data: Path, *, all_rows: bool = False) -> AuditData:
    """Score ``data`` with ``card`` and line the scores up with outcomes and groups."""
    data = Path(data)
    if not data.exists():
        raise InputError(DATA_NOT_FOUND.format(path=data), path=str(data))
    if data.is_file():
        if data.suffix.lower() not in {".csv", ".parquet", ".pq", ".gz", ".tsv"}:
            raise InputError(NOT_A_DATASET.format(path=data), path=str(data))
        return _from_table(card, data, all_rows=all_rows)
    return _from_events(card, data, all_rows=all_rows)


def group_columns(data: Path) -> list[str] | None:
    """The columns group attributes can come from, read from the file headers only (so
    that a bad ``--group`` fails before any feature is computed); None if unknown."""
    import pyarrow.parquet as pq

    data = Path(data)
    if data.is_dir():
        for name in ("people.parquet", "fairness.parquet"):
            if (data / name).exists():
                return list(pq.read_schema(data / name).names)
        return None
    suffix = data.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return list(pq.read_schema(data).names)
    if suffix in {".csv", ".gz"}:
        return [str(c) for c in pd.read_csv(data, nrows=0).columns]
    return None


# -- a table (tabular mode) -------------------------------------------------------------
def _from_table(card: Scorecard, path: Path, *, all_rows: bool) -> AuditData:
    from openscore.model.tabular import coerce_for_model, prepare_tabular, read_table

    df = read_table(path)
    if not card.target:
        raise InputError(MODEL_WITHOUT_TARGET.format(model_id=card.model_id), path=str(path))
    if card.target not in df.columns:
        raise InputError(TARGET_NOT_IN_TABLE.format(target=card.target), path=str(path))
    missing = [f for f in card.feature_names if f not in df.columns]
    if missing:
        raise InputError(FEATURES_NOT_IN_TABLE.format(columns=", ".join(missing)), path=str(path))
    id_column = card.id_column if card.id_column in df.columns else None
    prepared = prepare_tabular(df, card.target, id_column=id_column)
    y = np.asarray(prepared.y, dtype=int)
    rows = np.arange(len(df))
    evaluated_on = f"all {len(df):,} rows of {path.name}"
    test = None if all_rows else _test_rows(card, prepared.X, y)
    if test is not None:
        rows = test
        evaluated_on = (
            f"the model's test split: {len(rows):,} of {len(df):,} rows of {path.name} "
            "(the table it was trained on)"
        )
    features = coerce_for_model(df, card.features)[card.feature_names].iloc[rows]
    features = features.reset_index(drop=True)
    ids = df[id_column].to_numpy()[rows] if id_column else rows.astype(str)
    return AuditData(
        kind="taiwan" if {"SEX", "MARRIAGE"} <= set(df.columns) else "table",
        source=path,
        person_id=np.asarray(ids),
        scores=scores_of(card, features),
        y_bad=y[rows],
        features=features,
        group_source=df.iloc[rows].reset_index(drop=True),
        evaluated_on=evaluated_on,
    )


# -- a prepared directory (event mode) ----------------------------------------------------
@dataclass
class PreparedDirectory:
    """A prepared directory read once: per person (sorted by id) the outcome, every ledger
    feature, the wallet payments of the last 12 months and the side file's attributes."""

    root: Path
    kind: str  # "synthetic" | "taiwan"
    frame: pd.DataFrame
    side_columns: list[str]
    as_of: date

    @property
    def features(self) -> pd.DataFrame:
        from openscore.features import FEATURE_NAMES

        return self.frame[list(FEATURE_NAMES)].astype("float64")


def read_directory(root: Path) -> PreparedDirectory:
    """Features from the directory's own events, outcomes and the side file, joined."""
    from openscore.jobs.train import read_outcomes

    root = Path(root)
    if not (root / "events").is_dir() or not (root / "outcomes.parquet").exists():
        raise InputError(NOT_A_DATASET.format(path=root), path=str(root))
    if (root / "people.parquet").exists():
        kind, side = "synthetic", pd.read_parquet(root / "people.parquet")
    elif (root / "fairness.parquet").exists():
        kind, side = "taiwan", pd.read_parquet(root / "fairness.parquet")
    else:
        raise InputError(NO_GROUP_FILE.format(path=root), path=str(root))
    outcomes, as_of = read_outcomes(root / "outcomes.parquet")
    features, payments = directory_features(root, outcomes[["person_id"]], as_of)
    frame = (
        outcomes[["person_id", "defaulted_12m"]]
        .merge(features, on="person_id", how="left")
        .merge(payments, on="person_id", how="left")
        .merge(side, on="person_id", how="inner", suffixes=("", "_side"))
        .sort_values("person_id", kind="stable")
        .reset_index(drop=True)
    )
    if frame.empty:
        raise InputError(NO_PEOPLE.format(path=root), path=str(root))
    frame["wallet_payments_12m"] = frame["wallet_payments_12m"].fillna(0).astype(int)
    return PreparedDirectory(
        root, kind, frame, [c for c in side.columns if c != "person_id"], as_of
    )


def score_directory(
    card: Scorecard, prepared: PreparedDirectory, *, all_rows: bool = False
) -> AuditData:
    """Score a read directory with ``card``: the audit's data (only the model's test split
    when these are exactly the rows it was trained on, unless ``all_rows``)."""
    from openscore.features import FEATURE_NAMES

    foreign = [f for f in card.feature_names if f not in FEATURE_NAMES]
    if foreign:
        raise InputError(
            MODEL_NOT_EVENT_MODE.format(model_id=card.model_id, columns=", ".join(foreign[:6])),
            path=str(prepared.root),
        )
    frame = prepared.frame
    X = prepared.features
    y = frame["defaulted_12m"].astype(int).to_numpy()
    rows = None if all_rows else _test_rows(card, X, y)
    evaluated_on = f"all {len(frame):,} people of {prepared.root.name} with an outcome"
    if rows is not None:
        frame, X = frame.iloc[rows].reset_index(drop=True), X.iloc[rows].reset_index(drop=True)
        y = y[rows]
        evaluated_on = (
            f"the model's test split: {len(rows):,} of {len(prepared.frame):,} people of "
            f"{prepared.root.name} (the people it was trained on)"
        )
    return AuditData(
        kind=prepared.kind,
        source=prepared.root,
        person_id=frame["person_id"].to_numpy(),
        scores=scores_of(card, X),
        y_bad=y,
        features=X,
        group_source=frame[prepared.side_columns],
        evaluated_on=evaluated_on,
        as_of=prepared.as_of,
        true_pd=frame["true_pd"].to_numpy(dtype=float) if "true_pd" in frame else None,
        wallet_payments_12m=frame["wallet_payments_12m"].to_numpy(dtype=int),
    )


def _test_rows(card: Scorecard, X: pd.DataFrame, y: np.ndarray) -> np.ndarray | None:
    """The model's test split when ``X, y`` are exactly its training rows (the same
    fingerprint), so that AUC and calibration are measured out of sample; else None."""
    from openscore.model.tabular import fingerprint
    from openscore.model.training import split_rows

    split = card.metrics.get("split", {})
    if "test_size" not in split or "oot_rows" in split:
        return None
    if card.training.get("fingerprint") != fingerprint(X, y):
        return None
    return split_rows(y, test_size=split["test_size"], random_state=split["random_state"])["test"]


def _from_events(card: Scorecard, root: Path, *, all_rows: bool) -> AuditData:
    from openscore.features import FEATURE_NAMES

    foreign = [f for f in card.feature_names if f not in FEATURE_NAMES]
    if foreign:  # before reading anything
        raise InputError(
            MODEL_NOT_EVENT_MODE.format(model_id=card.model_id, columns=", ".join(foreign[:6])),
            path=str(root),
        )
    return score_directory(card, read_directory(root), all_rows=all_rows)


def directory_features(
    root: Path, people: pd.DataFrame, as_of: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger's features of ``people`` from the directory's events, and each person's
    wallet payments in the 12 months up to ``as_of`` (the thin-file measure)."""
    import ibis

    from openscore.engines.base import get_engine
    from openscore.features import build_features
    from openscore.features.capacity import YEAR
    from openscore.features.frame import AsOf, as_of_view

    files = sorted(str(p) for p in (root / "events").rglob("*.parquet"))
    if not files:
        raise InputError(NOT_A_DATASET.format(path=root), path=str(root))
    engine = get_engine("duckdb")
    try:
        events = engine.read_parquet(files)
        who = engine.table(people, "audit_people")
        features = engine.to_pandas(build_features(events, as_of, who))
        a = AsOf(as_of)
        seen = as_of_view(events, a)
        wallet = seen.filter((seen.type == "payment") & (seen.occurred_at >= a.since(YEAR)))
        payments = engine.to_pandas(
            wallet.group_by("person_id").aggregate(wallet_payments_12m=ibis._.count())
        )
    finally:
        engine.close()
    return features, payments
