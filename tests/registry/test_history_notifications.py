"""Recomputed history points, "why your score changed", and notifications (with a
person's own webhook), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import InputError, NotFound
from openscore.registry import notifications, webhooks
from openscore.services.webhooks import check_url, deliver_due, parse_networks, verify_signature

from .conftest import NOW

LOCAL = parse_networks("127.0.0.1/32")
DIMS = dict.fromkeys(("credit_history", "behaviour"), 50)


def _item(person: str, score: int | None, *, as_of: datetime, **kw: Any) -> registry.ScoreToPublish:
    return registry.ScoreToPublish(
        person_id=person,
        score=score,
        dimensions=DIMS if score is not None else {},
        reasons=kw.pop("reasons", []),
        model_id=kw.pop("model_id", "expert-v1"),
        as_of=as_of,
        status="scored" if score is not None else "unscorable",
        **kw,
    )


def test_recomputed_points_are_labelled_and_never_current(engine: Engine, alice: str) -> None:
    march = datetime(2025, 1, 31, tzinfo=UTC)
    april = datetime(2025, 2, 28, tzinfo=UTC)
    with engine.begin() as conn:
        registry.publish_score(conn, _item(alice, 640, as_of=NOW), actor="system", now=NOW)
        registry.publish_history_points(
            conn,
            [
                _item(alice, 600, as_of=march, contributions={"a": 100, "b": 0}),
                _item(alice, 620, as_of=april, contributions={"a": 110, "b": 10}),
            ],
            actor="system:history",
            now=NOW + timedelta(days=1),
        )
        # no data, no point: an unscorable row is refused, not stored as a blank point
        with pytest.raises(InputError, match="no data, no point"):
            registry.publish_history_points(conn, [_item(alice, None, as_of=march)], actor="x")
    with engine.connect() as conn:
        current = registry.current_score(conn, alice)
        history = registry.score_history(conn, alice)
        published_only = registry.score_history(conn, alice, recomputed=False)
        dates = registry.recomputed_dates(conn)
    assert current.score == 640 and current.kind == "published"
    # ordered by the date each is as of: the recomputed January and February first
    assert [(p.score, p.kind) for p in history] == [
        (640, "published"),
        (620, "recomputed"),
        (600, "recomputed"),
    ]
    assert history[1].recomputed and history[1].published_at == NOW + timedelta(days=1)
    assert history[1].model_id == "expert-v1"
    assert [p.score for p in published_only] == [640]
    assert dates == {march.date(), april.date()}


def test_a_change_beyond_the_threshold_says_which_factors_moved_and_is_notified(
    engine: Engine, alice: str, bob: str
) -> None:
    old = {"score": 600, "contributions": {"pay": 50, "age": 20, "rent": 5}, "reasons": []}
    new = {
        "score": 622,
        "contributions": {"pay": 65, "age": 27, "rent": 5},
        "reasons": [],
        "helps": [{"code": "pay", "text": "Bills paid on time", "points": 65}],
    }
    change = registry.score_change(old, new)
    assert change is not None and change.basis == "all"
    assert [(m.code, m.points) for m in change.moved] == [("pay", 15), ("age", 7)]
    assert sum(m.points for m in change.moved) == change.delta == 22
    assert registry.describe_change(change) == (
        "Your score went up from 600 to 622 (+22): Bills paid on time +15; age +7."
    )
    with engine.begin() as conn:
        for person in (alice, bob):
            registry.publish_score(
                conn,
                _item(person, 600, as_of=NOW, contributions=old["contributions"]),
                actor="system",
                now=NOW,
            )
        # alice moves by 22 (> 5 points: told why), bob by 4 (within the threshold)
        registry.publish_score(
            conn,
            _item(alice, 622, as_of=NOW, contributions=new["contributions"], helps=new["helps"]),
            actor="system",
            now=NOW + timedelta(hours=1),
            change_points=5,
        )
        registry.publish_score(
            conn,
            _item(bob, 604, as_of=NOW, contributions={"pay": 54, "age": 20, "rent": 5}),
            actor="system",
            now=NOW + timedelta(hours=1),
            change_points=5,
        )
    with engine.connect() as conn:
        (note,) = notifications.list_notifications(conn, alice)
        assert notifications.list_notifications(conn, bob) == []
    assert note.kind == "score_change" and note.unread
    assert note.text.startswith("Your score went up from 600 to 622 (+22): Bills paid on time +15")
    assert note.data["moved"][:2] == [{"code": "pay", "points": 15}, {"code": "age", "points": 7}]
    assert note.data["threshold"] == 5


def test_inquiries_decisions_and_dispute_outcomes_notify_in_their_transaction(
    engine: Engine, alice: str, bikes: str
) -> None:
    with engine.begin() as conn:
        grant = registry.create_grant(
            conn,
            alice,
            partner_id=bikes,
            products=["bike"],
            purpose="deposit_waiver",
            expires_at=NOW + timedelta(days=30),
            actor="subject",
            now=NOW,
        )
        registry.record_inquiry(
            conn,
            alice,
            partner_id=bikes,
            purpose="deposit_waiver",
            returned={"band": "good"},
            grant_id=grant.id,
            actor=f"partner:{bikes}",
            now=NOW,
        )
        registry.record_decision(
            conn,
            alice,
            partner_id=bikes,
            product_id="bike",
            outcome="approve",
            terms={"deposit_waived": True},
            reasons=[],
            grant_id=grant.id,
            actor=f"partner:{bikes}",
            now=NOW + timedelta(minutes=1),
        )
        dispute = registry.file_dispute(
            conn,
            alice,
            record_ref="court-feed/j-77",
            reason="not mine",
            exclude_while_open=True,
            actor="subject",
            now=NOW,
        )
    # a decision that fails rolls back: no notification without its event
    with pytest.raises(InputError), engine.begin() as conn:
        registry.record_decision(
            conn,
            alice,
            partner_id=bikes,
            product_id="bike",
            outcome="decline",
            terms={},
            reasons=[],
            actor=f"partner:{bikes}",
        )
    with engine.begin() as conn:
        registry.close_dispute(
            conn,
            dispute.id,
            status="resolved",
            resolution="The court confirmed the judgment was another person's.",
            actor="operator:ops",
            now=NOW + timedelta(days=2),
        )
    with engine.connect() as conn:
        notes = notifications.list_notifications(conn, alice)
        unread = notifications.unread_count(conn, alice)
    assert [n.kind for n in notes] == ["dispute_outcome", "decision", "inquiry"]
    assert notes[2].text == "Bikes looked at your file (purpose: deposit waiver)."
    assert notes[1].text == "Bikes approved your request for bike."
    assert notes[0].text.startswith("Your dispute was upheld: the record no longer counts.")
    assert unread == 3
    with engine.begin() as conn:
        assert notifications.mark_read(conn, alice, [notes[2].id], now=NOW) == 1
        with pytest.raises(NotFound):
            notifications.mark_read(conn, alice, ["not-a-notification"])
    with engine.connect() as conn:
        assert notifications.unread_count(conn, alice) == 2
    with engine.begin() as conn:
        assert notifications.mark_read(conn, alice, now=NOW) == 2


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/me"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_a_persons_webhook_gets_their_notification_signed(
    engine: Engine, alice: str, bob: str, receiver: Receiver
) -> None:
    with engine.begin() as conn:
        endpoint = webhooks.set_person_endpoint(conn, alice, check_url(receiver.url, allow=LOCAL))
        notifications.notify(conn, alice, "inquiry", "Bikes looked at your file.", {"x": 1})
        notifications.notify(conn, bob, "inquiry", "no webhook: portal only", {})
    assert receiver.requests == []  # the transaction sent nothing itself
    report = deliver_due(engine, allow=LOCAL)
    assert report.delivered == 1
    (request,) = receiver.requests
    body = request["body"]
    assert verify_signature(endpoint.secret, body, request["headers"]["Openscore-Signature"])
    event = json.loads(body)
    assert event["type"] == "notification.inquiry"
    assert event["data"]["text"] == "Bikes looked at your file."
    with engine.connect() as conn:
        (delivery,) = webhooks.list_person_deliveries(conn, alice)
        export = registry.export_person(conn, alice)
    assert delivery.status == "delivered" and delivery.partner_id is None
    # the export holds the notification and the webhook's address, never its secret
    assert [n["text"] for n in export["notifications"]] == ["Bikes looked at your file."]
    assert [w["url"] for w in export["webhook"]] == [receiver.url]
    assert endpoint.secret not in json.dumps(export, default=str)
    with engine.begin() as conn:  # erasure leaves neither behind
        registry.erase_person(conn, alice, actor="subject")
    with engine.connect() as conn:
        assert notifications.list_notifications(conn, alice) == []
        assert webhooks.list_person_deliveries(conn, alice) == []
        with pytest.raises(NotFound):
            webhooks.get_person_endpoint(conn, alice)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/hook", "http or https"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("https://user:pw@example.org/", "user name"),
    ],
)
def test_bad_webhook_urls_are_refused_naming_the_field(url: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as caught:
        check_url(url, resolve=lambda host, port: [host if host[0].isdigit() else "93.184.215.14"])
    assert caught.value.field == "url"
