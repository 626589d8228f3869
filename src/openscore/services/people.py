"""Registering people (by the id furnishers know them by) and issuing enrolment codes,
with which a person claims their registry id as a login of their own."""

from __future__ import annotations

from openscore import registry
from openscore.errors import Conflict
from openscore.services.context import Context, Enrolment
from openscore.services.schemas import EnrolmentCodePublic, PersonPublic

ALREADY_HAS_LOGIN = "this person already has a login"


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


def issue_enrolment_code(
    state: Context, enrolment: Enrolment, person_id: str, *, actor: str
) -> EnrolmentCodePublic:
    """A signed code naming the person, good for one sign-up until it expires
    (``NotFound`` for an unknown person, ``Conflict`` if they already have a login). The
    code is signed, not stored (showing it once is the caller's duty); that it was issued,
    and by whom, goes to the audit log (``enrolment.issued``, the person pseudonymised):
    it is a credential for the person's records."""
    with state.write() as conn:
        registry.get_person(conn, person_id)
        if registry.login_of(conn, person_id) is not None:
            raise Conflict(ALREADY_HAS_LOGIN)
        code, expires_at = enrolment.issue(person_id)
        registry.audit.append(
            conn,
            action="enrolment.issued",
            actor=actor,
            person_id=person_id,
            details={"expires_at": expires_at.isoformat(timespec="seconds")},
        )
    return EnrolmentCodePublic(person_id=person_id, code=code, expires_at=expires_at)
