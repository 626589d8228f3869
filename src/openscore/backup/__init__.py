"""Backup and restore of a whole openscore installation, consistent while it runs.

``take_backup(DIR)`` copies the ledger (its manifest and the segments it names, checked
against the checksums recorded at write), the registry (SQLite: ``VACUUM INTO``;
PostgreSQL: every table in one REPEATABLE READ snapshot), the model files, reports, the
graph snapshot and ingest run reports, with a SHA-256 of every file in ``backup.json``.
``restore_backup(DIR)`` puts them back into an empty data directory and registry (either
backend, from either) and verifies the audit log and the ledger. ``check_backup(DIR)``
checks a backup without restoring it. See docs/reliability.md.
"""

from __future__ import annotations

from openscore.backup.catalog import Catalog
from openscore.backup.restore import RestoreResult, check_backup, restore_backup
from openscore.backup.take import BackupResult, take_backup

__all__ = [
    "BackupResult",
    "Catalog",
    "RestoreResult",
    "check_backup",
    "restore_backup",
    "take_backup",
]
