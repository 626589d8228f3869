"""``openscore backup DIR`` and ``openscore restore DIR``: the whole installation, while
it runs; a restore goes into an empty data directory and registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from openscore.cli.app import app, console


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) directory for the backup.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Back up ledger, registry, models and reports into DIR, consistent while serving.

    Also the graph snapshot and ingest runs; every file is checksummed in backup.json."""
    from openscore.backup import take_backup

    with console.status(f"backing up into {dest}"):
        result = take_backup(dest)
    c = result.catalog
    if as_json:
        print(
            json.dumps(
                {
                    "path": str(result.path),
                    "seconds": round(result.seconds, 3),
                    "files": len(c.files),
                    "bytes": sum(f.bytes for f in c.files.values()),
                    "ledger_rows": c.ledger_rows,
                    "ledger_segments": c.ledger_segments,
                    "registry": c.registry_format,
                    "audit_size": c.audit_size,
                }
            )
        )
        return
    console.print(
        f"backup in {result.path}: ledger v{c.ledger_manifest_version} "
        f"({c.ledger_segments} segments, {c.ledger_rows:,} rows), registry ({c.registry_backend}, "
        f"{c.audit_size:,} audit entries), {len(c.files)} files checksummed, "
        f"{result.seconds:.1f} s",
        highlight=False,
    )


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="A directory made by openscore backup.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Only check the backup's checksums.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Restore a backup into an empty data directory and registry, then verify it.

    The audit log is verified and the ledger checked against its manifest."""
    from openscore.backup import check_backup, restore_backup

    if check_only:
        catalog = check_backup(src)
        console.print(f"backup ok: {len(catalog.files)} files match their checksums")
        return
    with console.status(f"restoring {src}"):
        result = restore_backup(src)
    if as_json:
        print(
            json.dumps(
                {
                    "seconds": round(result.seconds, 3),
                    "registry_rows": result.registry_rows,
                    "audit_size": result.audit_size,
                    "ledger_rows": result.ledger_rows,
                    "pending": result.pending,
                }
            )
        )
        return
    console.print(
        f"restored: {sum(result.registry_rows.values()):,} registry rows, audit log verifies "
        f"({result.audit_size:,} entries), ledger verifies ({result.ledger_rows:,} rows)",
        highlight=False,
    )
    if result.pending:
        console.print(
            f"{result.pending} erasure(s)/revocation(s) were in progress at backup time: "
            "the service finishes them when it starts (or: openscore ledger verify --repair)"
        )
