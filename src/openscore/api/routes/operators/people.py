"""Registering people (by the id furnishers know them by) and issuing enrolment codes, with
which a person claims their registry id as a login of their own (POST /v1/signup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.services import people
from openscore.services.schemas import EnrolmentCodePublic, PersonCreate, PersonId, PersonPublic

router = APIRouter(prefix="/v1/operator/people", tags=["operators: people"])

PersonPath = Annotated[PersonId, Path(description="the person's id")]


@router.post("", status_code=201, response_model=PersonPublic)
def create_person(state: StateDep, operator: OperatorPrincipal, body: PersonCreate) -> PersonPublic:
    return people.create_person(
        state, body.person_id, actor=operator.actor, lift_erasure=body.lift_erasure
    )


@router.get("/{person_id}", response_model=PersonPublic)
def read_person(
    state: StateDep, operator: OperatorPrincipal, person_id: PersonPath
) -> PersonPublic:
    return people.read_person(state, person_id)


@router.post("/{person_id}/enrolment-codes", status_code=201, response_model=EnrolmentCodePublic)
def issue_enrolment_code(
    state: StateDep, operator: OperatorPrincipal, person_id: PersonPath
) -> EnrolmentCodePublic:
    """A signed code naming the person, valid for a week, good for one sign-up (409 if
    the person already has a login)."""
    return people.issue_enrolment_code(state, state.enrolment, person_id, actor=operator.actor)
