"""The dashboard's history (recomputed points labelled, why the score changed) and the
notifications page with its nav badge and webhook form."""

from __future__ import annotations

from datetime import timedelta

from openscore import registry
from openscore.registry import notifications
from openscore.services.scores import moved_label
from web.world import WebWorld, csrf


def test_history_says_why_the_score_moved_and_alerts_have_a_page_and_a_badge(
    web: WebWorld,
) -> None:
    browser = web.subject()
    person = browser.person_id  # type: ignore[attr-defined]
    assert browser.get("/dashboard").status_code == 200  # publishes the first score
    with web.engine.begin() as conn:
        current = registry.current_score(conn, person)
        assert current.score is not None and current.contributions
        # a month-end point 20 points lower on the largest term, recomputed
        code = max(current.contributions, key=lambda k: current.contributions[k])
        older = dict(current.contributions)
        older[code] -= 20
        registry.publish_history_points(
            conn,
            [
                registry.ScoreToPublish(
                    person_id=person,
                    score=current.score - 20,
                    dimensions=current.dimensions,
                    reasons=current.reasons,
                    model_id=current.model_id,
                    as_of=current.as_of - timedelta(days=40),
                    contributions=older,
                )
            ],
            actor="system:history",
        )
        # what recording an inquiry writes, in its transaction
        notifications.notify(
            conn, person, "inquiry", "City Bikes looked at your file (purpose: deposit waiver).", {}
        )
    page = browser.get("/dashboard").text
    threshold = web.settings.score_change_points
    assert "recomputed later with today’s model" in page  # the chart's legend
    assert "Why your score changed" in page
    assert f"Each change of more than {threshold} points" in page
    assert f'{current.score - 20} → {current.score}, <span class="change-up">up 20 points' in page
    assert f'{moved_label(code)}: <span class="change-up">up 20 points' in page
    assert 'aria-label="1 unread">1</span>' in page  # the nav badge
    notes = browser.get("/notifications")
    assert notes.status_code == 200
    assert "City Bikes looked at your file (purpose: deposit waiver)." in notes.text
    token = csrf(notes.text)
    refused = browser.post(
        "/notifications/webhook", data={"csrf_token": token, "url": "http://127.0.0.1:9/hook"}
    )
    assert refused.status_code == 422
    assert "Webhook URL: " in refused.text and "loopback" in refused.text
    done = browser.post("/notifications/read", data={"csrf_token": token})
    assert done.status_code == 303
    assert 'unread">' not in browser.get("/notifications").text
