"""The API's factory: ``create_api(settings) -> FastAPI`` (``openscore.server.create_app``
adds the web pages on top).

Everything is under ``/v1``; the OpenAPI document is at ``/openapi.json`` (no bundled
documentation pages: they load their scripts from a CDN, and nothing here may reference
an outside host). The factory does not migrate the registry — ``openscore serve`` runs
the migrations first — and holds all its state on ``app.state.openscore``, so two apps
in one process (tests) never share anything.

Middleware, outermost first: request context (request id, security headers, the access
log line), metrics (``api/metrics.py``), the overload limit (``api/overload.py``: 503 +
Retry-After beyond capacity), then the body-size limit; errors are answered by
``api/errors.py``. ``GET /metrics`` serves Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version as _package_version
from typing import Any

from fastapi import FastAPI, Response
from fastapi.openapi.utils import get_openapi
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from openscore.api import errors
from openscore.api.metrics import MetricsMiddleware, metrics_response_headers
from openscore.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from openscore.api.overload import OverloadMiddleware
from openscore.api.routes import attestations as public_attestations
from openscore.api.routes import catalogue, health
from openscore.api.routes.operators import audit as operator_audit
from openscore.api.routes.operators import disputes as operator_disputes
from openscore.api.routes.operators import ingestion as operator_ingestion
from openscore.api.routes.operators import partners as operator_partners
from openscore.api.routes.operators import people as operator_people
from openscore.api.routes.operators import publications as operator_publications
from openscore.api.routes.operators import reviews as operator_reviews
from openscore.api.routes.partners import decisions as partner_decisions
from openscore.api.routes.partners import fulfilment as partner_fulfilment
from openscore.api.routes.partners import webhooks as partner_webhooks
from openscore.api.routes.subjects import attestations as subject_attestations
from openscore.api.routes.subjects import consents as subject_consents
from openscore.api.routes.subjects import decisions as subject_decisions
from openscore.api.routes.subjects import disputes as subject_disputes
from openscore.api.routes.subjects import grants as subject_grants
from openscore.api.routes.subjects import inquiries as subject_inquiries
from openscore.api.routes.subjects import me as subject_me
from openscore.api.routes.subjects import notifications as subject_notifications
from openscore.api.routes.subjects import scores as subject_scores
from openscore.api.routes.subjects import session as subject_session
from openscore.api.settings import ApiSettings
from openscore.api.state import AppState
from openscore.config import Settings, get_settings
from openscore.domain.bands import SCORE_MAX, SCORE_MIN
from openscore.online import warm
from openscore.services.schemas import ErrorPublic

log = logging.getLogger("openscore.api")

#: In matching order: a request is tried against each router in turn, so the hot routes
#: come first (the health check, then partners' decisions: matching ten routers first
#: costs more CPU than their decision's SQL reads).
ROUTERS = (
    health.router,
    partner_decisions.router,
    catalogue.router,
    subject_session.router,
    subject_me.router,
    subject_scores.router,
    subject_consents.router,
    subject_grants.router,
    subject_inquiries.router,
    subject_decisions.router,
    subject_disputes.router,
    subject_notifications.router,
    partner_fulfilment.router,
    operator_partners.router,
    operator_people.router,
    operator_publications.router,
    operator_disputes.router,
    operator_reviews.router,
    operator_ingestion.router,
    operator_audit.router,
    subject_attestations.router,
    partner_webhooks.router,
    public_attestations.router,
)

_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}
}
#: Every error status any route may answer, with the one error body (``ErrorPublic``).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "not authenticated"},
    403: {"model": ErrorPublic, "description": "not allowed (role, CSRF, consent, lock)"},
    404: {"model": ErrorPublic, "description": "not found (or someone else's)"},
    409: {"model": ErrorPublic, "description": "conflicts with what is stored"},
    413: {"model": ErrorPublic, "description": "request body too large"},
    422: {"model": ErrorPublic, "description": "invalid input; `field` names it"},
    429: {"model": ErrorPublic, "description": "too many attempts", "headers": _RETRY_AFTER},
    500: {"model": ErrorPublic, "description": "internal error (no detail)"},
    503: {"model": ErrorPublic, "description": "storage unavailable", "headers": _RETRY_AFTER},
}


def create_api(
    settings: Settings | None = None,
    api_settings: ApiSettings | None = None,
    *,
    engine: Engine | None = None,
) -> FastAPI:
    """The openscore API for ``settings`` (default: from the environment), without the
    web pages (:func:`openscore.server.create_app` adds them).

    ``engine``: a registry engine to use instead of one made from the settings (it must
    carry the audit key: ``create_registry_engine(url, secret_key=...)``).
    """
    settings = settings or get_settings()
    api_settings = api_settings or ApiSettings()
    state = AppState.build(settings, api_settings, engine=engine)
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Index the ledger's public records before the first decision needs them.
        await run_in_threadpool(state.public_records.refresh)
        # Compile the online feature SQL in the background (the first rescore would wait).
        threading.Thread(
            target=_warm_online, args=(state,), name="openscore-warm", daemon=True
        ).start()
        recovery = asyncio.create_task(_recover_forever(state))
        background = [recovery]
        if state.api.webhook_interval_seconds > 0:
            from openscore.services.webhooks import deliver_forever, parse_networks

            background.append(
                asyncio.create_task(
                    deliver_forever(
                        state.engine,
                        allow=parse_networks(state.api.webhook_allow_networks),
                        interval=state.api.webhook_interval_seconds,
                        timeout=state.api.webhook_timeout_seconds,
                        write=state.write,
                    )
                )
            )
        if state.api.housekeeping:
            state.housekeeper = state.build_housekeeper()
            state.housekeeper.start()
        try:
            yield
        finally:
            if state.housekeeper is not None:
                await run_in_threadpool(state.housekeeper.stop)
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owns_engine:
                state.engine.dispose()

    app = FastAPI(
        title="openscore",
        version=_package_version("openscore"),
        summary=(
            f"An open, consent-first, explainable personal credit score ({SCORE_MIN}-{SCORE_MAX})."
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.openscore = state
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    errors.install(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        """Prometheus metrics (``api/metrics.py``)."""
        return Response(state.metrics.exposition(state), headers=metrics_response_headers())

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        OverloadMiddleware,
        limit=api_settings.max_concurrent_requests,
        queue_timeout=api_settings.queue_timeout_seconds,
        on_reject=lambda _scope: state.metrics.rejections.labels("overload").inc(),
    )
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(RequestContextMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            _state_page_limits(schema, settings.max_page_size)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _recover_forever(state: AppState) -> None:
    """Finish erasures and revocations that a crash interrupted (``online.recover``), now
    and then: the intent is in the ledger's manifest, so checking costs one small read."""
    from openscore.ledger import pending_operations
    from openscore.online import recover

    while True:
        try:
            if await run_in_threadpool(pending_operations, state.ledger):
                for line in await run_in_threadpool(
                    lambda: recover(
                        state.engine,
                        settings=state.settings,
                        min_age_seconds=state.api.recovery_min_age_seconds,
                    )
                ):
                    log.warning("recovery: %s", line)
        except Exception as exc:
            log.warning("recovery pass failed (%s); will retry", type(exc).__name__)
        await asyncio.sleep(state.api.recovery_interval_seconds)


def _state_page_limits(schema: dict[str, Any], maximum: int) -> None:
    """Write the server's page-size limit into every ``limit`` parameter (it is a setting,
    so it cannot be in the route declarations)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "limit" and parameter.get("in") == "query":
                    target = parameter["schema"]
                    for option in target.get("anyOf", [target]):
                        if option.get("type") == "integer":
                            option["maximum"] = maximum


def _warm_online(state: AppState) -> None:
    try:
        warm(state.settings)
    except Exception:  # a warm-up is an optimisation: the first rescore compiles instead
        logging.getLogger("openscore.api").exception("warming the online feature SQL failed")
