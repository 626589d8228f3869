"""Durable file operations: write, fsync, rename. What makes a commit survive a crash."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from openscore.errors import StorageError
from openscore.fsio import atomic_write, fsync_dir, fsync_file, publish

__all__ = [
    "REFUSALS",
    "atomic_write_bytes",
    "fsync_dir",
    "fsync_file",
    "out_of_space",
    "publish_file",
    "sha256_file",
    "storage_error",
    "storage_guard",
]

#: what a disk says when it refuses a write (full, over quota, read-only, failing)
REFUSALS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, whole
    (:func:`openscore.fsio.atomic_write`); the disk's refusal is a StorageError."""
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise storage_error(exc, path) from exc


def publish_file(tmp: Path, final: Path) -> None:
    """fsync a finished temporary file and rename it into place."""
    try:
        publish(tmp, final)
    except OSError as exc:
        raise storage_error(exc, final) from exc


def sha256_file(path: Path, chunk: int = 4 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def out_of_space(exc: BaseException) -> bool:
    """Whether an error is the disk being full (an ``OSError``, or DuckDB's own I/O error
    that carries only the system's words)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


@contextmanager
def storage_guard(path: Path) -> Iterator[None]:
    """Turn the disk's refusal of a write under ``path`` (an ``OSError`` such as ENOSPC,
    or DuckDB's ``IOException`` while it writes or spills) into one clear
    :class:`StorageError`; other errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno in REFUSALS:
            raise storage_error(exc, path) from exc
        raise
    except duckdb.IOException as exc:
        if out_of_space(exc):
            raise storage_error(OSError(errno.ENOSPC, "No space left on device"), path) from exc
        raise StorageError(f"writing {path} failed: {exc}") from exc


def storage_error(exc: OSError, path: Path) -> StorageError:
    """A clear message for an OS error while writing ``path``."""
    if exc.errno == errno.ENOSPC:
        return StorageError(
            f"no space left on the device holding {path.parent}; nothing was "
            "committed, the ledger is as it was — free space and run again"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"cannot write {path}: {exc.strerror}")
    return StorageError(f"writing {path} failed: {exc.strerror or exc}")
