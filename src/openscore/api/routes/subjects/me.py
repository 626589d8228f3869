"""The account itself: who I am, lock and unlock my file, export everything, erase."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from openscore.api.deps import CostlySubject, CurrentSubject, StateDep, client_address, end_session
from openscore.services import account
from openscore.services.schemas import ErasePublic, EraseRequest, ExportPublic, LockPublic, MePublic

router = APIRouter(prefix="/v1/me", tags=["subjects: account"])


@router.get("", response_model=MePublic)
def read_me(state: StateDep, subject: CurrentSubject) -> MePublic:
    return account.read_me(state, subject.person_id)


@router.delete("", response_model=ErasePublic)
def erase_me(
    request: Request, state: StateDep, subject: CurrentSubject, body: EraseRequest
) -> JSONResponse:
    """Erase everything about me from the registry and the ledger (the audit log keeps a
    tombstone that names no one). Asks for the password again: it cannot be undone."""
    removed = account.erase(
        state,
        subject.person_id,
        password=body.password,
        logins=state.logins,
        address=client_address(request),
    )
    response = JSONResponse(ErasePublic(erased=True, ledger_rows_removed=removed).model_dump())
    end_session(response, state, subject)
    return response


@router.get("/export", response_model=ExportPublic)
def export_me(state: StateDep, subject: CostlySubject) -> JSONResponse:
    """Everything openscore holds about me, as one JSON document."""
    return JSONResponse(
        jsonable_encoder(account.export(state, subject.person_id)),
        headers={"Content-Disposition": 'attachment; filename="openscore-export.json"'},
    )


@router.get("/lock", response_model=LockPublic)
def read_lock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    return account.read_lock(state, subject.person_id)


@router.post("/lock", response_model=LockPublic)
def lock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    """Freeze my file: no partner gets a decision or a score until I unlock it."""
    return account.lock(state, subject.person_id, actor="subject")


@router.post("/unlock", response_model=LockPublic)
def unlock(state: StateDep, subject: CurrentSubject) -> LockPublic:
    return account.unlock(state, subject.person_id, actor="subject")
