"""The consent gate: which (person, source) pairs may be stored.

Ingestion asks the gate once per batch with the distinct pairs it is about to store; the
gate answers with one boolean per pair. Until the registry is wired in, every pair is
allowed; the registry's gate answers from the people's current consents.
"""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa


class ConsentGate(Protocol):
    def __call__(self, pairs: pa.Table) -> pa.ChunkedArray | pa.Array | None:
        """``pairs`` has columns person_id, source; return a boolean per row (None: all)."""


def allow_all(pairs: pa.Table) -> None:
    """The default gate: everything is allowed (there is no registry yet)."""
    return None
