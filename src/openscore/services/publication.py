"""Operator-triggered publication: rescore people from the ledger and publish.

Named people (at most :data:`~openscore.services.schemas.MAX_PUBLISH_BATCH`) are published in
the request; "everyone registered" runs in a background thread and is followed by its job
id. Either way each person goes through :func:`openscore.online.publish` — the same
one-person path as a revocation — so a published score never depends on who asked for
it. (Batch scoring of millions belongs to ``openscore score``, not to an HTTP request.)

Jobs live in the process (``AppState.jobs``): a restart forgets them, not their effects.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from openscore.errors import NotFound, OpenscoreError
from openscore.registry import person_exists
from openscore.registry.metadata import people
from openscore.services.context import Context
from openscore.services.scores import ensure_model, publish_now

#: Jobs remembered at most (the oldest finished ones are forgotten first).
MAX_JOBS = 100


def registered_people(state: Context) -> list[str]:
    """Every person in the registry. (A read of the ``people`` table: the registry has no
    listing function yet.)"""
    with state.read() as conn:
        return list(conn.execute(sa.select(people.c.id).order_by(people.c.id)).scalars())


def _new_job(state: Context, total: int) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job_id": uuid.uuid4().hex,
        "status": "running",
        "total": total,
        "published": 0,
        "failed": 0,
        "items": [],
        "errors": [],
    }
    done = [j for j, v in state.jobs.items() if v["status"] != "running"]
    for job_id in done[: max(0, len(state.jobs) - MAX_JOBS + 1)]:
        del state.jobs[job_id]
    state.jobs[job["job_id"]] = job
    return job


def _run(
    state: Context, job: dict[str, Any], person_ids: Sequence[str], actor: str, keep_items: bool
) -> None:
    for person_id in person_ids:
        try:
            rescored = publish_now(state, person_id, actor=actor)
        except OpenscoreError as exc:
            job["failed"] += 1
            if len(job["errors"]) < 100:
                job["errors"].append(f"{person_id}: {exc.message}")
            continue
        job["published"] += 1
        if keep_items:
            job["items"].append(
                {
                    "person_id": person_id,
                    "score_id": rescored.published_id,
                    "model_id": rescored.result.model_id,
                }
            )
    job["status"] = "done" if job["failed"] == 0 else "failed"


def publish_people(state: Context, person_ids: Sequence[str], *, actor: str) -> dict[str, Any]:
    """Publish the named people now; the finished job. :class:`NotFound` (before anything
    is published) if one of them is not registered."""
    ensure_model(state)
    unique = list(dict.fromkeys(person_ids))
    with state.read() as conn:
        for person_id in unique:
            if not person_exists(conn, person_id):
                raise NotFound(f"person {person_id!r} not found")
    job = _new_job(state, len(unique))
    _run(state, job, unique, actor, keep_items=True)
    return job


def publish_everyone(state: Context, *, actor: str) -> dict[str, Any]:
    """Start publishing every registered person in the background; the running job."""
    ensure_model(state)
    everyone = registered_people(state)
    job = _new_job(state, len(everyone))
    thread = threading.Thread(
        target=_run,
        args=(state, job, everyone, actor, False),
        name="openscore-publish",
        daemon=True,
    )
    thread.start()
    return job
