"""Leases for background jobs: at most one holder per job across every process that
shares the registry (servers, ``openscore worker``).

A lease is a row (``job_leases``) with a holder and an expiry. Taking it is one guarded
``UPDATE`` — it succeeds only if the lease is free (expired) or already ours — or, for a
job never run before, an ``INSERT`` that the primary key lets only one process win. On
PostgreSQL a second updater blocks on the row and then re-checks the condition against
the committed row (read committed), so two processes never both see a success; SQLite
serialises writers outright. A holder that dies simply stops renewing: the lease is free
again after its time-to-live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from openscore.registry.metadata import job_leases, utc_now

MAX_RESULT = 2000


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_at: datetime
    last_run_at: datetime | None
    last_ok: bool | None
    last_result: str | None

    def held(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or utc_now())


def acquire(
    conn: Connection, name: str, holder: str, ttl: float, *, now: datetime | None = None
) -> bool:
    """Take or renew lease ``name`` for ``holder`` until now + ``ttl`` seconds; ``False``
    if another holder has it. Commit promptly: the row stays locked until then."""
    now = now or utc_now()
    expires = now + timedelta(seconds=ttl)
    taken = conn.execute(
        job_leases.update()
        .where(
            job_leases.c.name == name,
            sa.or_(job_leases.c.holder == holder, job_leases.c.expires_at <= now),
        )
        .values(holder=holder, expires_at=expires)
    ).rowcount
    if taken == 1:
        return True
    try:
        with conn.begin_nested():
            conn.execute(job_leases.insert().values(name=name, holder=holder, expires_at=expires))
    except sa_exc.IntegrityError:
        return False  # someone else holds it (or just took it)
    return True


def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up now (a clean shutdown), if ``holder`` has it."""
    conn.execute(
        job_leases.update()
        .where(job_leases.c.name == name, job_leases.c.holder == holder)
        .values(expires_at=utc_now())
    )


def record_run(
    conn: Connection,
    name: str,
    holder: str,
    *,
    ok: bool,
    result: str | None,
    now: datetime | None = None,
) -> None:
    """Note how the holder's last run went (shown in the console); ``result=None`` keeps
    the last result shown."""
    values: dict[str, object] = {"last_run_at": now or utc_now(), "last_ok": ok}
    if result is not None:
        values["last_result"] = result[:MAX_RESULT]
    conn.execute(
        job_leases.update()
        .where(job_leases.c.name == name, job_leases.c.holder == holder)
        .values(**values)
    )


def last_run_at(conn: Connection, name: str) -> datetime | None:
    """When job ``name`` last ran (by any holder), if ever."""
    return conn.execute(
        sa.select(job_leases.c.last_run_at).where(job_leases.c.name == name)
    ).scalar_one_or_none()


def list_leases(conn: Connection) -> list[Lease]:
    rows = conn.execute(sa.select(job_leases).order_by(job_leases.c.name))
    return [
        Lease(r.name, r.holder, r.expires_at, r.last_run_at, r.last_ok, r.last_result) for r in rows
    ]
