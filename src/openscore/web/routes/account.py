"""My data and my account: download everything (JSON), delete everything."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openscore.api.deps import client_address, end_session
from openscore.errors import Forbidden, RateLimited
from openscore.services import account as account_service
from openscore.services.schemas import EraseRequest
from openscore.web import forms
from openscore.web.auth import PortalSubject, app_state
from openscore.web.render import PAGE_HEADERS, page

router = APIRouter()

CONFIRM = "erase my account"


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, subject: PortalSubject) -> HTMLResponse:
    me = account_service.read_me(app_state(request), subject.person_id)
    return page(request, "portal/account.html", me=me, confirm_text=CONFIRM)


@router.get("/account/export")
def export(request: Request, subject: PortalSubject) -> JSONResponse:
    """The API's export document, as a file download."""
    state = app_state(request)
    state.costly.attempt(subject.person_id, "requests that rescore or change your data")
    response = JSONResponse(
        jsonable_encoder(account_service.export(state, subject.person_id)),
        headers={"Content-Disposition": 'attachment; filename="openscore-export.json"'},
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="openscore-export-{subject.person_id}.json"'
        if subject.person_id.isalnum()
        else 'attachment; filename="openscore-export.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/delete", response_class=HTMLResponse)
async def delete(request: Request, subject: PortalSubject) -> Response:
    form = await request.form()
    confirm, password = forms.text(form, "confirm"), forms.raw(form, "password")
    state = app_state(request)
    me = await run_in_threadpool(account_service.read_me, state, subject.person_id)

    def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return page(
            request,
            "portal/account.html",
            status=status,
            me=me,
            confirm_text=CONFIRM,
            errors=errors,
            typed=confirm,
        )

    errors: dict[str, str] = {}
    if confirm.lower() != CONFIRM:
        errors["confirm"] = f"Type “{CONFIRM}” to confirm."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        return again(errors, 422)
    try:
        body = EraseRequest(confirm=CONFIRM, password=password)
    except ValidationError:
        return again({"password": "The password is not right: nothing was deleted."}, 403)
    try:
        removed = await run_in_threadpool(
            lambda: account_service.erase(
                state,
                subject.person_id,
                password=body.password,
                logins=state.logins,
                address=client_address(request),
            )
        )
    except Forbidden:
        return again({"password": "The password is not right: nothing was deleted."}, 403)
    except RateLimited:
        return again({"password": "Too many wrong passwords: wait a few minutes."}, 429)
    response = RedirectResponse(
        f"/goodbye?rows={int(removed)}", status_code=303, headers=PAGE_HEADERS
    )
    end_session(response, state, subject.session)
    return response
