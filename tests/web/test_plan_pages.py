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
