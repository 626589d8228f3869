"""The whole pipeline gives the same answers on Spark as on DuckDB.

One synthetic population (``openscore.synth``) is ingested into a ledger; features,
training and batch scores then run on both engines through ``openscore.jobs`` -- the
same Ibis expressions, executed by DuckDB in process and by Spark in local mode on a
real JVM. Features must be the same to the bit, the trained model file must be
the same whichever engine computed its training frame, and every person's score, band,
dimension sub-scores and reason codes (with their texts) must be identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.features import FEATURE_NAMES
from openscore.features.expert import expert_scorecard
from openscore.features.graph import GRAPH_FEATURES
from openscore.ingest import Ingester, no_consent_check
from openscore.jobs import batch_scores, feature_table, train_from_events
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.synth import RunOptions, generate, parse_params

from fixtures.spark import nulls_alike

pytestmark = [pytest.mark.spark, pytest.mark.slow]

#: big enough that every feature has knife-edge values (sums landing on half cents,
#: ratios on half ten-thousandths) and every reason code appears; small enough for CI
PEOPLE, MONTHS, SEED = 2500, 13, 11
AS_OF = date(2026, 6, 30)


@dataclass(frozen=True)
class World:
    ledger: Ledger
    outcomes: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("parity")
    generate(
        parse_params(people=PEOPLE, months=MONTHS, seed=SEED, as_of=AS_OF),
        root / "synth",
        RunOptions(workers=1),
    )
    ledger = Ledger(root / "ledger")
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [root / "synth" / "events"], "synth"
    )
    assert result.accepted > 50 * PEOPLE and result.rejected == 0
    return World(ledger, root / "synth" / "outcomes.parquet")


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def duck_card(world: World, duck: DuckDBEngine) -> Scorecard:
    return train_from_events(duck, world.ledger, world.outcomes, method="scorecard")


def by_person(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("person_id").reset_index(drop=True)


def test_features_are_the_same(world: World, duck: DuckDBEngine, spark_engine: Any) -> None:
    want = by_person(duck.to_pandas(feature_table(duck, world.ledger, AS_OF)))
    got = by_person(spark_engine.to_pandas(feature_table(spark_engine, world.ledger, AS_OF)))

    assert list(got.columns) == ["person_id", *FEATURE_NAMES]
    assert len(want) > 0.9 * PEOPLE
    assert got["person_id"].tolist() == want["person_id"].tolist()
    for name in FEATURE_NAMES:
        # graph features come from the graph run (scoring, training), not this table
        if name not in GRAPH_FEATURES:
            assert want[name].notna().any(), f"{name} is never computed: the test shows nothing"
        pd.testing.assert_series_equal(got[name], want[name], check_exact=True, obj=name)


def _content(card: Scorecard) -> dict:
    """The model file minus what names the moment of training (time, id, checksum)."""
    body = card.to_dict()
    for key in ("created_at", "checksum"):
        body.pop(key)
    body["metrics"].pop("generated_at", None)
    method, _stamp, terms = body.pop("model_id").split("-")
    body["model_id"] = f"{method}-{terms}"
    return body


def test_training_on_spark_gives_the_same_model(
    world: World, spark_engine: Any, duck_card: Scorecard
) -> None:
    # the features are computed on Spark, the sample is pulled to the driver and fitted
    card = train_from_events(spark_engine, world.ledger, world.outcomes, method="scorecard")

    assert card.training["fingerprint"] == duck_card.training["fingerprint"]
    assert _content(card) == _content(duck_card)


@pytest.mark.parametrize("model", ["expert", "trained"])
def test_scores_bands_subscores_and_reasons_are_identical(
    model: str, world: World, duck: DuckDBEngine, spark_engine: Any, duck_card: Scorecard
) -> None:
    card = expert_scorecard() if model == "expert" else duck_card
    want = by_person(duck.to_pandas(batch_scores(duck, world.ledger, card, AS_OF)))
    got = by_person(spark_engine.to_pandas(batch_scores(spark_engine, world.ledger, card, AS_OF)))

    assert len(got) == len(want) > 0.9 * PEOPLE
    assert want["reason_1"].nunique() > 3, "too few distinct reasons to show anything"
    assert want["band"].nunique() >= 3
    # a dimension the model gives no points (relationships, without a graph run) is null
    # for everyone: pandas reads an all-null integer column as float64 from DuckDB and as
    # object from Spark; the values (all null) are what must agree
    pd.testing.assert_frame_equal(nulls_alike(got), nulls_alike(want), check_exact=True)
