"""Where reports live: ``DATA_DIR/reports/<kind>/<timestamp>/`` and a ``latest`` pointer.

A report is written into a hidden directory beside its final name and renamed when every
file is in it; only then does ``latest`` (a small text file naming the directory, replaced
atomically) move to it. A reader — the operator console, the public map page — therefore
sees the previous report or the new one, whole, never a half-written one. Shared by the
fairness audit and the city map (``openscore.privacy``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from openscore.config import Settings, get_settings
from openscore.errors import InputError
from openscore.ledger.durable import atomic_write_bytes, fsync_dir

LATEST = "latest"
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_NAME = re.compile(r"^\d{8}T\d{6}Z(-[0-9a-f]{4})?$")

OUT_NOT_EMPTY = "the output directory {path} exists and is not empty"
REPORT_GONE = (
    "the {kind} report was written, but its 'latest' pointer no longer names a report: "
    "another process removed or replaced it meanwhile; run again"
)


def reports_root(kind: str, settings: Settings | None = None) -> Path:
    """``DATA_DIR/reports/<kind>``."""
    if not _KIND.match(kind):
        raise ValueError(f"bad report kind {kind!r}")
    settings = settings or get_settings()
    return settings.data_dir / "reports" / kind


def report_name(now: datetime | None = None) -> str:
    """A sortable, unique-enough directory name: UTC timestamp and 16 random bits."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


@contextmanager
def writing_report(
    kind: str,
    *,
    out: Path | None = None,
    name: str | None = None,
    settings: Settings | None = None,
) -> Iterator[Path]:
    """Yield an empty hidden directory to write a report into; on success rename it to
    its final place (``out``, or a new timestamped directory under the kind's root, which
    then becomes ``latest``). On failure nothing is left behind."""
    if out is not None:
        final = Path(out)
        if final.exists() and (not final.is_dir() or any(final.iterdir())):
            raise InputError(OUT_NOT_EMPTY.format(path=final), path=str(final))
        root = final.parent
    else:
        root = reports_root(kind, settings)
        final = root / (name or report_name())
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if final.exists():
            final.rmdir()  # the empty --out directory
        os.replace(staging, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out is None:
        atomic_write_bytes(root / LATEST, (final.name + "\n").encode())


def latest_report_dir(kind: str, settings: Settings | None = None) -> Path | None:
    """The directory ``latest`` names, or None when there is no report yet."""
    root = reports_root(kind, settings)
    pointer = root / LATEST
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    if not _NAME.match(name):  # never follow a pointer out of the reports directory
        return None
    target = root / name
    return target if target.is_dir() else None


def list_report_dirs(kind: str, settings: Settings | None = None) -> list[Path]:
    """Every finished report of a kind, newest first."""
    root = reports_root(kind, settings)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)), reverse=True)
