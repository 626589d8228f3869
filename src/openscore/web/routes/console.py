"""The operator console: log-in with an operator key, the overview, the disputes and
human-review queues, partners and their API keys.

Actions go through the same service functions as the API's operator routes, with the
operator's principal, so the audit log names the operator exactly as it does for an API
call.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openscore import online, registry
from openscore.api.deps import client_address
from openscore.errors import Conflict, NotFound, OpenscoreError, RateLimited
from openscore.registry import leases, sequencer
from openscore.registry import webhooks as webhook_store
from openscore.services import disputes as dispute_service
from openscore.services import partners as partner_service
from openscore.services import people as people_service
from openscore.services import reviews as review_service
from openscore.services.schemas import (
    ApiKeyCreate,
    DisputeClose,
    PartnerCreate,
    ReviewClose,
)
from openscore.web import forms, reports
from openscore.web.auth import (
    ConsoleOperator,
    Operator,
    app_state,
    check_form_token,
    end_console_session,
    form_token,
    start_console_session,
    with_query,
)
from openscore.web.render import PAGE_HEADERS, page
from openscore.web.routes.control import require_id, see_other

router = APIRouter(prefix="/console")

PARTNER_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
#: ``services.schemas.PersonId``: printable ASCII without spaces, 1-128 characters
PERSON_ID = re.compile(r"^[!-~]{1,128}$")


def _next(value: str | None) -> str:
    if value and value.startswith("/console") and not value.startswith("/console/login"):
        if "//" not in value and "\\" not in value:
            return value
    return "/console"


# -- log-in -------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    form_token(request)
    return page(
        request,
        "console/login.html",
        next=_next(request.query_params.get("next")),
        ended=request.query_params.get("ended") == "1",
        bye=request.query_params.get("bye") == "1",
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    await check_form_token(request)
    form = await request.form()
    secret, next_url = forms.text(form, "key"), _next(forms.text(form, "next"))
    state = app_state(request)
    form_token(request)
    throttle = f"console-key@{client_address(request)}"

    def again(message: str, status: int) -> HTMLResponse:
        return page(
            request,
            "console/login.html",
            status=status,
            next=next_url,
            ended=False,
            bye=False,
            errors={"key": message},
        )

    if not secret:
        return again("Paste your operator API key.", 422)
    try:
        state.logins.check(throttle, client_address(request))
    except RateLimited as exc:
        return again(f"Too many wrong keys: wait {-(-exc.retry_after // 60)} minute(s).", 429)

    def check() -> registry.ApiPrincipal | None:
        with state.read() as conn:
            principal = registry.authenticate_api_key(conn, secret)
        return principal if principal is not None and principal.role == "operator" else None

    principal = await run_in_threadpool(check)
    if principal is None:
        state.logins.failed(throttle, client_address(request))
        return again("This is not a valid operator key (or it was revoked).", 401)
    state.logins.succeeded(throttle)
    response = RedirectResponse(next_url, status_code=303, headers=PAGE_HEADERS)
    start_console_session(request, response, principal)
    return response


@router.post("/logout")
async def logout(request: Request, operator: ConsoleOperator) -> Response:
    response = RedirectResponse("/console/login?bye=1", status_code=303, headers=PAGE_HEADERS)
    end_console_session(request, response, operator)
    return response


# -- overview -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    state = app_state(request)
    with state.read() as conn:
        open_disputes = registry.dispute_queue(conn, status="open", limit=1000)
        reviews = registry.review_queue(conn, status="requested", limit=1000)
        runs = registry.list_ingestion_runs(conn, limit=1)
        jobs = leases.list_leases(conn)
        queued = sequencer.queue_state(conn)
    try:
        card = online.current_model(state.settings)
    except NotFound:
        card = None
    now = registry.utc_now()
    return page(
        request,
        "console/overview.html",
        open_disputes=len(open_disputes),
        overdue=sum(d.overdue(now) for d in open_disputes),
        reviews=len(reviews),
        last_run=runs[0] if runs else None,
        last_batch=next(iter(reports.runs_on_disk(state.settings, limit=1)), None),
        card=card,
        published=reports.published_count(state),
        fairness=reports.latest_dir(state.settings, "fairness"),
        city_map=reports.latest_dir(state.settings, "map"),
        jobs=jobs,
        queued=queued,
        now=now,
        max_merge_delay=state.api.audit_max_merge_delay_seconds,
    )


# -- disputes -----------------------------------------------------------------------------

DisputeStatus = Literal["open", "resolved", "rejected"]


@router.get("/disputes", response_class=HTMLResponse)
def disputes(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    status = request.query_params.get("status", "open")
    if status not in ("open", "resolved", "rejected"):
        status = "open"
    found = dispute_service.queue(app_state(request), status=status, limit=200)
    notice = None
    done = request.query_params.get("done")
    if done in ("resolved", "rejected"):
        notice = {
            "kind": "success",
            "text": f"The dispute is {done}"
            + (" and the record removed" if done == "resolved" else "")
            + "; the person's score was recomputed and published.",
        }
    elif done == "already":
        notice = {"kind": "", "text": "That dispute was already closed: nothing changed."}
    return page(
        request, "console/disputes.html", disputes=found.items, shown_status=status, notice=notice
    )


@router.get("/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute(request: Request, operator: ConsoleOperator, dispute_id: str) -> HTMLResponse:
    require_id(dispute_id, "dispute")
    return _dispute_page(request, operator, dispute_id)


def _dispute_page(
    request: Request,
    operator: Operator,
    dispute_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    # Reading the record is an inquiry (the service logs it, and the person sees it).
    detail = dispute_service.investigate(
        app_state(request),
        dispute_id,
        partner_id=operator.principal.partner_id,
        actor=operator.principal.actor,
    )
    return page(
        request,
        "console/dispute.html",
        status=status,
        dispute=detail,
        values=values or {"status": "", "resolution": ""},
        errors=errors or {},
    )


@router.post("/disputes/{dispute_id}/close", response_class=HTMLResponse)
async def close_dispute(request: Request, operator: ConsoleOperator, dispute_id: str) -> Response:
    require_id(dispute_id, "dispute")
    form = await request.form()
    values = {"status": forms.text(form, "status"), "resolution": forms.text(form, "resolution")}
    try:
        body = DisputeClose.model_validate(values)
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "status" in errors:
            errors["status"] = "Choose resolved or rejected."
        if "resolution" in errors:
            errors["resolution"] = "Write the answer the person will read."
        return await run_in_threadpool(
            _dispute_page,
            request,
            operator,
            dispute_id,
            values=values,
            errors=errors,
            status=422,
        )
    try:
        await run_in_threadpool(
            lambda: dispute_service.close(
                app_state(request),
                dispute_id,
                status=body.status,
                resolution=body.resolution,
                actor=operator.principal.actor,
            )
        )
    except Conflict:
        return see_other("/console/disputes?done=already")
    return see_other(f"/console/disputes?done={body.status}")


# -- human reviews --------------------------------------------------------------------------


@router.get("/reviews", response_class=HTMLResponse)
def reviews(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    status = request.query_params.get("status", "requested")
    if status not in ("requested", "upheld", "overturned"):
        status = "requested"
    found = review_service.queue(app_state(request), status=status, limit=200)
    done = request.query_params.get("done")
    notice = None
    if done in ("upheld", "overturned"):
        notice = {"kind": "success", "text": f"The review is closed: decision {done}."}
    elif done == "already":
        notice = {"kind": "", "text": "That review was already closed: nothing changed."}
    return page(
        request, "console/reviews.html", reviews=found.items, shown_status=status, notice=notice
    )


def _review_page(
    request: Request,
    operator: Operator,
    review_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = app_state(request)
    # The reviewer reads the person's decision: an inquiry (the service records it).
    found = review_service.investigate(
        state, review_id, partner_id=operator.principal.partner_id, actor=operator.principal.actor
    )
    with state.read() as conn:
        names = {p.id: p.name for p in registry.list_partners(conn)}
    return page(
        request,
        "console/review.html",
        status=status,
        review=found.review,
        decision=found.decision,
        names=names,
        values=values or {"status": "", "resolution": ""},
        errors=errors or {},
    )


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review(request: Request, operator: ConsoleOperator, review_id: str) -> HTMLResponse:
    require_id(review_id, "review")
    return _review_page(request, operator, review_id)


@router.post("/reviews/{review_id}/close", response_class=HTMLResponse)
async def close_review(request: Request, operator: ConsoleOperator, review_id: str) -> Response:
    require_id(review_id, "review")
    form = await request.form()
    values = {"status": forms.text(form, "status"), "resolution": forms.text(form, "resolution")}
    try:
        body = ReviewClose.model_validate(values)
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "status" in errors:
            errors["status"] = "Choose upheld or overturned."
        if "resolution" in errors:
            errors["resolution"] = "Write the answer the person will read."
        return await run_in_threadpool(
            _review_page,
            request,
            operator,
            review_id,
            values=values,
            errors=errors,
            status=422,
        )
    try:
        await run_in_threadpool(
            lambda: review_service.close(
                app_state(request),
                review_id,
                status=body.status,
                resolution=body.resolution,
                actor=operator.principal.actor,
            )
        )
    except Conflict:
        return see_other("/console/reviews?done=already")
    return see_other(f"/console/reviews?done={body.status}")


# -- partners and keys ----------------------------------------------------------------------


@router.get("/partners", response_class=HTMLResponse)
def partners(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    return _partners_page(request, operator)


def _partners_page(
    request: Request,
    operator: Operator,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = partner_service.list_partners(app_state(request)).items
    done = request.query_params.get("done")
    notice = {"kind": "success", "text": "Partner created."} if done == "created" else None
    return page(
        request,
        "console/partners.html",
        status=status,
        partners=found,
        values=values or {"name": "", "role": "partner", "partner_id": ""},
        errors=errors or {},
        notice=notice,
        once=request.app.state.openscore_web.once.new(),
    )


@router.post("/partners", response_class=HTMLResponse)
async def create_partner(request: Request, operator: ConsoleOperator) -> Response:
    form = await request.form()
    values = {
        "name": forms.text(form, "name"),
        "role": forms.text(form, "role") or "partner",
        "partner_id": forms.text(form, "partner_id"),
    }
    try:
        body = PartnerCreate(
            name=values["name"], role=values["role"], partner_id=values["partner_id"] or None
        )
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "partner_id" in errors:
            errors["partner_id"] = "2 to 64 lower-case letters, digits, - and _."
        return await run_in_threadpool(
            _partners_page, request, operator, values=values, errors=errors, status=422
        )
    state = app_state(request)

    def create() -> str:
        return partner_service.create_partner(
            state,
            name=body.name,
            role=body.role,
            partner_id=body.partner_id,
            actor=operator.principal.actor,
        ).id

    try:
        partner_id, _ = await run_in_threadpool(
            request.app.state.openscore_web.once.run,
            operator.principal.partner_id,
            forms.text(form, "once"),
            create,
        )
    except Conflict:
        return await run_in_threadpool(
            _partners_page,
            request,
            operator,
            values=values,
            errors={"partner_id": "This id is taken."},
            status=409,
        )
    return see_other(with_query(f"/console/partners/{partner_id}", {"done": "created"}))


def _partner_id(value: str) -> str:
    if not 2 <= len(value) <= 64 or any(c not in PARTNER_ID_CHARS for c in value):
        raise NotFound("partner not found")
    return value


def _partner_page(
    request: Request,
    operator: Operator,
    partner_id: str,
    *,
    new_key: object | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = app_state(request)
    partner = partner_service.read_partner(state, partner_id)
    keys = partner_service.list_keys(state, partner_id).items
    done = request.query_params.get("done")
    notices = {
        "created": ("success", "Partner created. Give it an API key below."),
        "revoked": ("success", "The key is revoked: it stops working on its next request."),
        "deactivated": ("success", "The partner is deactivated: its keys and grants stop working."),
        "already": ("", "That was already done: nothing changed."),
        "key_once": (
            "warning",
            "That form was already sent: the key was created then, and "
            "its secret was shown only on that page. Revoke it and create another if "
            "it was not saved.",
        ),
    }
    notice = notices.get(done or "")
    with state.read() as conn:
        try:
            webhook = webhook_store.get_endpoint(conn, partner_id)
        except NotFound:
            webhook = None
        deliveries = webhook_store.list_deliveries(conn, partner_id, limit=20)
    return page(
        request,
        "console/partner.html",
        status=status,
        partner=partner,
        keys=keys,
        webhook=webhook,
        deliveries=deliveries,
        new_key=new_key,
        errors=errors or {},
        notice={"kind": notice[0], "text": notice[1]} if notice else None,
        once=request.app.state.openscore_web.once.new(),
        is_self=partner.id == operator.principal.partner_id,
    )


@router.get("/partners/{partner_id}", response_class=HTMLResponse)
def partner(request: Request, operator: ConsoleOperator, partner_id: str) -> HTMLResponse:
    return _partner_page(request, operator, _partner_id(partner_id))


@router.post("/partners/{partner_id}/keys", response_class=HTMLResponse)
async def create_key(request: Request, operator: ConsoleOperator, partner_id: str) -> Response:
    _partner_id(partner_id)
    form = await request.form()
    label = forms.text(form, "label")
    try:
        body = ApiKeyCreate(label=label)
    except ValidationError:
        return await run_in_threadpool(
            _partner_page,
            request,
            operator,
            partner_id,
            errors={"label": "Name the key (up to 100 characters), e.g. production."},
            status=422,
        )
    state = app_state(request)
    created: dict[str, object] = {}

    def create() -> str:
        new = partner_service.create_key(
            state, partner_id, label=body.label, actor=operator.principal.actor
        )
        created["key"] = new
        return new.id

    try:
        _, replayed = await run_in_threadpool(
            request.app.state.openscore_web.once.run,
            operator.principal.partner_id,
            forms.text(form, "once"),
            create,
        )
    except OpenscoreError as exc:
        return await run_in_threadpool(
            _partner_page,
            request,
            operator,
            partner_id,
            errors={"label": exc.message},
            status=409,
        )
    if replayed:
        return see_other(f"/console/partners/{partner_id}?done=key_once")
    # The secret is shown on this answer only: not in a redirect, a URL or a log.
    return await run_in_threadpool(
        _partner_page, request, operator, partner_id, new_key=created["key"], status=201
    )


@router.post("/partners/{partner_id}/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, operator: ConsoleOperator, partner_id: str, key_id: str
) -> Response:
    _partner_id(partner_id)
    require_id(key_id, "key")
    try:
        await run_in_threadpool(
            lambda: partner_service.revoke_key(
                app_state(request), partner_id, key_id, actor=operator.principal.actor
            )
        )
    except Conflict:
        return see_other(f"/console/partners/{partner_id}?done=already")
    return see_other(f"/console/partners/{partner_id}?done=revoked")


@router.post("/partners/{partner_id}/deactivate")
async def deactivate(request: Request, operator: ConsoleOperator, partner_id: str) -> Response:
    _partner_id(partner_id)
    if partner_id == operator.principal.partner_id:
        raise Conflict("you cannot deactivate the operator you are signed in as")
    try:
        await run_in_threadpool(
            lambda: partner_service.deactivate_partner(
                app_state(request), partner_id, actor=operator.principal.actor
            )
        )
    except Conflict:
        return see_other(f"/console/partners/{partner_id}?done=already")
    return see_other(f"/console/partners/{partner_id}?done=deactivated")


# -- the audit log's checkpoints ------------------------------------------------------------


@router.post("/audit/heads", response_class=HTMLResponse)
async def sign_head(request: Request, operator: ConsoleOperator) -> Response:
    """Store the current tree head as a signed checkpoint (to publish, and to prove later
    heads consistent with); the audit page shows it. Signing twice at one size is a no-op."""
    state = app_state(request)

    def sign() -> int:
        with state.write() as conn:
            return registry.audit.sign_tree_head(conn).tree_size

    size = await run_in_threadpool(sign)
    return see_other(with_query("/console/audit", {"signed": str(size)}))


# -- enrolment codes ----------------------------------------------------------------------


def _enrolment_page(
    request: Request,
    *,
    person_id: str = "",
    issued: object | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = app_state(request)
    return page(
        request,
        "console/enrolment.html",
        status=status,
        person_id=person_id,
        issued=issued,
        errors=errors or {},
        valid_days=round(state.enrolment.max_age / 86400, 1),
    )


@router.get("/enrolment", response_class=HTMLResponse)
def enrolment(request: Request, operator: ConsoleOperator) -> HTMLResponse:
    return _enrolment_page(request)


@router.post("/enrolment", response_class=HTMLResponse)
async def issue_enrolment(request: Request, operator: ConsoleOperator) -> Response:
    """Issue a code for a registered person without a login; the code is on this answer
    only (not in a redirect, a URL or a log)."""
    form = await request.form()
    person_id = forms.text(form, "person_id")

    def again(message: str, status: int) -> HTMLResponse:
        return _enrolment_page(
            request, person_id=person_id, errors={"person_id": message}, status=status
        )

    if not person_id:
        return await run_in_threadpool(again, "Enter the person's id.", 422)
    if not PERSON_ID.match(person_id):
        return await run_in_threadpool(
            again,
            "A person id is 1 to 128 printable characters without spaces "
            "(letters, digits and punctuation).",
            422,
        )
    state = app_state(request)
    try:
        issued = await run_in_threadpool(
            lambda: people_service.issue_enrolment_code(
                state, state.enrolment, person_id, actor=operator.principal.actor
            )
        )
    except NotFound:
        return await run_in_threadpool(again, "No person has this id in the registry.", 404)
    except Conflict:
        return await run_in_threadpool(
            again, "This person already has a login: they do not need a code.", 409
        )
    return await run_in_threadpool(
        lambda: _enrolment_page(request, person_id="", issued=issued, status=201)
    )
