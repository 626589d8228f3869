"""The operator console in-process: signing in with a key, the queues and their actions,
partners and keys, and the report files it serves."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from openscore import registry
from web.world import WebWorld, csrf, once


def test_console_log_in_takes_an_operator_key_only(web: WebWorld) -> None:
    anonymous = web.client()
    assert anonymous.get("/console/model").headers["location"] == (
        "/console/login?next=%2Fconsole%2Fmodel"
    )
    web.partner()
    with web.engine.begin() as conn:
        partner_key = registry.create_api_key(conn, "bikes", label="x", actor="system").secret
    for key in (partner_key, "osk_" + "x" * 43, "not a key"):
        page = anonymous.get("/console/login").text
        answer = anonymous.post("/console/login", data={"csrf_token": csrf(page), "key": key})
        assert answer.status_code == 401
        assert "not a valid operator key" in answer.text
    operator = web.operator()
    assert operator.get("/console").status_code == 200
    # The cookie holds no key, and the key's revocation ends the console session at once.
    cookie = operator.cookies.get("openscore_console")
    assert cookie and web.operator_key() not in cookie
    with web.engine.begin() as conn:
        key = registry.list_api_keys(conn, "ops")[0]
        registry.revoke_api_key(conn, "ops", key.id, actor="system")
    ended = operator.get("/console")
    assert ended.status_code == 303 and "ended=1" in ended.headers["location"]
    # A subject's session is not a console session.
    subject = web.subject()
    assert subject.get("/console").status_code == 303


def test_operator_answers_a_dispute_and_a_review(web: WebWorld) -> None:
    subject = web.subject()
    records = subject.get("/disputes").text
    link = re.search(r'href="(/disputes/new\?record_ref=[^"]+)"', records).group(1)
    form = subject.get(link.replace("&amp;", "&")).text
    ref = re.search(r'name="record_ref" value="([^"]+)"', form).group(1)
    subject.post(
        "/disputes",
        data={
            "csrf_token": csrf(form),
            "once": once(form),
            "record_ref": ref,
            "reason": "wrong",
        },
    )
    partner_id = web.partner()
    with web.engine.begin() as conn:
        dispute = registry.list_disputes(conn, subject.person_id)[0]
        decision = registry.record_decision(
            conn,
            subject.person_id,
            partner_id=partner_id,
            product_id="bike",
            outcome="decline",
            terms={"deposit_due": 50},
            actor="partner:bikes",
            reasons=[{"code": "min_score", "text": "Below the bike threshold"}],
            score=540,
            band="poor",
        )
    page = subject.get(f"/decisions/{decision.id}").text
    assert "Below the bike threshold" in page and "Ask for human review" in page
    asked = subject.post(
        f"/decisions/{decision.id}/review",
        data={
            "csrf_token": csrf(page),
            "reason": "I returned every bike on time.",
        },
    )
    assert asked.headers["location"] == f"/decisions/{decision.id}?done=review"
    twice = subject.post(
        f"/decisions/{decision.id}/review",
        data={
            "csrf_token": csrf(page),
            "reason": "again",
        },
    )
    assert twice.headers["location"] == f"/decisions/{decision.id}?done=already"

    operator = web.operator()
    queue = operator.get("/console/disputes").text
    assert subject.person_id in queue and dispute.id in queue
    detail = operator.get(f"/console/disputes/{dispute.id}").text
    bad = operator.post(
        f"/console/disputes/{dispute.id}/close",
        data={
            "csrf_token": csrf(detail),
            "status": "maybe",
            "resolution": "",
        },
    )
    assert bad.status_code == 422 and "Choose resolved or rejected." in bad.text
    closed = operator.post(
        f"/console/disputes/{dispute.id}/close",
        data={
            "csrf_token": csrf(detail),
            "status": "rejected",
            "resolution": "The record is right.",
        },
    )
    assert closed.headers["location"] == "/console/disputes?done=rejected"
    again = operator.post(
        f"/console/disputes/{dispute.id}/close",
        data={
            "csrf_token": csrf(detail),
            "status": "resolved",
            "resolution": "changed my mind",
        },
    )
    assert again.headers["location"] == "/console/disputes?done=already"
    mine = subject.get(f"/disputes/{dispute.id}").text
    assert "Rejected: the record stands" in mine and "The record is right." in mine
    looked = subject.get("/inquiries").text
    assert "dispute investigation" in looked  # the operator's read is an inquiry

    reviews = operator.get("/console/reviews").text
    review_id = re.search(r'href="/console/reviews/([0-9a-f]{32})"', reviews).group(1)
    review = operator.get(f"/console/reviews/{review_id}").text
    assert "Below the bike threshold" in review
    done = operator.post(
        f"/console/reviews/{review_id}/close",
        data={
            "csrf_token": csrf(review),
            "status": "overturned",
            "resolution": "Score was stale.",
        },
    )
    assert done.headers["location"] == "/console/reviews?done=overturned"
    assert "Reviewed: the decision was overturned" in subject.get(f"/decisions/{decision.id}").text


def test_partners_and_keys(web: WebWorld) -> None:
    operator = web.operator()
    page = operator.get("/console/partners").text
    form = {
        "csrf_token": csrf(page),
        "once": once(page),
        "name": "Room Rentals",
        "partner_id": "rooms",
        "role": "partner",
    }
    first, second = (
        operator.post("/console/partners", data=form),
        operator.post("/console/partners", data=form),
    )
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].startswith("/console/partners/rooms")
    partner = operator.get("/console/partners/rooms").text
    key_form = {"csrf_token": csrf(partner), "once": once(partner), "label": "production"}
    created = operator.post("/console/partners/rooms/keys", data=key_form)
    assert created.status_code == 201
    secret = re.search(
        r'id="new-secret" class="secret" type="text" readonly value="([^"]+)"', created.text
    ).group(1)
    assert secret.startswith("osk_")
    replay = operator.post("/console/partners/rooms/keys", data=key_form)
    assert replay.status_code == 303 and "key_once" in replay.headers["location"]
    assert secret not in operator.get(replay.headers["location"]).text  # shown once only
    with web.engine.connect() as conn:
        keys = registry.list_api_keys(conn, "rooms")
        assert len(keys) == 1 and registry.authenticate_api_key(conn, secret) is not None
    revoke = f"/console/partners/rooms/keys/{keys[0].id}/revoke"
    assert (
        operator.post(revoke, data={"csrf_token": csrf(partner)})
        .headers["location"]
        .endswith("done=revoked")
    )
    again = operator.post(revoke, data={"csrf_token": csrf(partner)})  # harmless
    assert again.status_code == 303
    with web.engine.connect() as conn:
        assert registry.authenticate_api_key(conn, secret) is None
    off = operator.post("/console/partners/rooms/deactivate", data={"csrf_token": csrf(partner)})
    assert off.headers["location"].endswith("done=deactivated")
    own = operator.post("/console/partners/ops/deactivate", data={"csrf_token": csrf(partner)})
    assert own.status_code == 409  # not the operator you are signed in as


def test_report_files_stay_inside_their_report(web: WebWorld) -> None:
    operator = web.operator()
    report = web.data_dir / "reports" / "fairness" / "20260701T120000Z-abcd"
    report.mkdir(parents=True)
    (report / "approval.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (web.data_dir / "secret.json").write_text("{}")
    good = operator.get("/console/reports/fairness/20260701T120000Z-abcd/approval.svg")
    assert good.status_code == 200 and good.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in good.headers["content-security-policy"]
    for path in (
        "/console/reports/fairness/20260701T120000Z-abcd/..%2F..%2F..%2Fsecret.json",
        "/console/reports/fairness/..%2F..%2F/secret.json",
        "/console/reports/other/20260701T120000Z-abcd/approval.svg",
        "/console/reports/fairness/20260701T120000Z-abcd/registry.sqlite",
        "/console/ingestion/..%2F..%2Fregistry/rejections",
    ):
        assert operator.get(path).status_code == 404, path
    assert (
        web.client().get("/console/reports/fairness/20260701T120000Z-abcd/approval.svg").status_code
        == 303
    )  # operators only


def test_a_rejection_report_is_shown(web: WebWorld) -> None:
    from openscore.ingest import Ingester, no_consent_check

    bad = web.data_dir.parent / "bad.jsonl"
    bad.write_text('{"event_id": "x1", "type": "payment"}\nnot json\n')
    result = Ingester(web.state.ledger, settings=web.settings, consent_gate=no_consent_check).run(
        [bad], "furnisher-b"
    )
    operator = web.operator()
    runs = operator.get("/console/ingestion").text
    assert result.run_id in runs and "furnisher-b" in runs
    page = operator.get(f"/console/ingestion/{result.run_id}/rejections").text
    assert "bad.jsonl" in page and "rejected line" in page
    assert datetime.now(UTC).year >= 2025


def test_the_city_map_is_public_but_only_its_noisy_files(web: WebWorld) -> None:
    anyone = web.client()
    empty = anyone.get("/city-map")
    assert empty.status_code == 200 and "No city map published yet" in empty.text
    root = web.data_dir / "reports" / "map"
    release = root / "20260701T120000Z-abcd"
    release.mkdir(parents=True)
    (release / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (release / "cities.csv").write_text("city,people,mean_score\nShanghai,1203,611\n")
    (release / "release.json").write_text(
        json.dumps({"parameters": {"epsilon": 1.0, "k": 20}, "registry_record": "r-1"})
    )
    (release / "cities.json").write_text(
        json.dumps(
            [
                {
                    "city": "Shanghai",
                    "size_band": "mega",
                    "people": 1203,
                    "mean_score": 611,
                    "mean_score_margin": 2.1,
                    "published": True,
                },
                {
                    "city": "Lhasa",
                    "size_band": "small",
                    "people": None,
                    "mean_score": None,
                    "published": False,
                },
            ]
        )
    )
    (root / "latest").write_text(release.name)
    page = anyone.get("/city-map")
    assert page.status_code == 200
    assert "Shanghai" in page.text and "611" in page.text and "1 cities suppressed" in page.text
    assert "Lhasa" not in page.text  # a suppressed city is counted, never named with figures
    assert '<svg class="chart city-map"' in page.text  # drawn into the page, on the basemap
    assert 'href="/city-map/files/map.svg"' in page.text  # the release's own picture: a download
    assert "release.json" not in page.text
    svg = anyone.get("/city-map/files/map.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert anyone.get("/city-map/files/cities.csv").status_code == 200
    for path in (
        "/city-map/files/release.json",  # the release description stays with operators
        "/city-map/files/cities.json",
        "/city-map/files/..%2F..%2F..%2Fregistry.sqlite",
        "/city-map/files/nothing.svg",
    ):
        assert anyone.get(path).status_code == 404, path


def test_the_overview_shows_housekeeping_jobs_and_the_audit_queue(web: WebWorld) -> None:
    from openscore.registry import audit, leases, sequencer

    with web.engine.begin() as conn:
        person = registry.create_person(conn, actor="system").id
        sequencer.append_queued(
            conn, [audit.PendingEntry(action="inquiry.recorded", actor="system", person_id=person)]
        )
        assert leases.acquire(conn, "audit-sequencer", "host:1:abc", 30)
        leases.record_run(
            conn,
            "audit-sequencer",
            "host:1:abc",
            ok=False,
            result="SequencerHalted: queued audit entry 'x' (audit_pending): its content does "
            "not match its receipt's hash",
        )
    page = web.operator().get("/console").text
    assert "Audit entries waiting for the sequencer: <strong>1</strong>" in page
    assert "audit-sequencer" in page and "host:1:abc" in page
    assert "<strong>failed:</strong> SequencerHalted" in page
