"""Rendering pages: the Jinja2 environment, its filters, and the headers every page has.

Pages are personal data, so they are never cached. The Content-Security-Policy allows
this origin only — no script, style, image or form target anywhere else — which is the
run-time half of "no CDN anywhere" (a test scans every page for outside hosts).

``Referrer-Policy: same-origin`` matters for the forms: the API middleware's default
``no-referrer`` makes browsers send ``Origin: null`` with a form POST, which the CSRF
check rightly refuses as cross-origin.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from openscore.domain.bands import SCORE_MAX, SCORE_MIN
from openscore.web import vocabulary

STATIC_DIR = Path(str(files("openscore.web") / "static"))

PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


@cache
def _static_version(name: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static(name: str) -> str:
    """The URL of a static file, versioned by its content (safe to cache forever)."""
    return f"/static/{name}?v={_static_version(name)}"


@pass_context
def _money(context: Context, amount: Any, currency: str | None = None) -> str:
    """``{{ 50 | money }}``: the amount in the catalogue's currency (or ``currency``)."""
    return vocabulary.money(amount, currency or context.get("currency"))


@pass_context
def _product(context: Context, product_id: Any) -> str:
    """``{{ "bike" | product }}`` -> "Deposit-free bike" (the catalogue's name)."""
    names = context.get("product_names") or {}
    return str(names.get(str(product_id)) or vocabulary.words(product_id))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("openscore.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The raw JSON a "Details" element shows may hold dates.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": str}
    env.globals.update(
        static=static,
        SOURCE_NAMES=vocabulary.SOURCE_NAMES,
        DIMENSIONS=vocabulary.DIMENSIONS,
        SCOPES=vocabulary.SCOPES,
        STATUSES=vocabulary.STATUSES,
        OUTCOMES=vocabulary.OUTCOMES,
        furnisher_name=vocabulary.furnisher_name,
        answer_sentences=vocabulary.answer_sentences,
        term_rows=vocabulary.term_rows,
        record_kind=vocabulary.record_kind,
        record_summary=vocabulary.record_summary,
        SCORE_MIN=SCORE_MIN,
        SCORE_MAX=SCORE_MAX,
    )
    env.filters.update(
        when=vocabulary.when,
        day=vocabulary.day,
        band=vocabulary.band_name,
        words=vocabulary.words,
        plain=vocabulary.plain,
        time_tag=vocabulary.time_tag,
        money=_money,
        product=_product,
        record_kind=vocabulary.record_kind,
        record_summary=vocabulary.record_summary,
        source_name=lambda s: vocabulary.SOURCE_NAMES.get(str(s), vocabulary.words(s)),
        dimension_name=lambda d: vocabulary.DIMENSIONS.get(str(d), vocabulary.words(d)),
        pct=lambda v, digits=0: "–" if v is None else f"{float(v) * 100:.{digits}f} %",
        num=lambda v, digits=3: "–" if v is None else f"{float(v):.{digits}f}",
        signed=lambda v: f"{int(v):+d}" if v else "±0",
    )
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)


def _catalogue_words(request: Request) -> dict[str, Any]:
    """The product names and the currency of the catalogue in service, for every page
    (a decision says "Deposit-free bike, €50", not "bike, 50")."""
    state = getattr(request.app.state, "openscore", None)
    catalogue = getattr(state, "catalogue", None)
    if catalogue is None:
        return {"product_names": {}, "currency": None}
    return {
        "product_names": {p.id: p.name for p in catalogue.products},
        "currency": catalogue.currency,
    }


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` as a page for ``request``: who is signed in (subject or
    operator), the current path and the anonymous form token come along."""
    values: dict[str, Any] = {
        "request": request,
        "path": request.url.path,
        "subject": getattr(request.state, "web_subject", None),
        "operator": getattr(request.state, "web_operator", None),
        "form_token": getattr(request.state, "web_form_token", None),
        "notice": None,
        "errors": {},
        **_catalogue_words(request),
    }
    values.update(context)
    response = HTMLResponse(
        render_html(template, values),
        status_code=status,
        headers={**PAGE_HEADERS, **(headers or {})},
    )
    new_token = getattr(request.state, "web_new_form_token", None)
    if new_token is not None:
        from openscore.web.auth import set_form_token

        set_form_token(request, response, new_token)
    return response
