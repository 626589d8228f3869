"""Recovering from a damaged segment: restore it from a copy, or drop it on the record.

``verify`` names a segment whose file is missing or differs from the checksum recorded
when it was written. Segments are immutable and named by a random id, so any copy of
the file with the same SHA-256 — in a backup (``openscore backup``), on another
machine — *is* the segment: :func:`repair` looks for one in the directories it is given
and puts it back (written beside, fsynced, renamed into place).

When no copy exists, the rows are lost. ``drop_lost=True`` then commits a manifest
without the segment and keeps a record of what went in ``manifest.removals``
(``kind: "lost_segment"``: the file, its rows, checksum, person range and the ingest
batch and input files it came from, so that a furnisher's batch can be sent again —
ingestion is idempotent, so re-sending a whole batch adds only what is missing). A
damaged file is never partly salvaged: bytes that changed once cannot be trusted to
hold the values that were written. The damaged file itself is kept aside in
``ledger/damaged/`` for inspection.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openscore.errors import IntegrityError
from openscore.fsio import atomic_path
from openscore.ledger.durable import sha256_file, storage_error
from openscore.ledger.manifest import Segment, now_iso
from openscore.ledger.store import Ledger
from openscore.ledger.verify import check_segment

#: where damaged segment files are kept after a repair (never read by anything)
DAMAGED_DIR = "damaged"


@dataclass(slots=True)
class RepairReport:
    #: segment files put back from a copy with the recorded checksum
    restored: list[str] = field(default_factory=list)
    #: segments dropped from the manifest, as recorded in ``manifest.removals``
    dropped: list[dict[str, Any]] = field(default_factory=list)
    #: problems left: no copy found and ``drop_lost`` not given
    unresolved: list[str] = field(default_factory=list)
    leftovers_removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.unresolved


def find_copy(seg: Segment, copies: Iterable[Path]) -> Path | None:
    """A file with the segment's checksum in one of ``copies`` (a backup or ledger
    directory: ``ledger/segments/NAME``, ``segments/NAME`` or ``NAME`` inside it)."""
    name = Path(seg.file).name
    for base in copies:
        base = Path(base)
        for candidate in (base / "ledger" / seg.file, base / seg.file, base / name):
            if candidate.is_file() and sha256_file(candidate) == seg.sha256:
                return candidate
    return None


def repair(ledger: Ledger, *, copies: Iterable[Path] = (), drop_lost: bool = False) -> RepairReport:
    """Put back every damaged segment from ``copies``; drop the rest if ``drop_lost``."""
    copies = list(copies)
    report = RepairReport()
    with ledger.writing() as txn:
        report.leftovers_removed = len(txn.removed_leftovers)
        lost: list[tuple[Segment, str]] = []
        for seg in list(txn.manifest.segments):
            problem = check_segment(ledger, seg)
            if problem is None:
                continue
            source = find_copy(seg, copies)
            if source is not None:
                _put_back(ledger, seg, source)
                report.restored.append(seg.file)
            elif drop_lost:
                lost.append((seg, problem))
            else:
                report.unresolved.append(problem)
        if lost:
            batches = {b.batch_id: b for b in txn.manifest.batches}
            for seg, problem in lost:
                batch = batches.get(seg.batch_id) if seg.batch_id else None
                record = {
                    "kind": "lost_segment",
                    "file": seg.file,
                    "problem": problem,
                    "rows": seg.rows,
                    "sha256": seg.sha256,
                    "min_person": seg.min_person,
                    "max_person": seg.max_person,
                    "batch_id": seg.batch_id,
                    "furnisher_id": batch.furnisher_id if batch else None,
                    "input_files": list(batch.files) if batch else [],
                }
                if (ledger.root / seg.file).exists():
                    _set_aside(ledger, ledger.root / seg.file)
                txn.drop_segment(seg)
                txn.manifest.removals.append({"at": now_iso(), **record})
                report.dropped.append(record)
            txn.commit()
    return report


def _put_back(ledger: Ledger, seg: Segment, source: Path) -> None:
    final = ledger.root / seg.file
    try:
        with atomic_path(final) as tmp:
            shutil.copyfile(source, tmp)
            if sha256_file(tmp) != seg.sha256:  # the copy changed on the way: leave it be
                raise IntegrityError(f"copying {source} to {final} changed its bytes")
            if final.exists():
                _set_aside(ledger, final)
    except OSError as exc:
        raise storage_error(exc, final) from exc


def _set_aside(ledger: Ledger, path: Path) -> None:
    """Keep a damaged file for inspection in ``ledger/damaged/`` (out of the segments)."""
    damaged = ledger.root / DAMAGED_DIR
    damaged.mkdir(exist_ok=True)
    os.replace(path, damaged / f"{path.name}.{now_iso().replace(':', '')}")
