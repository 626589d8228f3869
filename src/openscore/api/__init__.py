"""The HTTP API (FastAPI): subjects, partners and operators, under ``/v1``.

``create_api(settings)`` builds the JSON API; :func:`openscore.server.create_app` adds
the web pages, and ``openscore serve`` runs that under uvicorn.
``docs/api.md`` describes every route, the error model and the limits.
"""

from __future__ import annotations

from openscore.api.app import create_api
from openscore.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_api"]
