"""What a service needs from the running app, as a protocol (``AppState`` is one).

A protocol rather than the ``AppState`` class so that services sit below the HTTP
layers: the app factory builds the state; services only use these members of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from openscore.config import Settings
from openscore.decisions import Catalogue, PublicRecord
from openscore.ledger import Ledger


class PublicRecords(Protocol):
    """The live public records of a person (``api.records.PublicRecordIndex``)."""

    def live_for(
        self, person_id: str, excluded: Iterable[str] = ()
    ) -> tuple[PublicRecord, ...]: ...


class Context(Protocol):
    settings: Settings
    #: the registry engine (writes); ``reader`` is its read-only twin
    engine: Engine
    reader: Engine
    catalogue: Catalogue
    ledger: Ledger

    @property
    def public_records(self) -> PublicRecords:
        """The live public records (read-only here, so any index of them fits)."""
        ...

    #: operator publication jobs of this process, by id
    jobs: dict[str, dict[str, Any]]

    def read(self) -> AbstractContextManager[Connection]:
        """One read-only transaction."""
        ...

    def write(self) -> AbstractContextManager[Connection]:
        """One write transaction (commit on success, roll back on error)."""
        ...


class LoginGuard(Protocol):
    """Counts failed passwords per login and per address (``api.ratelimit.LoginLimiter``)."""

    def check(self, login: str, address: str) -> None: ...

    def failed(self, login: str, address: str) -> None: ...

    def succeeded(self, login: str) -> None: ...


class AttemptGuard(Protocol):
    """Counts attempts per key in a window (``api.ratelimit.AttemptLimiter``)."""

    def attempt(self, key: str, what: str) -> None: ...


class Enrolment(Protocol):
    """Signed enrolment codes (``api.sessions.EnrolmentCodes``)."""

    def person_of(self, code: str) -> str | None: ...

    def issue(self, person_id: str) -> tuple[str, datetime]: ...
