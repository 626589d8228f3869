"""Logging for the service, with secrets scrubbed as a last line of defence.

The API never logs headers, query strings or bodies (``middleware``), so no credential
should reach a log line in the first place; :class:`RedactSecrets` makes sure that one
that slips into an exception message anyway (an API key, a session cookie, a password
field) is replaced before any handler writes it.
"""

from __future__ import annotations

import logging
import re

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


def configure_logging(level: str = "info") -> dict:
    """The logging config for ``openscore serve`` (uvicorn's ``log_config``): one stream
    handler on stderr, every record passing through :class:`RedactSecrets`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                # a name, not the object: uvicorn pickles the config for its workers
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["redact"],
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
