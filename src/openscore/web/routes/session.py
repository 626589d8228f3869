"""Sign up, log in, log out: the API's behaviour behind HTML forms.

The forms post here; these handlers call the same services as the API's ``signup`` /
``login`` routes and start the same session, so limits, messages and cookies are the
API's. A wrong password and an unknown login get
the same answer ("wrong login or password"), after the same amount of work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openscore.api.deps import client_address, end_session, start_session
from openscore.errors import AuthError, Conflict, Forbidden, RateLimited
from openscore.services import account
from openscore.services.schemas import LoginRequest, SubjectCreate
from openscore.web import forms
from openscore.web.auth import (
    PortalSubject,
    app_state,
    check_form_token,
    form_token,
    optional_subject,
    safe_next,
)
from openscore.web.render import PAGE_HEADERS, page

router = APIRouter()


def _log_in(request: Request, cookies: Response, body: LoginRequest) -> None:
    state = app_state(request)
    person_id, _ = account.log_in(
        state,
        login=body.login,
        password=body.password,
        logins=state.logins,
        address=client_address(request),
    )
    start_session(cookies, state, person_id)


def _sign_up(request: Request, cookies: Response, body: SubjectCreate) -> None:
    state = app_state(request)
    person_id = account.sign_up(
        state,
        login=body.login,
        password=body.password,
        enrolment_code=body.enrolment_code,
        enrolment=state.enrolment,
        signups=state.signups,
        address=client_address(request),
    )
    start_session(cookies, state, person_id)


WRONG = "The login or the password is not right."


def _redirect(url: str, cookies_from: Response | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)
    if cookies_from is not None:
        for value in cookies_from.headers.getlist("set-cookie"):
            response.headers.append("set-cookie", value)
    return response


def _wait_message(exc: RateLimited) -> str:
    minutes = max(1, -(-exc.retry_after // 60))
    return f"Too many attempts: wait {minutes} minute(s) and try again."


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), "/dashboard")
    if await optional_subject(request) is not None:
        return _redirect(next_url)
    form_token(request)
    return page(
        request,
        "login.html",
        next=next_url,
        login=request.query_params.get("login", "")[:254],
        ended=request.query_params.get("ended") == "1",
        resumed="?" in next_url,
        logged_out=request.query_params.get("bye") == "1",
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    await check_form_token(request)
    form = await request.form()
    name, password = forms.text(form, "login"), forms.raw(form, "password")
    next_url = safe_next(forms.text(form, "next"), "/dashboard")
    form_token(request)

    def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return page(
            request,
            "login.html",
            status=status,
            next=next_url,
            login=name[:254],
            ended=False,
            resumed=False,
            logged_out=False,
            errors=errors,
        )

    if not name or not password:
        errors = {}
        if not name:
            errors["login"] = "Enter your login."
        if not password:
            errors["password"] = "Enter your password."
        return again(errors, 422)
    try:
        body = LoginRequest(login=name, password=password)
    except ValidationError:
        return again({"login": WRONG}, 401)
    cookies = Response()
    try:
        await run_in_threadpool(_log_in, request, cookies, body)
    except AuthError:
        return again({"login": WRONG}, 401)
    except RateLimited as exc:
        return again({"login": _wait_message(exc)}, 429)
    return _redirect(next_url, cookies)


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request) -> Response:
    if await optional_subject(request) is not None:
        return _redirect("/dashboard")
    form_token(request)
    values = {"enrolment_code": request.query_params.get("code", "")[:512]}
    return page(request, "signup.html", values=values)


@router.post("/signup", response_class=HTMLResponse)
async def signup(request: Request) -> Response:
    await check_form_token(request)
    form = await request.form()
    values = {
        "login": forms.text(form, "login"),
        "enrolment_code": forms.text(form, "enrolment_code"),
    }
    password, again_ = forms.raw(form, "password"), forms.raw(form, "password_again")
    form_token(request)

    def again(errors: dict[str, str], status: int = 422) -> HTMLResponse:
        return page(request, "signup.html", status=status, values=values, errors=errors)

    try:
        body = SubjectCreate(
            login=values["login"],
            password=password,
            enrolment_code=values["enrolment_code"] or None,
        )
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "login" in errors and values["login"]:
            errors["login"] = "Use 3 to 254 letters, digits and . _ @ + - only."
        if "password" in errors:
            errors["password"] = "Use at least 10 characters."
        return again(errors)
    if password != again_:
        return again({"password_again": "The two passwords are not the same."})
    cookies = Response()
    try:
        await run_in_threadpool(_sign_up, request, cookies, body)
    except Conflict as exc:
        if "enrolment" in exc.message:
            return again({"enrolment_code": "This enrolment code was already used."}, 409)
        return again({"login": "This login is taken: choose another."}, 409)
    except Forbidden:
        return again(
            {"enrolment_code": "This enrolment code is not valid, or it has expired."}, 403
        )
    except RateLimited as exc:
        return again({"login": _wait_message(exc)}, 429)
    return _redirect("/dashboard?welcome=1", cookies)


@router.post("/logout")
async def logout(request: Request, subject: PortalSubject) -> Response:
    response = _redirect("/login?bye=1")
    end_session(response, app_state(request), subject.session)
    return response
