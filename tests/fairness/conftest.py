"""A small synthetic world and a model trained on it, made once per session (a few
seconds), and the audit of that model over that world."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscore.fairness import FairnessReport, run_fairness_audit
from openscore.fairness.inputs import PreparedDirectory, read_directory, score_directory
from openscore.model import Scorecard
from openscore.synth import RunOptions, generate, parse_params

#: big enough that the thin-file comparison is stable (a 5,000-person evaluation half)
WORLD = {"people": 10_000, "months": 13, "seed": 7}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fairness") / "world"
    generate(parse_params(**WORLD), out, RunOptions(workers=1))
    return out


@pytest.fixture(scope="session")
def prepared(world: Path) -> PreparedDirectory:
    """The world's features, outcomes and attributes, computed once for every test."""
    return read_directory(world)


@pytest.fixture(scope="session")
def synth_model(prepared: PreparedDirectory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scorecard trained in event mode on the world's own features and outcomes."""
    from openscore.jobs.train import feature_meta
    from openscore.model import train_model

    X = prepared.features
    X = X.loc[:, X.notna().any()]
    meta = {c: m for c, m in feature_meta().items() if c in X.columns}
    X = X[list(meta)]
    y = prepared.frame["defaulted_12m"].astype(int)
    card = train_model(X, y, meta, method="scorecard", as_of=prepared.as_of.isoformat())
    path = tmp_path_factory.mktemp("models") / "synth.json"
    card.save(path)
    return path


@pytest.fixture(scope="session")
def synth_report(prepared: PreparedDirectory, synth_model: Path) -> FairnessReport:
    card = Scorecard.load(synth_model)
    return run_fairness_audit(card, score_directory(card, prepared))
