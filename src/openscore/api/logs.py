"""Logging for the service, with secrets scrubbed as a last line of defence.

The API never logs headers, query strings or bodies (``middleware``), so no credential
should reach a log line in the first place; :class:`RedactSecrets` makes sure that one
that slips into an exception message anyway (an API key, a session cookie, a password
field) is replaced before any handler writes it.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # API keys (registry.partners.KEY_PREFIX) wherever they appear
    (re.compile(r"osk_[A-Za-z0-9_\-]{8,}"), "osk_[REDACTED]"),
    # Authorization headers of any scheme
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(\w+\s+)?[^\s\"',;]+"), r"\1[REDACTED]"),
    # cookies (session and CSRF) and any key=value that names a secret
    (
        re.compile(
            r"(?i)((?:openscore_session|openscore_csrf|password|passwd|secret|csrf_token|"
            r"x-csrf-token|enrolment_code|cookie)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1[REDACTED]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrite a record's message (and its formatted exception) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


#: The id of the request being handled (set by ``RequestContextMiddleware``; the sync
#: handlers' threads inherit it), so every line logged while handling it carries it.
REQUEST_ID: ContextVar[str | None] = ContextVar("openscore_request_id", default=None)

#: Fields the access log line passes as ``extra`` and JSON lines carry as their own keys.
ACCESS_FIELDS = ("method", "route", "status", "ms")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the access
    line's method, route, status, ms; the exception, redacted, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = redact(record.exc_text)
        return json.dumps(out, default=str)


def configure_logging(level: str = "info", *, json_lines: bool = False) -> dict:
    """The logging config for ``openscore serve`` (uvicorn's ``log_config``): one stream
    handler on stderr, every record passing through :class:`RedactSecrets` and carrying
    the request id; ``json_lines``: :class:`JsonLines` instead of plain text."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": RedactSecrets},
            "request_id": {"()": RequestIdFilter},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": JsonLines},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                # a name, not the object: uvicorn pickles the config for its workers
                "stream": "ext://sys.stderr",
                "formatter": "json" if json_lines else "plain",
                "filters": ["redact", "request_id"],
            }
        },
        "loggers": {
            "openscore": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
