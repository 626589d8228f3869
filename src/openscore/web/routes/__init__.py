"""The page routers: public pages, the subject portal, the operator console."""

from __future__ import annotations

from openscore.web.routes import (
    account,
    alerts,
    attest,
    console,
    console_reports,
    control,
    public,
    records,
    score,
    session,
)

ROUTERS = (
    public.router,
    session.router,
    score.router,
    control.router,
    records.router,
    account.router,
    alerts.router,
    attest.router,
    console.router,
    console_reports.router,
)

__all__ = ["ROUTERS"]
