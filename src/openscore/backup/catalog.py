"""``backup.json``: what a backup holds, with a SHA-256 for every file in it.

A backup is a directory::

    backup.json                 this catalog (written last: a backup without it is partial)
    ledger/manifest.json        the ledger's manifest as it was committed
    ledger/segments/*.parquet   copies of the segments it names
    registry/registry.sqlite    SQLite: a copy made by VACUUM INTO, or
    registry/<table>.jsonl.gz   PostgreSQL: every table's rows, one JSON array a line
    models/ reports/ graph/ runs/   copies of the data directory's files
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openscore.errors import IntegrityError
from openscore.ledger.durable import atomic_write_bytes, sha256_file

CATALOG = "backup.json"
FORMAT = "openscore.backup.v1"


@dataclass(slots=True)
class FileEntry:
    sha256: str
    bytes: int


@dataclass(slots=True)
class Catalog:
    created_at: str
    openscore_version: str
    source_data_dir: str
    #: ``sqlite-file`` (registry/registry.sqlite) or ``rows`` (registry/<table>.jsonl.gz)
    registry_format: str
    registry_backend: str
    registry_revision: str
    #: HMAC under the audit key of a fixed string: tells a restore whether it runs with
    #: the secret key the audit log's MACs were made with (reveals nothing of the key)
    audit_key_check: str
    audit_size: int
    ledger_manifest_version: int
    ledger_segments: int
    ledger_rows: int
    #: rows per registry table (what a restore must find again)
    registry_rows: dict[str, int] = field(default_factory=dict)
    #: path relative to the backup -> checksum and size
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def load(cls, root: Path) -> Catalog:
        path = Path(root) / CATALOG
        if not path.exists():
            raise IntegrityError(
                f"{root} is not a complete backup: {CATALOG} is missing (a backup writes it "
                "last, so an interrupted one has none)"
            )
        try:
            body: dict[str, Any] = json.loads(path.read_bytes())
            if body.get("format") != FORMAT:
                raise IntegrityError(f"{path}: format {body.get('format')!r}, expected {FORMAT}")
            body["files"] = {k: FileEntry(**v) for k, v in body["files"].items()}
            return cls(**body)
        except (ValueError, TypeError, KeyError) as exc:
            raise IntegrityError(f"{path} is not a valid backup catalog ({exc})") from exc

    def save(self, root: Path) -> None:
        atomic_write_bytes(Path(root) / CATALOG, self.to_json())


def record(catalog: Catalog, root: Path, path: Path) -> FileEntry:
    """Checksum a file written into the backup and list it in the catalog."""
    entry = FileEntry(sha256_file(path), path.stat().st_size)
    catalog.files[str(path.relative_to(root))] = entry
    return entry


def check(root: Path, catalog: Catalog | None = None) -> list[str]:
    """Every file of the backup against its checksum; the problems, named (none: whole)."""
    root = Path(root)
    catalog = catalog or Catalog.load(root)
    problems = []
    for name, entry in sorted(catalog.files.items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing from the backup")
        elif path.stat().st_size != entry.bytes or sha256_file(path) != entry.sha256:
            problems.append(f"{name}: checksum differs from the one recorded at backup")
    return problems
