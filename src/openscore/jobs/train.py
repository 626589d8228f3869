"""Event mode: features of the ledger as of the observation date, joined to outcomes.

Training runs in two stages because the relationships feature is made of other people's
standing, which needs a model first:

1. the **base model** (every dimension but relationships) is trained by ``train_model``
   as in tabular mode — split, method choice, fit, validation;
2. its scores give everyone's standing, trust is propagated over the graph
   (``jobs/graph.py``), and the **relationships term** is fitted with the base model's
   log-odds as an *offset* (:mod:`openscore.model.offset`): one table of points over
   ``network_trust``, constrained to be 0 for not sharing and for no trusted connection,
   never negative, rising with trust, at most
   :func:`~openscore.model.relationships.relationships_cap` points. Base terms and
   intercept are kept as they are, so the model stays additive, the file format is
   unchanged, nobody who does not share ``social`` scores differently from the base model,
   and stage 1 at scoring time (the model minus its relationships term) is exactly the
   base model whose standing the term was fitted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal, cast

import ibis.expr.types as ir
import pandas as pd

from openscore.domain import Dimension
from openscore.engines.base import Engine
from openscore.errors import InputError
from openscore.features import FEATURE_NAMES, FEATURES, MODEL_INPUTS, build_features
from openscore.features.graph import GRAPH_FEATURES, GraphParams
from openscore.jobs.graph import compute_graph
from openscore.ledger import Ledger
from openscore.model import FeatureMeta, Scorecard, train_model
from openscore.model.format import (
    Scaling,
)
from openscore.model.offset import CV_FOLDS, add_relationships_term
from openscore.model.relationships import relationships_cap
from openscore.model.tabular import fingerprint


def feature_meta(
    scaling: Scaling | None = None, *, inputs_only: bool = True
) -> dict[str, FeatureMeta]:
    """What training needs to know of each event feature (dimension, direction, texts).

    Relationships features may only raise a score, by at most their cap; features marked
    ``only_raises`` in the catalog (wallet activity) may only raise it, uncapped.
    ``inputs_only``: leave out the features the catalog says are not model inputs
    (``FeatureSpec.not_an_input``); False gives every computed feature (to train the
    model as it was before, e.g. the fairness benchmark's baseline).
    """
    cap = relationships_cap(scaling or Scaling.from_settings())
    out = {}
    for f in FEATURES:
        if inputs_only and f.not_an_input is not None:
            continue
        rel = f.dimension == Dimension.RELATIONSHIPS
        out[f.name] = FeatureMeta(
            dimension=f.dimension.value,
            type="numeric",
            monotonic=cast(Literal["ascending", "descending", "none", "auto"], f.monotonic),
            description=f.description,
            reason=f.reason,
            improve=f.improve,
            only_raises=rel or f.only_raises,
            max_points=cap if rel else None,
        )
    return out


#: computed features a new model does not train on, and why (recorded in the model file)
NOT_INPUTS: dict[str, str] = {f.name: f.not_an_input for f in FEATURES if f.not_an_input}


def read_outcomes(path: Path) -> tuple[pd.DataFrame, date]:
    """``outcomes.parquet`` (person_id, as_of, defaulted_12m): the frame and its as-of date."""
    if not Path(path).exists():
        raise InputError("outcomes file not found", path=str(path))
    df = pd.read_parquet(path)
    target = next((c for c in ("defaulted_12m", "default", "defaulted") if c in df.columns), None)
    missing = [c for c in ("person_id", "as_of") if c not in df.columns]
    if missing or target is None:
        raise InputError(
            "outcomes need columns person_id, as_of and defaulted_12m "
            f"(missing: {', '.join(missing or ['defaulted_12m'])})",
            path=str(path),
        )
    dates = pd.to_datetime(df["as_of"]).dt.date.unique()
    if len(dates) != 1:
        raise InputError(
            "outcomes hold several as-of dates; give one observation date",
            path=str(path),
            field="as_of",
        )
    return df.rename(columns={target: "defaulted_12m"}), dates[0]


def _frame(
    engine: Engine,
    events: ir.Table,
    outcomes: pd.DataFrame,
    as_of: date,
    graph: ir.Table | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features of the people with an outcome, in person_id order, and their outcomes."""
    people = engine.table(outcomes[["person_id"]], "train_people")
    features = engine.to_pandas(build_features(events, as_of, people, graph))
    frame = outcomes[["person_id", "defaulted_12m"]].merge(features, on="person_id", how="left")
    frame = frame.sort_values("person_id").reset_index(drop=True)
    return frame[list(FEATURE_NAMES)].astype("float64"), frame["defaulted_12m"].astype("int8")


def event_training_frame(
    engine: Engine, ledger: Ledger, outcomes_path: Path
) -> tuple[pd.DataFrame, pd.Series, date]:
    """X (features of people with an outcome), y (1 = defaulted) and the as-of date.

    The relationships features are missing here: they need a model (stage 2).
    """
    outcomes, as_of = read_outcomes(outcomes_path)
    events = engine.ledger(ledger.snapshot().paths)
    X, y = _frame(engine, events, outcomes, as_of)
    return X, y, as_of


def train_from_events(
    engine: Engine,
    ledger: Ledger,
    outcomes_path: Path,
    *,
    method: str = "auto",
    progress: Callable[[str], None] | None = None,
    params: dict | None = None,
    graph_params: GraphParams | None = None,
    relationships: bool = True,
    relationships_cv: int = CV_FOLDS,
) -> Scorecard:
    """Train on the ledger's features as of the outcomes' observation date (two stages).

    ``relationships=False`` stops after the base model (no relationships term);
    ``relationships_cv``: folds of the held-out check the term must pass (0: none).
    """
    say = progress or (lambda _msg: None)
    outcomes, as_of = read_outcomes(outcomes_path)
    events = engine.ledger(ledger.snapshot().paths)
    X, y = _frame(engine, events, outcomes, as_of)
    meta = feature_meta()
    base_columns = [c for c in MODEL_INPUTS if c not in GRAPH_FEATURES]
    base = train_model(
        X[base_columns],
        y,
        {c: meta[c] for c in base_columns},
        method=method,
        excluded=NOT_INPUTS,
        as_of=as_of.isoformat(),
        target="defaulted_12m",
        id_column="person_id",
        progress=progress,
        params=params,
    )
    # the rows' fingerprint is taken over the event features as anyone recomputing them
    # from the ledger without a graph run gets them (graph features missing), so that a
    # later reader (the fairness audit) recognises the training rows and their split
    stage_one_rows = fingerprint(X, y)
    if not relationships:
        return _with_fingerprint(base, stage_one_rows)
    graph_params = graph_params or GraphParams()
    say("stage 2: standing from the base model, trust over mutual connections")
    graph = compute_graph(engine, ledger, base, as_of, graph_params, store=False, events=events)
    X, y = _frame(engine, events, outcomes, as_of, graph)
    say("stage 2: fitting the relationships term with the base score as offset")
    card = add_relationships_term(
        base, X, y, meta["network_trust"], graph_params, cv_folds=relationships_cv
    )
    return _with_fingerprint(card, stage_one_rows)


def _with_fingerprint(card: Scorecard, rows: str) -> Scorecard:
    return replace(card, training={**card.training, "fingerprint": rows})
