"""Writing a file so that a reader sees the old one or the new one, whole: the one helper.

Every file openscore replaces (models, model cards and their charts, graph snapshots,
scored tables, the ledger's manifest, report pointers, engine outputs) is written to a
temporary name beside it, flushed to disk, and renamed over it; on any failure the
temporary file is removed and the old file is left as it was. The temporary name is
created by whatever writes it (Python, pyarrow, DuckDB, matplotlib), so the file gets the
process's usual permissions.

This module sits below everything else: it imports nothing of openscore.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write", "fsync_dir", "fsync_file", "publish"]


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path, *, durable: bool = True) -> None:
    """Rename a finished temporary file over ``final`` (after an fsync when ``durable``)."""
    if durable:
        fsync_file(tmp)
    os.replace(tmp, final)
    if durable:
        fsync_dir(final.parent)


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, durable: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` for any writer; on success it replaces ``path``.

    ``durable``: fsync the file before the rename and the directory after it, so the new
    file survives a crash once this returns (a rename alone may not)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        publish(tmp, final, durable=durable)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, durable: bool = True) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8); the path."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
