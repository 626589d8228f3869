"""The app factory above both HTTP layers: the JSON API (:mod:`openscore.api`) and the
portal and console pages (:mod:`openscore.web`) on one FastAPI app.

``openscore serve`` runs ``create_app`` under uvicorn. Neither ``api`` nor ``web`` imports
the other's routes; both call :mod:`openscore.services` (``docs/architecture.md``).
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from openscore.api import ApiSettings, create_api
from openscore.config import Settings
from openscore.web import install


def create_app(
    settings: Settings | None = None,
    api_settings: ApiSettings | None = None,
    *,
    engine: Engine | None = None,
) -> FastAPI:
    """The openscore app for ``settings`` (default: from the environment).

    ``engine``: a registry engine to use instead of one made from the settings (it must
    carry the audit key: ``create_registry_engine(url, secret_key=...)``).
    """
    app = create_api(settings, api_settings, engine=engine)
    # the portal and console: after the API's error handlers, so that pages get HTML
    # error pages
    install(app)
    return app


__all__ = ["ApiSettings", "create_app"]
