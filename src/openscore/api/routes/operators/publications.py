"""Publishing scores: rescore from the ledger and publish — named people now
(``/publications``), or everyone registered as a background job (``/publication-jobs``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.errors import NotFound
from openscore.services.publication import publish_everyone, publish_people
from openscore.services.schemas import Id, PublicationPublic, PublicationRequest

router = APIRouter(prefix="/v1/operator", tags=["operators: scores"])


@router.post("/publications", status_code=201, response_model=PublicationPublic)
def publish(
    state: StateDep, operator: OperatorPrincipal, body: PublicationRequest
) -> PublicationPublic:
    """Rescore and publish the named people now; the answer lists the published ids."""
    job = publish_people(state, body.person_ids, actor=operator.actor)
    return PublicationPublic.model_validate(job)


@router.post("/publication-jobs", status_code=202, response_model=PublicationPublic)
def publish_all(state: StateDep, operator: OperatorPrincipal) -> PublicationPublic:
    """Rescore and publish every registered person, in the background: follow the job."""
    return PublicationPublic.model_validate(publish_everyone(state, actor=operator.actor))


@router.get("/publication-jobs/{job_id}", response_model=PublicationPublic)
def read_job(
    state: StateDep,
    operator: OperatorPrincipal,
    job_id: Annotated[Id, Path(description="the job's id")],
) -> PublicationPublic:
    job = state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"publication job {job_id!r} not found")
    return PublicationPublic.model_validate(job)
