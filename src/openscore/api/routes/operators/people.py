"""Registering people (by the id furnishers know them by) and issuing enrolment codes, with
which a person claims their registry id as a login of their own (POST /v1/signup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore import registry
from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.api.schemas import EnrolmentCodePublic, PersonCreate, PersonId, PersonPublic
from openscore.errors import Conflict

router = APIRouter(prefix="/v1/operator/people", tags=["operators: people"])

PersonPath = Annotated[PersonId, Path(description="the person's id")]


def _public(state, person_id: str) -> PersonPublic:  # noqa: ANN001
    with state.read() as conn:
        person = registry.get_person(conn, person_id)
        has_login = registry.login_of(conn, person_id) is not None
    return PersonPublic(id=person.id, created_at=person.created_at, has_login=has_login)


@router.post("", status_code=201, response_model=PersonPublic)
def create_person(state: StateDep, operator: OperatorPrincipal, body: PersonCreate) -> PersonPublic:
    with state.write() as conn:
        person = registry.create_person(
            conn, actor=operator.actor, person_id=body.person_id, lift_erasure=body.lift_erasure
        )
    return PersonPublic(id=person.id, created_at=person.created_at, has_login=False)


@router.get("/{person_id}", response_model=PersonPublic)
def read_person(
    state: StateDep, operator: OperatorPrincipal, person_id: PersonPath
) -> PersonPublic:
    return _public(state, person_id)


@router.post("/{person_id}/enrolment-codes", status_code=201, response_model=EnrolmentCodePublic)
def issue_enrolment_code(
    state: StateDep, operator: OperatorPrincipal, person_id: PersonPath
) -> EnrolmentCodePublic:
    """A signed code naming the person, valid for a week, good for one sign-up (409 if
    the person already has a login)."""
    if _public(state, person_id).has_login:
        raise Conflict("this person already has a login")
    code, expires_at = state.enrolment.issue(person_id)
    return EnrolmentCodePublic(person_id=person_id, code=code, expires_at=expires_at)
