"""A person's records in the ledger, as the API shows and uses them.

Two needs:

* a subject lists their own rows (to see them, and to dispute one by its reference
  ``furnisher_id/event_id``): :func:`own_records`, read straight from the ledger;
* every partner decision needs the person's *live public records* (a court judgment
  declines a room whatever the score). Reading the ledger per decision costs
  milliseconds; :class:`PublicRecordIndex` keeps them in memory instead, built per
  **segment** — segments are immutable files, so an index entry never goes stale: a new
  manifest only adds segments to read (an ingest) or drops some (a purge or erasure
  rewrites files under new names). Checking for a new manifest is one ``stat``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow.parquet as pq

from openscore.decisions import PublicRecord
from openscore.domain.events import EVENT_TYPES, EventType
from openscore.domain.sources import Source
from openscore.ledger import Ledger

_PUBLIC_RECORD_COLUMNS = [
    "person_id",
    "furnisher_id",
    "event_id",
    "record_kind",
    "legal_basis",
    "expires_at",
]
_READ_ATTEMPTS = 3


def record_ref(furnisher_id: str, event_id: str) -> str:
    """How a dispute names a ledger row (what ``online.drop_excluded`` matches)."""
    return f"{furnisher_id}/{event_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One of a person's ledger rows, with only the fields its type uses."""

    record_ref: str
    furnisher_id: str
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    fields: dict[str, Any]


def own_records(ledger: Ledger, person_id: str) -> list[LedgerRecord]:
    """Every row the ledger holds about the person (their own rows, newest first)."""
    rows = ledger.read_person(person_id).to_pylist()
    out = []
    for row in rows:
        spec = EVENT_TYPES[EventType(row["type"])]
        out.append(
            LedgerRecord(
                record_ref=record_ref(row["furnisher_id"], row["event_id"]),
                furnisher_id=row["furnisher_id"],
                event_id=row["event_id"],
                type=row["type"],
                source=row["source"],
                occurred_at=row["occurred_at"],
                fields={c: _plain(row[c]) for c in spec.columns if row.get(c) is not None},
            )
        )
    out.sort(key=lambda r: (r.occurred_at, r.record_ref), reverse=True)
    return out


def ledger_rows(ledger: Ledger, person_id: str) -> list[dict[str, Any]]:
    """The person's raw ledger rows as plain JSON values (for the export)."""
    return [
        {k: _plain(v) for k, v in row.items()} for row in ledger.read_person(person_id).to_pylist()
    ]


@dataclass(frozen=True, slots=True)
class _Record:
    ref: str
    record: PublicRecord


class PublicRecordIndex:
    """Person -> their public records, for decisions (see the module docstring).

    Expiry and disputes are applied by the caller: :func:`openscore.decisions.decide`
    ignores expired records, and :meth:`live_for` drops the references it is given.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self._manifest_key: tuple[int, int, int] | None = None
        self._segments: dict[str, dict[str, tuple[_Record, ...]]] = {}
        self._by_person: dict[str, tuple[_Record, ...]] = {}

    def live_for(self, person_id: str, excluded: Iterable[str] = ()) -> tuple[PublicRecord, ...]:
        """The person's public records, less those whose reference is in ``excluded``."""
        self.refresh()
        records = self._by_person.get(person_id, ())
        skip = frozenset(excluded)
        return tuple(r.record for r in records if r.ref not in skip)

    def refresh(self) -> None:
        """Catch up with the ledger's current manifest (cheap when it has not changed)."""
        key = self._stat()
        if key == self._manifest_key:
            return
        with self._lock:
            if key == self._manifest_key:
                return
            for attempt in range(_READ_ATTEMPTS):
                try:
                    self._load()
                    break
                except FileNotFoundError:  # a segment went away between manifest and read
                    if attempt == _READ_ATTEMPTS - 1:
                        raise
            self._manifest_key = key

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.ledger.manifest_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        manifest = self.ledger.manifest()
        files = {s.file for s in manifest.segments}
        segments = {f: v for f, v in self._segments.items() if f in files}
        for name in sorted(files - segments.keys()):
            segments[name] = self._read_segment(self.ledger.root / name)
        by_person: dict[str, list[_Record]] = {}
        for per_segment in segments.values():
            for person, records in per_segment.items():
                by_person.setdefault(person, []).extend(records)
        self._segments = segments
        self._by_person = {p: tuple(r) for p, r in by_person.items()}

    @staticmethod
    def _read_segment(path: os.PathLike[str]) -> dict[str, tuple[_Record, ...]]:
        table = pq.read_table(
            path,
            columns=_PUBLIC_RECORD_COLUMNS,
            filters=[("source", "=", Source.PUBLIC_RECORDS.value)],
        )
        found: dict[str, list[_Record]] = {}
        for row in table.to_pylist():
            found.setdefault(row["person_id"], []).append(
                _Record(
                    record_ref(row["furnisher_id"], row["event_id"]),
                    PublicRecord(
                        record_kind=row["record_kind"],
                        legal_basis=row["legal_basis"],
                        expires_at=row["expires_at"],
                        record_ref=record_ref(row["furnisher_id"], row["event_id"]),
                    ),
                )
            )
        return {p: tuple(r) for p, r in found.items()}
