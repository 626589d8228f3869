"""HTML forms: reading fields, turning validation errors into messages beside the fields,
and making submissions that create something happen once.

Forms are validated by the API's own request models (``GrantCreate``, ``DisputeCreate``
...), so a page and the API accept exactly the same input; a refusal names the field and
the page shows the message next to it, with what was typed still in the form.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from starlette.datastructures import FormData

from openscore.api.errors import field_name

#: Longest value read from any one field (the API's own limits are lower still).
MAX_FIELD_CHARS = 20_000


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def raw(form: FormData, name: str) -> str:
    """A field as typed (passwords: no stripping)."""
    value = form.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def many(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


_FRIENDLY = {
    "String should match pattern": "has characters that are not allowed here",
    "Field required": "is required",
    "List should have at least 1 item after validation, not 0": "choose at least one",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{field: message}`` for a model's validation error (first message per field)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = field_name(err.get("loc", ())).split("[")[0].split(".")[0]
        message = str(err.get("msg", "is not valid"))
        for prefix, friendly in _FRIENDLY.items():
            if message.startswith(prefix):
                message = friendly
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        out.setdefault(name, message)
    return out


@dataclass
class _Entry:
    done: threading.Event = field(default_factory=threading.Event)
    result: str | None = None


class OnceTokens:
    """Each creating form carries a random ``once`` token. The first submission with a
    token runs; a second one (a double click, a reload that re-posts, a retry after a
    slow answer) waits for the first and gets its result instead of creating again."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    @staticmethod
    def new() -> str:
        return secrets.token_urlsafe(16)

    def run(self, owner: str, token: str, action: Callable[[], str]) -> tuple[str | None, bool]:
        """``(result, replayed)``: ``action()``'s result, run at most once per owner and
        token. A replay whose first run failed gets ``None``."""
        if not token or len(token) > 64:
            return action(), False
        key = (owner, token)
        with self._lock:
            entry = self._entries.get(key)
            first = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry()
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        if not first:
            entry.done.wait(timeout=60)
            return entry.result, True
        try:
            entry.result = action()
        except BaseException:
            with self._lock:
                self._entries.pop(key, None)  # it did not happen: it may be tried again
            raise
        finally:
            entry.done.set()
        return entry.result, False
