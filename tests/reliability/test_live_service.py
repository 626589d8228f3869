"""The service as an operator runs it (``openscore serve`` in a process of its own):
``openscore backup`` while it answers, ``openscore restore`` into an empty directory,
and the service's own log file searched for every secret a run handled."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from openscore import online, registry
from openscore.ledger import pending_operations
from openscore.registry import create_registry_engine, read_only
from openscore.registry.metadata import decisions
from reliability.harness import (
    PASSWORD,
    SOURCES,
    Server,
    World,
    check_integrity,
    login,
    make_world,
    partner_and_subjects,
    world_settings,
)

from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.slow


def test_backup_and_restore_commands_while_serving(tmp_path: Path) -> None:
    """A backup taken by the command while partners ask for decisions and subjects change
    consents holds every decision answered before it began and none sent after it ended,
    each consent as the last change before it left it; restored by the command into an
    empty data directory, it passes the integrity check."""
    world = make_world(tmp_path / "live", people=12, batches=2, events=600)
    key, grants, consents = partner_and_subjects(world)
    server = Server(world, tmp_path / "server.log")
    server.start()
    #: (sent, answered, decision id) of every 201
    answered: list[tuple[float, float, str]] = []
    #: (sent, answered, person, source, shared afterwards) of every 200
    changed: list[tuple[float, float, str, str, bool]] = []
    sent_log: list[tuple[float, str, str]] = []  # every consent change sent
    stop = threading.Event()
    failures: list[BaseException] = []

    def load() -> None:
        rng = random.Random(5)
        subjects = {p: login(server.url, p) for p in grants}
        partner = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        state = dict(consents)
        try:
            for _ in range(3_000):  # bounded; the test stops it long before
                if stop.is_set():
                    return
                person = rng.choice(list(grants))
                sent = time.monotonic()
                if rng.random() < 0.7:
                    answer = partner.post(
                        "/v1/decisions",
                        json={
                            "grant_id": grants[person],
                            "person_id": person,
                            "product_id": "bike",
                            "purpose": "deposit_waiver",
                        },
                    )
                    assert answer.status_code == 201, answer.text
                    answered.append((sent, time.monotonic(), answer.json()["decision_id"]))
                else:
                    source = rng.choice(SOURCES)
                    wanted = not state[(person, source)]
                    sent_log.append((sent, person, source))
                    path = f"/v1/me/consents/{source}"
                    client = subjects[person]
                    answer = client.put(path) if wanted else client.delete(path)
                    assert answer.status_code == 200, answer.text
                    state[(person, source)] = wanted
                    changed.append((sent, time.monotonic(), person, source, wanted))
        except BaseException as exc:
            failures.append(exc)
        finally:
            for client in [*subjects.values(), partner]:
                client.close()

    thread = threading.Thread(target=load)
    thread.start()
    dest = tmp_path / "backup"
    try:
        deadline = time.monotonic() + 60
        while len(answered) < 5 and not failures:
            assert time.monotonic() < deadline, "no decision answered"
            time.sleep(0.05)
        began = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "openscore", "backup", str(dest), "--json"],
            env=world.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        ended = time.monotonic()
        while not any(s > ended for s, _, _ in answered) and not failures:  # load went on
            assert time.monotonic() < deadline + 60
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)
        server.stop()
    assert not failures, failures
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout)
    assert summary["ledger_rows"] > 0 and summary["registry"] == "sqlite-file"

    data_dir = tmp_path / "restored" / "data"
    url = f"sqlite:///{data_dir / 'registry.sqlite'}"
    restored = subprocess.run(
        [sys.executable, "-m", "openscore", "restore", str(dest), "--json"],
        env={**world.env(), "OPENSCORE_DATA_DIR": str(data_dir), "OPENSCORE_REGISTRY_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert json.loads(restored.stdout)["ledger_rows"] == summary["ledger_rows"]
    copy = World(
        data_dir,
        url,
        create_registry_engine(url, secret_key=TEST_SECRET_KEY),
        world_settings(data_dir, url),
        list(world.people),
    )
    with read_only(copy.engine).connect() as conn:
        held = set(conn.execute(sa.select(decisions.c.id)).scalars())
        shared = registry.consent_map(conn, list(grants))
    assert {d for _, done, d in answered if done < began} <= held
    assert not {d for sent, _, d in answered if sent > ended} & held
    assert held <= {d for _, _, d in answered}  # nothing that was never answered
    for (person, source), before in consents.items():
        if any(sent >= began and (p, s) == (person, source) for sent, p, s in sent_log):
            continue  # changed while the backup ran: either state is consistent
        last = [w for _, done, p, s, w in changed if (p, s) == (person, source)]
        expected = last[-1] if last else before
        assert (source in {x.value for x in shared.get(person, frozenset())}) == expected
    print(
        f"backup while serving: {len(answered)} decisions and {len(changed)} consent changes "
        f"answered, backup {ended - began:.1f} s, {len(held)} decisions restored"
    )
    check_integrity(copy, initial_people=world.people)
    online.recover(copy.engine, settings=copy.settings, min_age_seconds=0)
    assert pending_operations(copy.ledger) == []
    check_integrity(copy, initial_people=world.people)
    copy.engine.dispose()


@pytest.mark.postgres
def test_the_service_log_holds_no_secret(tmp_path: Path, postgres_database: str) -> None:
    """A run that handles every kind of secret — the registry's password, the secret key,
    partner and operator keys, a new key and an enrolment code issued, passwords right
    and wrong, session cookies and CSRF tokens, a key sent where it does not belong —
    leaves none of them in the log of ``openscore serve --log-level debug``."""
    # trust authentication takes any password: the URL can carry one the log must not show
    db_password = "pg-Pa55word-in-the-url"
    url = postgres_database.replace("postgres@", f"postgres:{db_password}@", 1)
    world = make_world(tmp_path, url=url, people=8, batches=1, events=300)
    key, grants, shared = partner_and_subjects(world, n_people=2)
    with world.engine.begin() as conn:
        registry.create_partner(conn, name="Ops", actor="system", role="operator", partner_id="ops")
        ops_key = registry.create_api_key(conn, "ops", label="t", actor="system").secret
    world.engine.dispose()
    log = tmp_path / "server.log"
    server = Server(world, log, log_level="debug")
    server.start()
    secrets = {"db password": db_password, "secret key": TEST_SECRET_KEY, "partner key": key}
    secrets |= {"operator key": ops_key, "password": PASSWORD}
    try:
        person = next(iter(grants))
        subject = login(server.url, person)
        secrets["session cookie"] = subject.cookies.get("openscore_session")
        secrets["csrf token"] = subject.headers["X-CSRF-Token"]
        assert subject.get("/v1/me/score").status_code == 200
        source = next(s for s in SOURCES if shared[(person, s)])
        assert subject.delete(f"/v1/me/consents/{source}").status_code == 200
        partner = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        body = {
            "grant_id": grants[person],
            "person_id": person,
            "product_id": "bike",
            "purpose": "deposit_waiver",
        }
        assert partner.post("/v1/decisions", json=body).status_code == 201
        # a key where it does not belong: as request id, in the query, in the path
        misplaced = partner.get(
            f"/v1/decisions/{key}", params={"api_key": key}, headers={"X-Request-ID": key}
        )
        assert misplaced.status_code in (404, 422)
        ops = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ops_key}"}, timeout=30
        )
        issued = ops.post("/v1/operator/partners/bikes/keys", json={"label": "second"})
        assert issued.status_code == 201
        secrets["issued key"] = issued.json()["secret"]
        newcomer = world.people[5]
        code = ops.post(f"/v1/operator/people/{newcomer}/enrolment-codes")
        assert code.status_code == 201
        secrets["enrolment code"] = code.json()["code"]
        signup_password = "another long enough password"
        secrets["sign-up password"] = signup_password
        signed = httpx.post(
            f"{server.url}/v1/signup",
            json={
                "login": "newcomer@example.org",
                "password": signup_password,
                "enrolment_code": secrets["enrolment code"],
            },
        )
        assert signed.status_code == 201, signed.text
        wrong = httpx.post(
            f"{server.url}/v1/login",
            json={"login": f"{person}@example.org", "password": PASSWORD + "-wrong"},
        )
        assert wrong.status_code == 401
        pasted = httpx.post(f"{server.url}/v1/login", json={"login": key, "password": key})
        assert pasted.status_code == 401
        forged = "osk_forgedforgedforgedforged"
        secrets["forged key"] = forged
        refused = httpx.get(
            f"{server.url}/v1/operator/audit", headers={"Authorization": f"Bearer {forged}"}
        )
        assert refused.status_code == 401
        for client in (subject, partner, ops):
            client.close()
    finally:
        server.stop()
    text = log.read_text()
    assert "POST /v1/decisions 201" in text and "POST /v1/login 401" in text, text[-2000:]
    leaked = {name for name, value in secrets.items() if value and value in text}
    assert not leaked, f"{sorted(leaked)} in the service's log"
