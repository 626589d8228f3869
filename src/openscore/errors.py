"""The one exception tree of openscore.

    OpenscoreError
    ├── InputError        bad input: carries where (file, line, field) and what was wrong
    │   └── SchemaVersionError  a file written for another schema version, or tampered
    ├── ConsentError      the person has not consented (or the file is locked)
    ├── NotFound          an unknown person, partner, grant, record ...
    ├── Conflict          a duplicate or contradicting submission
    ├── IntegrityError    stored data fails a check (checksum, manifest, audit chain)
    ├── StorageError      the disk or a server refused (full disk, unreachable database)
    ├── EngineError       a compute engine is missing or does not answer (Java, Spark)
    ├── AuthError         the caller is not authenticated (no, forged, expired or revoked
    │                     credentials; a wrong password)
    ├── Forbidden         authenticated, but not allowed (wrong role, CSRF, a wrong password
    │                     where the caller confirms an act)
    ├── NotReady          the service cannot answer yet (no scoring model in service)
    └── RateLimited       too many attempts: carries when to retry

The API maps each class to one HTTP status in one place (``api/errors.py``); the CLI
prints the message and exits non-zero.
"""

from __future__ import annotations


class OpenscoreError(Exception):
    """Base of every error openscore raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class InputError(OpenscoreError):
    """Input that cannot be used; says where and what."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field {field!r}")
        full = f"{': '.join([', '.join(where), message])}" if where else message
        super().__init__(full)
        self.reason = message
        self.path = path
        self.line = line
        self.field = field


class SchemaVersionError(InputError):
    """A file of another schema version, or whose checksum does not match."""


class ConsentError(OpenscoreError):
    """The person has not allowed this (or has locked their file)."""

    exit_code = 3


class NotFound(OpenscoreError):
    """Something named does not exist (or is not visible to the caller)."""

    exit_code = 4


class Conflict(OpenscoreError):
    """A submission contradicts what is already stored."""

    exit_code = 5


class IntegrityError(OpenscoreError):
    """Stored data fails a check."""

    exit_code = 6


class StorageError(OpenscoreError):
    """The storage below refused: full disk, unreachable database, permissions."""

    exit_code = 7


class EngineError(OpenscoreError):
    """A compute engine is missing or does not answer."""

    exit_code = 8


class AuthError(OpenscoreError):
    """Who is asking is unknown: missing, forged, expired or revoked credentials.

    The message never says which, so that a guess learns nothing."""

    exit_code = 9


class RateLimited(OpenscoreError):
    """Too many attempts in a window; ``retry_after`` says when trying again may work."""

    exit_code = 10

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Forbidden(OpenscoreError):
    """Authenticated, but not allowed: the wrong role, or a request without its CSRF token."""

    exit_code = 3


class NotReady(OpenscoreError):
    """The service cannot answer yet: no scoring model is in service."""

    exit_code = 8
