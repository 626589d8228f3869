"""The HTTP API (FastAPI): subjects, partners and operators, under ``/v1``.

``create_app(settings)`` builds the app; ``openscore serve`` runs it under uvicorn.
``docs/api.md`` describes every route, the error model and the limits.
"""

from __future__ import annotations

from openscore.api.app import create_app
from openscore.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
