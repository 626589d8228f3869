"""Registering people (by the id furnishers know them by) and issuing enrolment codes,
with which a person claims their registry id as a login of their own."""

from __future__ import annotations

from openscore import registry
from openscore.services.context import Context
from openscore.services.schemas import PersonPublic


def create_person(
    state: Context, person_id: str | None, *, actor: str, lift_erasure: bool = False
) -> PersonPublic:
    with state.write() as conn:
        person = registry.create_person(
            conn, actor=actor, person_id=person_id, lift_erasure=lift_erasure
        )
    return PersonPublic(id=person.id, created_at=person.created_at, has_login=False)


def read_person(state: Context, person_id: str) -> PersonPublic:
    with state.read() as conn:
        person = registry.get_person(conn, person_id)
        has_login = registry.login_of(conn, person_id) is not None
    return PersonPublic(id=person.id, created_at=person.created_at, has_login=has_login)
