"""Where the map's people live: the ledger's address facts (consented profile source)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger
from openscore.privacy import place_people, public_cities, residences_from_ledger
from openscore.synth import RunOptions, generate, parse_params


def test_people_are_placed_by_their_latest_address_fact(data_dir: Path, tmp_path: Path) -> None:
    world = tmp_path / "world"
    generate(parse_params(people=300, months=13, seed=2), world, RunOptions(workers=1))
    ledger = Ledger.open()
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [world / "events" / "profile"], "synth"
    )
    assert not result.failed
    found = residences_from_ledger(ledger)
    truth = pd.read_parquet(world / "people.parquet").set_index("person_id")
    assert 0 < len(found) < len(truth)  # only people who shared an address
    assert (found["city"].to_numpy() == truth.loc[found["person_id"], "city"].to_numpy()).all()

    cities = public_cities(world / "cities.parquet")
    scores = pd.DataFrame({"person_id": truth.index, "score": 600})
    placed = place_people(scores, found, cities)
    assert len(placed) == len(found)
    expected = truth.loc[placed["person_id"], "city_id"].to_numpy()
    assert (placed["city_id"].to_numpy() == expected).all()
