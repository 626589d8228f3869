"""Decisions about me (with a request for human review) and my records and disputes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openscore import registry
from openscore.errors import Conflict, NotFound
from openscore.services import decisions as decision_service
from openscore.services import disputes as dispute_service
from openscore.services import reviews
from openscore.services.schemas import DisputeCreate, ReviewCreate
from openscore.web import forms
from openscore.web.auth import PortalSubject, Visitor, app_state, with_query
from openscore.web.render import page
from openscore.web.routes.control import partner_names, require_id, see_other

router = APIRouter()

#: Records per page on the records page (newest first).
RECORDS_PER_PAGE = 25


# -- decisions ----------------------------------------------------------------------------


@router.get("/decisions", response_class=HTMLResponse)
def decisions(request: Request, subject: PortalSubject) -> HTMLResponse:
    found = decision_service.list_decisions(app_state(request), subject.person_id, limit=100).items
    return page(request, "portal/decisions.html", decisions=found, names=partner_names(request))


def _decision_page(
    request: Request,
    subject: Visitor,
    decision_id: str,
    *,
    reason: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    decision = decision_service.read_decision(app_state(request), subject.person_id, decision_id)
    done = request.query_params.get("done")
    notice = None
    if done == "review":
        notice = {
            "kind": "success",
            "text": "Your request is with a person, who will look "
            "at the decision again and tell you what they found.",
        }
    elif done == "already":
        notice = {"kind": "", "text": "You already asked for a review of this decision."}
    return page(
        request,
        "portal/decision.html",
        status=status,
        decision=decision,
        names=partner_names(request),
        reason=reason or request.query_params.get("reason", "")[:4000],
        errors=errors or {},
        notice=notice,
    )


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
def decision(request: Request, subject: PortalSubject, decision_id: str) -> HTMLResponse:
    require_id(decision_id, "decision")
    return _decision_page(request, subject, decision_id)


@router.post("/decisions/{decision_id}/review", response_class=HTMLResponse)
async def request_review(request: Request, subject: PortalSubject, decision_id: str) -> Response:
    require_id(decision_id, "decision")
    form = await request.form()
    reason = forms.text(form, "reason")
    try:
        body = ReviewCreate(reason=reason)
    except ValidationError:
        return await run_in_threadpool(
            _decision_page,
            request,
            subject,
            decision_id,
            reason=reason,
            errors={
                "reason": "Say in a few words why the decision should be looked at "
                "again (up to 4000 characters)."
            },
            status=422,
        )
    try:
        await run_in_threadpool(
            lambda: reviews.request_review(
                app_state(request),
                subject.person_id,
                decision_id,
                reason=body.reason,
                actor="subject",
            )
        )
    except Conflict:
        return see_other(f"/decisions/{decision_id}?done=already")
    return see_other(f"/decisions/{decision_id}?done=review")


# -- records and disputes -------------------------------------------------------------------


_DISPUTE_NOTICES = {
    "filed": (
        "success",
        "Your dispute is filed. You get an answer by the deadline; until then the "
        "record keeps counting, marked as disputed, and a partner deciding about you is "
        "told and offers you a human review.",
    ),
    "already": ("", "This record already has an open dispute: follow it below."),
}


@router.get("/disputes", response_class=HTMLResponse)
def disputes(request: Request, subject: PortalSubject) -> HTMLResponse:
    state = app_state(request)
    records = dispute_service.list_records(state, subject.person_id, limit=10_000).items
    found = dispute_service.list_disputes(state, subject.person_id, limit=200).items
    public = [r for r in records if r.source == "public_records"]
    others = [r for r in records if r.source != "public_records"]
    sources = sorted({r.source for r in others})
    source = request.query_params.get("source", "")
    if source in sources:
        others = [r for r in others if r.source == source]
    else:
        source = ""
    pages = max(1, -(-len(others) // RECORDS_PER_PAGE))
    number = request.query_params.get("page", "1")
    current = min(max(int(number), 1), pages) if number.isdigit() else 1
    start = (current - 1) * RECORDS_PER_PAGE
    done = _DISPUTE_NOTICES.get(request.query_params.get("done", ""))
    return page(
        request,
        "portal/disputes.html",
        disputes=found,
        records_by_ref={r.record_ref: r for r in records},
        names=partner_names(request),
        public=public,
        others=others[start : start + RECORDS_PER_PAGE],
        others_total=len(others),
        first=start + 1,
        sources=sources,
        source=source,
        page_number=current,
        pages=pages,
        notice={"kind": done[0], "text": done[1]} if done else None,
    )


def _find_record(request: Request, subject: Visitor, record_ref: str):
    records = dispute_service.list_records(
        app_state(request), subject.person_id, limit=10_000
    ).items
    for record in records:
        if record.record_ref == record_ref:
            return record
    raise NotFound("record not found")


def _new_dispute_page(
    request: Request,
    subject: Visitor,
    record_ref: str,
    *,
    reason: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    record = _find_record(request, subject, record_ref)
    return page(
        request,
        "portal/dispute_new.html",
        status=status,
        record=record,
        names=partner_names(request),
        reason=reason,
        errors=errors or {},
        once=request.app.state.openscore_web.once.new(),
        exclude=app_state(request).api.disputes_exclude_while_open,
    )


@router.get("/disputes/new", response_class=HTMLResponse)
def new_dispute(request: Request, subject: PortalSubject) -> HTMLResponse:
    query = request.query_params
    return _new_dispute_page(
        request, subject, query.get("record_ref", ""), reason=query.get("reason", "")[:4000]
    )


@router.post("/disputes", response_class=HTMLResponse)
async def file_dispute(request: Request, subject: PortalSubject) -> Response:
    form = await request.form()
    record_ref, reason = forms.text(form, "record_ref"), forms.text(form, "reason")
    try:
        body = DisputeCreate(record_ref=record_ref, reason=reason)
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        if "record_ref" in errors:
            raise NotFound("record not found") from None
        errors["reason"] = (
            "Say in a few words what is wrong with this record (up to 4000 characters)."
        )
        return await run_in_threadpool(
            _new_dispute_page,
            request,
            subject,
            record_ref,
            reason=reason,
            errors=errors,
            status=422,
        )
    state = app_state(request)
    state.costly.attempt(subject.person_id, "requests that rescore or change your data")

    def file() -> str:
        return dispute_service.file_dispute(
            state,
            subject.person_id,
            record_ref=body.record_ref,
            reason=body.reason,
            exclude_while_open=state.api.disputes_exclude_while_open,
            actor="subject",
        ).id

    try:
        dispute_id, _ = await run_in_threadpool(
            request.app.state.openscore_web.once.run,
            subject.person_id,
            forms.text(form, "once"),
            file,
        )
    except Conflict:
        return see_other("/disputes?done=already")
    return see_other(with_query(f"/disputes/{dispute_id}", {"done": "filed"}))


@router.get("/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute(request: Request, subject: PortalSubject, dispute_id: str) -> HTMLResponse:
    require_id(dispute_id, "dispute")
    found = dispute_service.read_dispute(app_state(request), subject.person_id, dispute_id)
    done = _DISPUTE_NOTICES.get(request.query_params.get("done", ""))
    record = None
    try:
        record = _find_record(request, subject, found.record_ref)
    except NotFound:
        record = None  # resolved: the record was removed
    with app_state(request).read() as conn:
        notices = [
            n
            for n in registry.list_correction_notices(conn, subject.person_id)
            if n.dispute_id == found.id
        ]
    return page(
        request,
        "portal/dispute.html",
        dispute=found,
        record=record,
        notices=notices,
        partners=partner_names(request),
        notice={"kind": done[0], "text": done[1]} if done else None,
    )
