"""The account itself: who I am, lock and unlock my file, export everything, erase."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from openscore import online, registry
from openscore.api.deps import CostlySubject, CurrentSubject, StateDep, client_address, end_session
from openscore.api.errors import Forbidden
from openscore.api.records import ledger_rows
from openscore.api.schemas import ErasePublic, EraseRequest, ExportPublic, LockPublic, MePublic
from openscore.api.scores import score_public

router = APIRouter(prefix="/v1/me", tags=["subjects: account"])


@router.get("", response_model=MePublic)
def read_me(state: StateDep, subject: CurrentSubject) -> MePublic:
    with state.read() as conn:
        person = registry.get_person(conn, subject.person_id)
        since = registry.locked_since(conn, subject.person_id)
        login = registry.login_of(conn, subject.person_id)
    return MePublic(
        person_id=person.id,
        login=login,
        created_at=person.created_at,
        locked=since is not None,
        locked_since=since,
    )


@router.delete("", response_model=ErasePublic)
def erase_me(
    request: Request, state: StateDep, subject: CurrentSubject, body: EraseRequest
) -> JSONResponse:
    """Erase everything about me from the registry and the ledger (the audit log keeps a
    tombstone that names no one). Asks for the password again: it cannot be undone."""
    person_id = subject.person_id
    with state.read() as conn:
        login = registry.login_of(conn, person_id)
    key, address = login or person_id, client_address(request)
    state.logins.check(key, address)
    with state.reader.begin() as conn:
        confirmed = login is not None and registry.verify_password(conn, login, body.password)
    if confirmed != person_id:
        state.logins.failed(key, address)
        raise Forbidden("the password is not right: nothing was erased")
    removed = online.erase(state.engine, person_id, actor="subject", settings=state.settings)
    response = JSONResponse(ErasePublic(erased=True, ledger_rows_removed=removed).model_dump())
    end_session(response, state, subject)
    return response


@router.get("/export", response_model=ExportPublic)
def export_me(state: StateDep, subject: CostlySubject) -> JSONResponse:
    """Everything openscore holds about me, as one JSON document."""
    person_id = subject.person_id
    with state.read() as conn:
        held = registry.export_person(conn, person_id)
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
        history = registry.score_history(conn, person_id, limit=10_000)
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    document = ExportPublic(
        format="openscore.export.v1",
        generated_at=registry.utc_now(),
        person_id=person_id,
        registry=jsonable_encoder(held),
        ledger=ledger_rows(state.ledger, person_id),
        features=features,
        score_history=[score_public(s) for s in history],
    )
    return JSONResponse(
        jsonable_encoder(document),
        headers={"Content-Disposition": 'attachment; filename="openscore-export.json"'},
    )


def _lock_public(state, person_id: str) -> LockPublic:  # noqa: ANN001
    with state.read() as conn:
        since = registry.locked_since(conn, person_id)
    return LockPublic(locked=since is not None, since=since)


@router.get("/lock", response_model=LockPublic)
def read_lock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    return _lock_public(state, subject.person_id)


@router.post("/lock", response_model=LockPublic)
def lock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    """Freeze my file: no partner gets a decision or a score until I unlock it."""
    with state.write() as conn:
        since = registry.lock_file(conn, subject.person_id, actor="subject")
    return LockPublic(locked=True, since=since)


@router.post("/unlock", response_model=LockPublic)
def unlock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    with state.write() as conn:
        registry.unlock_file(conn, subject.person_id, actor="subject")
    return LockPublic(locked=False, since=None)
