"""``openscore audit``: check the tamper-evident audit log and prove entries are in it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from openscore.cli.app import app, console
from openscore.errors import IntegrityError

audit_app = typer.Typer(
    name="audit",
    help="The tamper-evident audit log (RFC 6962 Merkle tree).",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify_command() -> None:
    """Recompute the whole log; exit non-zero naming the first bad entry if it does not verify."""
    from openscore.registry import audit, engine_from_settings, ensure_current, read_only

    engine = read_only(engine_from_settings())
    try:
        ensure_current(engine)
        with engine.connect() as conn:
            result = audit.verify(conn)
    finally:
        engine.dispose()
    if not result.ok:
        raise IntegrityError(result.problem or "the audit log does not verify")
    console.print(
        f"[bold green]audit log verifies[/]: {result.tree_size} entries, "
        f"root {result.root.hex()}, {result.heads_checked} signed tree heads checked, "
        f"MACs {'checked' if result.macs_checked else 'not checked (no key)'}",
        highlight=False,
        soft_wrap=True,
    )


@audit_app.command("proof")
def proof_command(
    entry_seq: Annotated[int, typer.Argument(help="The entry's sequence number (from 0).")],
    size: Annotated[
        int | None,
        typer.Option("--size", help="Prove against the tree of this many entries (default: all)."),
    ] = None,
) -> None:
    """Print the inclusion proof (audit path) of one entry as JSON, checked before printing."""
    from openscore.config import get_settings
    from openscore.registry import audit, derive_audit_key, engine_from_settings, ensure_current

    engine = engine_from_settings()
    try:
        ensure_current(engine)
        with engine.connect() as conn:
            proof = audit.inclusion_proof(conn, entry_seq, size=size)
    finally:
        engine.dispose()
    verified = proof.verify(derive_audit_key(get_settings().secret_key))
    if not verified:
        raise IntegrityError(f"the proof of audit entry {entry_seq} does not verify: run verify")
    typer.echo(json.dumps({**proof.to_json(), "verified": verified}, indent=2))
