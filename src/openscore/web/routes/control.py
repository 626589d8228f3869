"""What a person controls: data sources, grants, the file lock; and who looked.

Every change goes through the same service functions as the API's routes (same rules,
same audit entries), and every form redirects after it is done (post/redirect/get), so that a reload
never sends it again. Repeats are harmless: switching off a source that is off, locking a
locked file or revoking a revoked grant says so and changes nothing; a grant form sent
twice creates one grant.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openscore import registry
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.errors import Conflict, InputError, NotFound, NotReady, OpenscoreError
from openscore.services import account as account_service
from openscore.services import consents as consent_service
from openscore.services import grants as grant_service
from openscore.services import inquiries as inquiry_service
from openscore.services import whatif as whatif_service
from openscore.services.records import own_records
from openscore.services.schemas import GrantCreate
from openscore.web import forms
from openscore.web.auth import PortalSubject, Visitor, app_state, with_query
from openscore.web.render import PAGE_HEADERS, page

router = APIRouter()

ID = re.compile(r"^[0-9a-f]{32}$")
SOURCES = tuple(s.value for s in CONSENTABLE_SOURCES)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


def require_id(value: str, what: str) -> str:
    """An id typed into a URL: a malformed one is as absent as someone else's (404)."""
    if not ID.match(value):
        raise NotFound(f"{what} not found")
    return value


def partner_names(request: Request) -> dict[str, str]:
    with app_state(request).read() as conn:
        return {p.id: p.name for p in registry.list_partners(conn)}


# -- data sources ------------------------------------------------------------------------


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    items = consent_service.list_consents(state, subject.person_id).items
    notice = None
    changed = request.query_params.get("changed")
    if changed in SOURCES:
        notice = _change_notice(request, subject, changed, request.query_params.get("now"))
    return page(request, "portal/sources.html", items=items, notice=notice)


def _change_notice(
    request: Request, subject: Visitor, source: str, now: str | None
) -> dict[str, str]:
    name = source.replace("_", " ")
    from openscore.web.vocabulary import SOURCE_NAMES

    name = SOURCE_NAMES.get(source, name)
    if now == "on":
        return {
            "kind": "success",
            "text": f"You share {name} again. Records sent from now on will count; the "
            "records deleted when you switched it off do not come back.",
        }
    if now == "already":
        return {"kind": "", "text": f"{name} was already as you asked: nothing changed."}
    with app_state(request).read() as conn:
        history = registry.score_history(conn, subject.person_id, limit=2, recomputed=False)
    text = f"You stopped sharing {name}: its records are deleted."
    if len(history) == 2:
        old, new = history[1].score, history[0].score
        if new is None:
            text += " There is now not enough data to score you."
        elif old is None:
            text += f" Your score is {new}."
        else:
            moved = "did not change" if old == new else f"went from {old} to {new}"
            text += f" Your score {moved}."
    return {"kind": "success", "text": text}


def _confirm_off_page(request: Request, subject: Visitor, source: str) -> HTMLResponse:
    """Switching a source off, step one: the what-if score without it, and how many of its
    records will be deleted (for good: switching it on again does not bring them back)."""
    state = app_state(request)
    deleted = sum(1 for r in own_records(state.ledger, subject.person_id) if r.source == source)
    prediction = None
    try:
        state.costly.attempt(subject.person_id, "what-if simulations")
        prediction = whatif_service.simulate(
            state, subject.person_id, overrides={}, without_sources=[source]
        )
    except NotReady:
        prediction = None
    return page(
        request,
        "portal/source_off.html",
        source=source,
        deleted=deleted,
        prediction=prediction,
    )


@router.post("/sources/{source}", response_model=None)
async def switch_source(
    request: Request, subject: PortalSubject, source: str
) -> RedirectResponse | HTMLResponse:
    if source not in SOURCES:
        raise NotFound(f"source {source!r} not found")
    form = await request.form()
    share = forms.text(form, "share")
    state = app_state(request)
    shared = consent_service.list_consents(state, subject.person_id).items
    current: dict[str, bool] = {c.source: c.shared for c in shared}
    wanted = share == "on"
    if share not in ("on", "off") or current.get(source) == wanted:
        return see_other(f"/sources?changed={source}&now=already")
    if not wanted and forms.text(form, "confirm") != "yes":
        # Before anything is deleted: what the what-if predicts, and what will be lost.
        return await run_in_threadpool(_confirm_off_page, request, subject, source)
    state.costly.attempt(subject.person_id, "requests that rescore or change your data")
    try:
        if wanted:
            await run_in_threadpool(
                consent_service.share, state, subject.person_id, source, actor="subject"
            )
        else:
            await run_in_threadpool(
                consent_service.revoke, state, subject.person_id, source, actor="subject"
            )
    except Conflict:  # a double submission raced this one: it is done either way
        return see_other(f"/sources?changed={source}&now=already")
    return see_other(f"/sources?changed={source}&now={'on' if wanted else 'off'}")


# -- grants -------------------------------------------------------------------------------


def _grants_page(
    request: Request,
    subject: Visitor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = app_state(request)
    with state.read() as conn:
        grants = registry.list_grants(conn, subject.person_id)
        directory = [p for p in registry.list_partners(conn, role="partner") if p.active]
    names = partner_names(request)
    query = request.query_params
    chosen_id = (values or {}).get("partner_id", query.get("partner_id", ""))
    chosen = next((p for p in directory if p.id == chosen_id), None)
    # A partner is offered only its own products, and a grant's purpose is one of theirs.
    offered = grant_service.offered_products(state.catalogue, chosen) if chosen else []
    purposes = grant_service.purposes_of(offered)
    defaults = {
        "partner_id": chosen.id if chosen else "",
        "products": query.getlist("products"),
        "purpose": query.get("purpose", purposes[0] if purposes else ""),
        "scope": query.get("scope", "decision"),
        "expires_in_days": query.get("expires_in_days", "180"),
    }
    return page(
        request,
        "portal/grants.html",
        status=status,
        active=[g for g in grants if g.active()],
        past=[g for g in grants if not g.active()],
        names=names,
        directory=directory,
        chosen=chosen,
        unknown_partner=bool(chosen_id) and chosen is None,
        products=offered,
        purposes=purposes,
        purpose_names=grant_service.PURPOSES,
        values=values or defaults,
        errors=errors or {},
        notice=notice,
        once=request.app.state.openscore_web.once.new(),
    )


_GRANT_NOTICES = {
    "created": ("success", "The grant is given. The partner can now ask for a decision."),
    "revoked": ("success", "The grant is revoked: the partner can no longer ask about you."),
    "already": ("", "That grant was already revoked: nothing changed."),
}


@router.get("/grants", response_class=HTMLResponse)
def grants(request: Request, subject: PortalSubject) -> HTMLResponse:
    done = _GRANT_NOTICES.get(request.query_params.get("done", ""))
    notice = {"kind": done[0], "text": done[1]} if done else None
    return _grants_page(request, subject, notice=notice)


@router.post("/grants", response_class=HTMLResponse)
async def create_grant(request: Request, subject: PortalSubject) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        "partner_id": forms.text(form, "partner_id"),
        "products": forms.many(form, "products"),
        "purpose": forms.text(form, "purpose"),
        "scope": forms.text(form, "scope") or "decision",
        "expires_in_days": forms.text(form, "expires_in_days") or "180",
    }
    try:
        days = int(values["expires_in_days"])
    except ValueError:
        days = -1
    try:
        body = GrantCreate(
            partner_id=values["partner_id"],
            products=values["products"],
            purpose=values["purpose"],
            scope=values["scope"],
            expires_in_days=days,
        )
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "purpose" in errors:
            errors["purpose"] = "Choose what the grant is for."
        if "expires_in_days" in errors:
            errors["expires_in_days"] = "Enter a whole number of days from 1 to 730."
        return await run_in_threadpool(
            _grants_page, request, subject, values=values, errors=errors, status=422
        )
    state = app_state(request)

    def create() -> str:
        grant = grant_service.create_grant(
            state,
            subject.person_id,
            partner_id=body.partner_id,
            products=body.products,
            purpose=body.purpose,
            scope=body.scope,
            expires_in_days=body.expires_in_days,
            actor="subject",
        )
        return grant.id

    try:
        grant_id, _ = await run_in_threadpool(
            request.app.state.openscore_web.once.run,
            subject.person_id,
            forms.text(form, "once"),
            create,
        )
    except OpenscoreError as exc:
        if isinstance(exc, InputError) and exc.field:
            field, message = exc.field, exc.reason
        else:
            field = "products" if "product" in exc.message else "partner_id"
            message = exc.message
        return await run_in_threadpool(
            _grants_page,
            request,
            subject,
            values=values,
            errors={field: message},
            status=422,
        )
    return see_other(with_query("/grants", {"done": "created", "grant": grant_id or ""}))


@router.post("/grants/{grant_id}/revoke")
async def revoke_grant(request: Request, subject: PortalSubject, grant_id: str) -> RedirectResponse:
    require_id(grant_id, "grant")
    state = app_state(request)
    try:
        await run_in_threadpool(
            grant_service.revoke_grant, state, subject.person_id, grant_id, actor="subject"
        )
    except Conflict:
        return see_other("/grants?done=already")
    return see_other("/grants?done=revoked")


# -- the file lock ------------------------------------------------------------------------


@router.get("/lock", response_class=HTMLResponse)
def lock_page(request: Request, subject: PortalSubject) -> HTMLResponse:
    lock = account_service.read_lock(app_state(request), subject.person_id)
    done = request.query_params.get("done")
    notice = None
    if done in ("lock", "unlock"):
        notice = {
            "kind": "success",
            "text": "Your file is locked." if lock.locked else "Your file is unlocked.",
        }
    return page(request, "portal/lock.html", lock=lock, notice=notice)


@router.post("/lock")
async def lock(request: Request, subject: PortalSubject) -> RedirectResponse:
    form = await request.form()
    action = forms.text(form, "action")
    state = app_state(request)
    if action == "lock":
        await run_in_threadpool(account_service.lock, state, subject.person_id)
    elif action == "unlock":
        await run_in_threadpool(account_service.unlock, state, subject.person_id)
    return see_other(f"/lock?done={action}")


# -- who looked ---------------------------------------------------------------------------


@router.get("/inquiries", response_class=HTMLResponse)
def inquiries(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    with state.read() as conn:
        found = registry.list_inquiries(conn, subject.person_id, limit=50)
        grants = {g.id: g for g in registry.list_grants(conn, subject.person_id)}
    return page(
        request,
        "portal/inquiries.html",
        inquiries=found,
        grants=grants,
        names=partner_names(request),
    )


@router.get("/inquiries/{inquiry_id}", response_class=HTMLResponse)
def inquiry(request: Request, subject: PortalSubject, inquiry_id: str) -> HTMLResponse:
    require_id(inquiry_id, "inquiry")
    state = app_state(request)
    found = inquiry_service.read_inquiry(state, subject.person_id, inquiry_id)
    try:
        proof = inquiry_service.prove_inquiry(state, subject.person_id, inquiry_id)
    except Conflict:  # queued for the audit log, integrated within the merge delay
        proof = None
    grant = None
    if found.grant_id:
        with state.read() as conn:
            try:
                grant = registry.get_grant(conn, subject.person_id, found.grant_id)
            except NotFound:
                grant = None
    return page(
        request,
        "portal/inquiry.html",
        inquiry=found,
        proof=proof,
        max_merge_delay=state.api.audit_max_merge_delay_seconds,
        grant=grant,
        names=partner_names(request),
    )
