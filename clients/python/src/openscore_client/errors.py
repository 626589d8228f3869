"""The client's exceptions: one class per kind of error answer.

OpenscoreError                  any error answer (status, error, message, field, request_id)
├── AuthenticationError         401: no, wrong, expired or revoked credentials
├── PermissionDenied            403: wrong role, CSRF
│   └── ConsentRefused          403 "no_consent": grant revoked/expired, file locked
├── NotFound                    404 (also someone else's object)
├── Conflict                    409
├── PayloadTooLarge             413
├── InvalidInput                422: ``field`` names what was wrong
├── RateLimited                 429: ``retry_after`` seconds
├── Unavailable                 503: ``retry_after`` seconds
└── ServerError                 500 and anything else
"""

from __future__ import annotations

from typing import Any


class OpenscoreError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        error: str | None = None,
        field: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status} {error or ''}: {message}".strip())
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body


class AuthenticationError(OpenscoreError):
    pass


class PermissionDenied(OpenscoreError):
    pass


class ConsentRefused(PermissionDenied):
    pass


class NotFound(OpenscoreError):
    pass


class Conflict(OpenscoreError):
    pass


class PayloadTooLarge(OpenscoreError):
    pass


class InvalidInput(OpenscoreError):
    pass


class RateLimited(OpenscoreError):
    pass


class Unavailable(OpenscoreError):
    pass


class ServerError(OpenscoreError):
    pass


_BY_STATUS: dict[int, type[OpenscoreError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: RateLimited,
    503: Unavailable,
}


def error_for(status: int, body: Any, headers: Any) -> OpenscoreError:
    """The exception for an error answer (its ``ErrorPublic`` body when it has one)."""
    body = body if isinstance(body, dict) else {}
    kind = _BY_STATUS.get(status, ServerError)
    if status == 403 and body.get("error") == "no_consent":
        kind = ConsentRefused
    retry = headers.get("Retry-After") if headers is not None else None
    try:
        retry_after = float(retry) if retry is not None else None
    except ValueError:
        retry_after = None
    return kind(
        status,
        str(body.get("message") or f"HTTP {status}"),
        error=body.get("error"),
        field=body.get("field"),
        request_id=body.get("request_id"),
        retry_after=retry_after,
        body=body,
    )
