"""The operators' routes: partners and keys, people, publication, the audit status."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from openscore.registry.metadata import api_keys

from fixtures.api import ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def test_partners_and_keys(api_world: ApiWorld) -> None:
    operator = api_world.operator()
    created = operator.post(
        "/v1/operator/partners", json={"name": "  Power Banks Ltd ", "partner_id": "powerbanks"}
    )
    assert created.status_code == 201 and created.json()["name"] == "Power Banks Ltd"
    assert (
        operator.post(
            "/v1/operator/partners", json={"name": "Again", "partner_id": "powerbanks"}
        ).status_code
        == 409
    )
    key = operator.post("/v1/operator/partners/powerbanks/keys", json={"label": "prod"})
    assert key.status_code == 201
    secret = key.json()["secret"]
    assert secret.startswith("osk_") and key.json()["prefix"] == secret[:12]
    # the secret is stored only as a hash, and never shown again
    listed = operator.get("/v1/operator/partners/powerbanks/keys").json()["items"]
    assert "secret" not in listed[0]
    with api_world.engine.connect() as conn:
        stored = conn.execute(sa.select(api_keys.c.key_hash)).scalars().all()
    assert secret not in stored and all(len(h) == 64 for h in stored)
    works = api_world.client(Authorization=f"Bearer {secret}")
    assert works.get("/v1/decisions/" + "0" * 32).status_code == 404
    directory = api_world.client().get("/v1/partners").json()["items"]
    listed = {p["id"]: p for p in directory}
    assert listed["powerbanks"]["name"] == "Power Banks Ltd"
    # registered without a product list: a grant to it may name any catalogue product
    catalogue = {p["id"] for p in api_world.client().get("/v1/products").json()["items"]}
    assert set(listed["powerbanks"]["products"]) == catalogue
    assert all(p["id"] != "ops" for p in directory)  # operators are not partners
    products = api_world.client().get("/v1/products").json()
    assert {p["id"] for p in products["items"]} >= {"bike", "room", "car", "personal_loan"}


def test_publication_now_and_in_the_background(api_world: ApiWorld) -> None:
    operator = api_world.operator()
    people = [api_world.person(events=30, seed=i) for i in range(3)]
    now = operator.post("/v1/operator/publications", json={"person_ids": people[:2]})
    assert now.status_code == 201, now.text
    assert now.json()["published"] == 2 and now.json()["status"] == "done"
    assert [i["person_id"] for i in now.json()["items"]] == people[:2]

    job = operator.post("/v1/operator/publication-jobs")
    assert job.status_code == 202
    job_id = job.json()["job_id"]
    deadline = time.monotonic() + 60
    while (state := operator.get(f"/v1/operator/publication-jobs/{job_id}").json())[
        "status"
    ] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "done" and state["published"] == state["total"] == 3
    assert operator.get("/v1/operator/publication-jobs/" + "0" * 32).status_code == 404

    status = operator.get("/v1/operator/audit").json()
    assert status["ok"] is True and status["macs_checked"] is True and status["tree_size"] > 5
