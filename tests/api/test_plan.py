"""GET /v1/me/plan: the plan to the next band, computed from the model in service; 409
for a person with no score to plan from or already in the top band."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openscore.domain import BANDS
from openscore.features import FEATURES_BY_NAME
from openscore.online import current_model, install_model

from fixtures.api import ApiWorld

pytestmark = [
    pytest.mark.usefixtures("cheap_passwords"),
    # nothing here reaches a backend difference (the plan reads the ledger, not the
    # registry's SQL): SQLite only keeps the suite quick
    pytest.mark.parametrize("registry_backend", ["sqlite"]),
]


def test_the_plan_reaches_the_next_band_and_the_scorer_agrees(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=60, seed=0)
    answer = subject.get("/v1/me/plan")
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["status"] == "plan" and plan["steps"]
    band = next(b for b in BANDS if b.low <= plan["score"] <= b.high)
    above = BANDS[BANDS.index(band) + 1]
    assert (plan["band"], plan["target"], plan["target_band"]) == (band.name, above.low, above.name)
    assert plan["points_needed"] == plan["target"] - plan["score"]
    running = plan["score"]
    for step in plan["steps"]:
        assert FEATURES_BY_NAME[step["feature"]].action is not None  # only what can change
        running += step["points"]
        assert step["score_after"] == running
        assert 0 < step["months"] <= plan["months"]
    assert plan["score_after"] == running >= plan["target"]
    # the same values through the what-if simulator give the same score
    overrides = {s["feature"]: s["after"] for s in plan["steps"]}
    whatif = subject.post("/v1/me/whatif", json={"overrides": overrides}).json()
    assert whatif["before"]["score"] == plan["score"]
    # time steps that earn nothing are not listed, so the simulator may differ only if
    # one of them moved a pair term; the expert card has none
    assert whatif["after"]["score"] == plan["score_after"]
    already = subject.post("/v1/me/whatif", json={"share_sources": ["credit"]})
    assert already.status_code == 422 and already.json()["field"] == "share_sources[0]"


def test_no_score_no_plan_and_no_band_above_the_top(api_world: ApiWorld) -> None:
    nobody = api_world.subject()  # shares every source, has no events
    answer = nobody.get("/v1/me/plan")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "conflict"
    assert "not enough data to score you, so there is no plan yet" in body["message"]
    assert "wallet" in body["message"]  # says what would make a score

    # what sharing a source could do: a range, since its data is not on file
    thin = api_world.subject(sources=("wallet",))
    ranges = thin.post("/v1/me/whatif", json={"share_sources": ["credit", "credit"]}).json()
    (credit,) = ranges["if_shared"]
    assert credit["source"] == "credit" and "utilisation" in credit["features"]
    assert credit["lowest"] < credit["average"] < credit["highest"]

    card = current_model(api_world.settings)
    generous = replace(card, model_id=card.model_id + "-top", intercept_points=940)
    install_model(generous.save(api_world.data_dir.parent / "top.json"), api_world.settings)
    top = api_world.subject(events=60, seed=1)
    answer = top.get("/v1/me/plan")
    assert answer.status_code == 409
    assert answer.json()["message"] == (
        "you are already in the top band (excellent): there is no higher band to plan for"
    )
