"""My notifications (new inquiries, decisions, score changes, dispute outcomes) and the
webhook that receives them, signed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from openscore.errors import InputError, NotFound
from openscore.services import notifications as service
from openscore.web import forms
from openscore.web.auth import PortalSubject, Visitor, app_state
from openscore.web.render import page
from openscore.web.routes.control import see_other

router = APIRouter()

_NOTICES = {
    "read": ("success", "All your notifications are marked read."),
    "removed": ("success", "Your webhook is removed: notifications stay here only."),
}


def _page(
    request: Request,
    subject: Visitor,
    *,
    url: str = "",
    secret: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = app_state(request)
    found = service.list_notifications(state, subject.person_id, limit=100)
    try:
        webhook = service.get_webhook(state, subject.person_id)
    except NotFound:
        webhook = None
    notice = None
    done = request.query_params.get("done")
    if done in _NOTICES:
        kind, text = _NOTICES[done]
        notice = {"kind": kind, "text": text}
    if secret is not None:
        notice = {"kind": "success", "text": "Your webhook is set."}
    return page(
        request,
        "portal/notifications.html",
        status=status,
        notifications=found.items,
        unread=found.unread,
        unread_notifications=found.unread,
        webhook=webhook,
        secret=secret,
        url=url,
        errors=errors or {},
        notice=notice,
        threshold=state.settings.score_change_points,
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, subject: PortalSubject) -> HTMLResponse:
    return _page(request, subject)


@router.post("/notifications/read", response_class=HTMLResponse)
async def mark_all_read(request: Request, subject: PortalSubject) -> Response:
    await run_in_threadpool(service.mark_read, app_state(request), subject.person_id, None)
    return see_other("/notifications?done=read")


@router.post("/notifications/webhook", response_class=HTMLResponse)
async def set_webhook(request: Request, subject: PortalSubject) -> Response:
    form = await request.form()
    url = forms.text(form, "url")
    state = app_state(request)
    try:
        if not url:
            raise InputError("enter the URL openscore should POST to", field="url")
        if len(url) > 2040:
            raise InputError("must be at most 2040 characters", field="url")
        made = await run_in_threadpool(
            lambda: service.set_webhook(
                state, subject.person_id, url, allow_networks=state.api.webhook_allow_networks
            )
        )
    except InputError as exc:
        errors = {"url": exc.reason}
        return await run_in_threadpool(
            lambda: _page(request, subject, url=url, errors=errors, status=422)
        )
    return await run_in_threadpool(lambda: _page(request, subject, secret=made.secret))


@router.post("/notifications/webhook/delete", response_class=HTMLResponse)
async def delete_webhook(request: Request, subject: PortalSubject) -> Response:
    try:
        await run_in_threadpool(service.delete_webhook, app_state(request), subject.person_id)
    except NotFound:
        pass
    return see_other("/notifications?done=removed")
