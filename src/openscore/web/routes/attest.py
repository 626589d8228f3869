"""Prove my score (issue an attestation, show it as a link and a QR code, withdraw it) and
the public page where anyone checks a token, with no account."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from openscore import registry
from openscore.api.deps import client_address
from openscore.attestations import ClaimRequest, Refused
from openscore.domain.bands import BANDS
from openscore.errors import Conflict, InputError, NotFound, RateLimited
from openscore.registry import attestations as store
from openscore.services import attestations as service
from openscore.services.scores import current_or_publish
from openscore.web import forms
from openscore.web.auth import PortalSubject, app_state, optional_subject
from openscore.web.render import PAGE_HEADERS, page

router = APIRouter()

EXPIRY_CHOICES = (1, 7, 30, 90, 365)


def _qr(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (no image request, no script: the CSP allows it)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, title="QR code of the link")
    return Markup(svg)


def _prove_page(request: Request, subject: Any, **extra: Any) -> HTMLResponse:
    state = app_state(request)
    score = current_or_publish(state, subject.person_id, actor="subject")
    with state.read() as conn:
        mine = store.list_attestations(conn, subject.person_id, limit=50)
    return page(
        request,
        "portal/prove.html",
        score=score,
        bands=[b for b in BANDS if score.score is not None and b.low <= score.score],
        expiry_choices=EXPIRY_CHOICES,
        attestations=mine,
        now=registry.utc_now(),
        **{"errors": {}, "values": {}, "issued": None, **extra},
    )


@router.get("/prove", response_class=HTMLResponse)
def prove(request: Request, subject: PortalSubject) -> HTMLResponse:
    notice = None
    if request.query_params.get("done") == "revoked":
        notice = {"kind": "success", "text": "Withdrawn: it is on the public revoked list now."}
    return _prove_page(request, subject, notice=notice)


@router.post("/prove", response_class=HTMLResponse)
async def prove_issue(request: Request, subject: PortalSubject) -> HTMLResponse:
    form = await request.form()
    values = {
        "min_score": forms.text(form, "min_score"),
        "band_at_least": forms.text(form, "band_at_least"),
        "no_public_record": forms.text(form, "no_public_record"),
        "exact_score": forms.text(form, "exact_score"),
        "expires_in_days": forms.text(form, "expires_in_days") or "30",
        "audience": forms.text(form, "audience"),
    }
    state = app_state(request)
    errors: dict[str, str] = {}
    issued = None
    try:
        try:
            min_score = int(values["min_score"]) if values["min_score"] else None
        except ValueError:
            raise InputError("enter a whole number", field="min_score") from None
        try:
            days = int(values["expires_in_days"])
        except ValueError:
            raise InputError("choose how long it is valid", field="expires_in_days") from None
        request_ = ClaimRequest(
            min_score=min_score,
            band_at_least=values["band_at_least"] or None,
            no_public_record=values["no_public_record"] == "yes",
            exact_score=values["exact_score"] == "yes",
        )
        issued = await run_in_threadpool(
            service.issue,
            state.engine,
            state.settings,
            subject.person_id,
            request_,
            expires_in_days=days,
            audience=values["audience"] or None,
            records_of=state.public_records.live_for,
            write=state.write,
        )
    except InputError as exc:
        errors[exc.field or "claims"] = exc.reason
    except Conflict as exc:  # the current score does not support a claim
        errors["claims"] = exc.message
    shown = None
    if issued is not None:
        link = str(request.base_url).rstrip("/") + "/verify#" + issued.token
        shown = {"token": issued.token, "link": link, "qr": _qr(link), "att": issued.attestation}
    return await run_in_threadpool(
        _prove_page, request, subject, errors=errors, values=values, issued=shown
    )


@router.post("/prove/{attestation_id}/revoke")
def prove_revoke(request: Request, subject: PortalSubject, attestation_id: str) -> Any:
    state = app_state(request)
    try:
        with state.write() as conn:
            store.revoke_attestation(conn, subject.person_id, attestation_id[:32])
    except Conflict:
        pass  # withdrawn already: the same end
    except NotFound:
        raise
    return RedirectResponse("/prove?done=revoked", status_code=303, headers=PAGE_HEADERS)


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request) -> HTMLResponse:
    await optional_subject(request)
    return page(request, "verify.html", token="", audience="", verdict=None, limited=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify_check(request: Request) -> HTMLResponse:
    await optional_subject(request)
    form = await request.form()
    token = forms.raw(form, "token").strip()[:8000]
    audience = forms.text(form, "audience")[:200] or None
    state = app_state(request)
    try:
        await run_in_threadpool(
            state.verifications.attempt, client_address(request), "checks from your address"
        )
    except RateLimited as exc:
        # the pasted statement stays in the form: nothing the visitor typed is lost
        return page(
            request,
            "verify.html",
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
            token=token,
            audience=audience or "",
            verdict=None,
            limited=exc.retry_after,
        )
    verdict: dict[str, Any]
    try:
        verified = await run_in_threadpool(
            service.check,
            state.engine,
            state.settings,
            token,
            audience=audience,
            write=state.write,
        )
        verdict = {
            "valid": True,
            "claims": verified.claims,
            "as_of": verified.visible.get("as_of"),
            "expires_at": verified.expires_at,
            "audience": verified.audience,
        }
    except Refused as exc:
        verdict = {"valid": False, "reason": str(exc)}
    return page(
        request, "verify.html", token=token, audience=audience or "", verdict=verdict, limited=None
    )
