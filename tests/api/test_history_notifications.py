"""The API of the score history (recomputed points labelled, why a score changed),
notifications (/v1/me/notifications) and a person's own webhook (/v1/me/webhook), against a
real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.services.webhooks import deliver_due, parse_networks, verify_signature

from .test_webhooks import Receiver
from fixtures.api import ApiWorld, build_world


@pytest.fixture()
def world(registry_engine: Engine, tmp_path: Path, cheap_passwords: None) -> ApiWorld:
    return build_world(
        registry_engine,
        tmp_path / "data",
        webhook_allow_networks="127.0.0.1/32",
        webhook_interval_seconds=0,
    )


def _publish(world: ApiWorld, person: str, score: int, contributions: dict[str, int]) -> None:
    with world.engine.begin() as conn:
        registry.publish_score(
            conn,
            registry.ScoreToPublish(
                person_id=person,
                score=score,
                dimensions={"credit_history": 60},
                reasons=[],
                model_id="test-model",
                as_of=datetime(2025, 9, 1, tzinfo=UTC),
                contributions=contributions,
            ),
            actor="system",
        )


def test_history_labels_recomputed_points_and_says_why_a_score_moved(world: ApiWorld) -> None:
    subject = world.subject()
    person = subject.id
    with world.engine.begin() as conn:
        registry.publish_history_points(
            conn,
            [
                registry.ScoreToPublish(
                    person_id=person,
                    score=600,
                    dimensions={"credit_history": 50},
                    reasons=[],
                    model_id="test-model",
                    as_of=datetime(2025, 7, 31, tzinfo=UTC),
                    contributions={"credit_age_months": 40, "utilisation": 20},
                )
            ],
            actor="system:history",
        )
    _publish(world, person, 630, {"credit_age_months": 48, "utilisation": 42})
    answer = subject.get("/v1/me/history")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    threshold = world.settings.score_change_points
    assert body["change_threshold"] == threshold
    newest, oldest = body["items"]
    assert (oldest["kind"], oldest["score"], oldest["change"]) == ("recomputed", 600, None)
    assert newest["kind"] == "published"
    change = newest["change"]
    assert change["delta"] == 30 > threshold
    assert [(m["code"], m["points"]) for m in change["moved"]] == [
        ("utilisation", 22),
        ("credit_age_months", 8),
    ]
    assert change["moved"][1]["label"] == "Months since your oldest credit account was opened"
    # the current score stays the published one
    assert subject.get("/v1/me/score").json()["score"] == 630


def test_notifications_and_a_signed_webhook_for_a_partners_decision(world: ApiWorld) -> None:
    subject = world.subject()
    receiver = Receiver()
    try:
        for url, words in (
            ("ftp://example.org/x", "http"),
            ("http://10.0.0.7/hook", "private"),
        ):
            refused = subject.put("/v1/me/webhook", json={"url": url})
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == "url" and words in refused.text
        set_ = subject.put("/v1/me/webhook", json={"url": receiver.url})
        assert set_.status_code == 200, set_.text
        secret = set_.json()["secret"]
        assert secret.startswith("whsec_")
        assert subject.get("/v1/me/webhook").json()["secret"] is None  # shown once
        grant = world.grant(subject, "bikes")
        decided = world.partner("bikes").post(
            "/v1/decisions",
            json={
                "grant_id": grant["id"],
                "person_id": subject.id,
                "product_id": "bike",
                "purpose": grant["purpose"],
            },
        )
        assert decided.status_code == 201, decided.text
        assert receiver.requests == []  # the decision did not wait for the webhook
        listed = subject.get("/v1/me/notifications").json()
        assert listed["unread"] == 1
        (note,) = listed["items"]
        assert note["kind"] == "decision" and note["unread"]
        assert note["data"]["decision_id"] == decided.json()["decision_id"]
        # the partner named as the registry knows it (the name comes from the key's check)
        outcome = "approved" if decided.json()["approved"] else "declined"
        assert note["text"] == f"Bikes {outcome} your request for bike."
        assert note["data"]["partner"] == "Bikes"
        report = deliver_due(world.engine, allow=parse_networks("127.0.0.1/32"))
        assert report.delivered == 1
        (request,) = receiver.requests
        assert verify_signature(secret, request["body"], request["headers"]["Openscore-Signature"])
        sent: dict[str, Any] = json.loads(request["body"])
        assert sent["type"] == "notification.decision"
        assert sent["data"]["notification_id"] == note["id"]
        missing = subject.post("/v1/me/notifications/read", json={"ids": ["nope"]})
        assert missing.status_code == 404
        read = subject.post("/v1/me/notifications/read", json={})
        assert read.json() == {"marked": 1, "unread": 0}
        assert subject.delete("/v1/me/webhook").status_code == 204
        assert subject.get("/v1/me/webhook").status_code == 404
    finally:
        receiver.close()


def test_a_pair_term_that_moved_is_named_in_words() -> None:
    """An EBM interaction term (``a x b``) reads as both features' words, not its code."""
    from openscore.features import FEATURES_BY_NAME
    from openscore.services.scores import moved_label

    label = moved_label("utilisation x utilisation_trend")
    assert " x " not in label and "_" not in label
    for name in ("utilisation", "utilisation_trend"):
        words = FEATURES_BY_NAME[name].description.split(" (")[0].rstrip(".")
        assert words[1:] in label
    assert moved_label("no_such_feature") == "no such feature"
