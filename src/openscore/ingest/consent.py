"""The consent gate: which (person, source) pairs may be stored; and who was erased.

Ingestion asks the gate once per batch with the distinct pairs it is about to store; the
gate answers with one boolean per pair, and a row whose pair is not allowed is rejected
("the person has not consented to this source"). There is no default: a caller names its
gate. The registry's gate (``online.registry_consent_gate``) answers from the people's
current consents. :func:`no_consent_check` lets everything through and exists only for
public datasets (the converted Taiwan data), behind the CLI's explicit, logged
``--no-consent-check``; :func:`no_registry` is the gate when there is no registry yet:
nobody has consented to anything, so only public records (held on a legal basis) pass.

The suppression check is separate: it names the person ids that were erased
(``registry/suppression.py``), whose events are refused whatever the consent gate says.
"""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from openscore.domain.sources import Source


class ConsentGate(Protocol):
    def __call__(self, pairs: pa.Table) -> pa.ChunkedArray | pa.Array | None:
        """``pairs`` has columns person_id, source; return a boolean per row (None: all)."""


class SuppressionCheck(Protocol):
    def __call__(self, person_ids: list[str]) -> set[str]:
        """The ids among ``person_ids`` that belong to erased people."""


def no_consent_check(pairs: pa.Table) -> None:
    """Everything is allowed: only for public datasets, never for personal data."""
    return None


def no_registry(pairs: pa.Table) -> pa.Array:
    """No registry, so no consent on record: only public records pass."""
    return pc.equal(pairs.column("source"), Source.PUBLIC_RECORDS.value)
