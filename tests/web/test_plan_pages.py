"""The plan page (/plan): the steps and their points are the plan service's, computed
from the model in service; no score or no band above answers with a sentence."""

from __future__ import annotations

import re
from html import unescape

from openscore.services.plan import make_plan
from web.world import WebWorld


def test_the_plan_page_shows_the_computed_steps(web: WebWorld) -> None:
    subject = web.subject()
    page = subject.get("/plan")
    assert page.status_code == 200
    plan = make_plan(web.state, subject.person_id)  # type: ignore[attr-defined]
    text = unescape(page.text)
    assert plan.status == "plan" and plan.steps  # this person has a plan
    assert f"From {plan.score} to {plan.score_after}" in text
    assert f"{plan.points_needed} points to go" in text
    rows = re.findall(r'<tr data-feature="([a-z_0-9]+)">(.*?)</tr>', text, re.S)
    assert [f for f, _ in rows] == [s.feature for s in plan.steps]
    for (_, row), step in zip(rows, plan.steps, strict=True):
        assert f'<td data-label="Points" class="num">+{step.points}</td>' in row
        assert f'<td data-label="Score after" class="num">{step.score_after}</td>' in row
        assert f"{step.before_shown} → {step.after_shown}" in row
    assert 'href="/plan"' in subject.get("/dashboard").text


def test_no_score_means_no_plan_and_a_sentence_says_what_to_share(web: WebWorld) -> None:
    subject = web.subject(events=0)
    page = subject.get("/plan")
    assert page.status_code == 200
    why = re.search(r"<p data-plan-why>(.*?)</p>", unescape(page.text), re.S)
    assert why is not None
    assert why.group(1).startswith("There is not enough data to score you, so there is no plan")
    assert "Share your" in why.group(1) or "Pay a bill" in why.group(1)


def test_what_if_offers_every_changeable_feature_and_sharing_a_source(web: WebWorld) -> None:
    from openscore import online
    from openscore.features import FEATURES_BY_NAME
    from openscore.services.whatif import share_range

    subject = web.subject(sources=("wallet", "rentals", "profile", "social"))
    page = subject.get("/whatif").text
    card = online.current_model(web.settings)
    for name in card.feature_names:
        if FEATURES_BY_NAME[name].action is not None:
            assert f'name="{name}"' in page, name  # every feature a person can change
    assert 'name="share" value="credit"' in page and 'name="share" value="wallet"' not in page
    answer = subject.get(
        "/whatif?run=1&keep=wallet&keep=rentals&keep=profile&keep=social&share=credit"
    )
    assert answer.status_code == 200
    features = online.person_features(subject.person_id, settings=web.settings)  # type: ignore[attr-defined]
    expected = share_range(card, features, "credit")
    assert expected.lowest < expected.average < expected.highest
    row = re.search(r'<tr data-source="credit">(.*?)</tr>', answer.text, re.S)
    assert row is not None
    cells = re.findall(r'class="num">(\d+)</td>', row.group(1))
    assert cells == [str(expected.lowest), str(expected.average), str(expected.highest)]
    now = re.search(r"Your score computed now is (\d+)", answer.text)
    assert now is not None and int(now.group(1)) == expected.average  # average = as now
