"""``openscore audit``: check the tamper-evident audit log and prove entries are in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from openscore.cli.app import app, console
from openscore.errors import InputError, IntegrityError

audit_app = typer.Typer(
    name="audit",
    help="The tamper-evident audit log (RFC 6962 Merkle tree).",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify_command() -> None:
    """Recompute the whole log; exit non-zero naming the first bad entry if it does not verify."""
    from openscore.registry import (
        audit,
        engine_from_settings,
        ensure_current,
        read_only,
        sequencer,
    )

    engine = read_only(engine_from_settings())
    try:
        ensure_current(engine)
        with engine.connect() as conn:
            result = audit.verify(conn)
            queued = sequencer.queue_state(conn)
    finally:
        engine.dispose()
    if not result.ok:
        raise IntegrityError(result.problem or "the audit log does not verify")
    console.print(
        f"[bold green]audit log verifies[/]: {result.tree_size} entries, "
        f"root {result.root.hex()}, {result.heads_checked} signed tree heads checked, "
        f"MACs {'checked' if result.macs_checked else 'not checked (no key)'}"
        + (
            f"; {queued.queued} queued entries not yet integrated "
            f"(oldest {queued.lag_seconds():.1f} s)"
            if queued.queued
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )


@audit_app.command("verify-receipt")
def verify_receipt_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="A receipt as a decision returned it (one JSON object, a list of them, or "
            "a decision answer with `receipts`).",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Check receipts against the log: exit 0 if every one is integrated and its inclusion
    proof verifies, 3 if one is genuine but not yet integrated, 1 if one does not match."""
    from openscore.registry import engine_from_settings, ensure_current, read_only, sequencer

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if isinstance(raw, dict) and "receipts" in raw:
        raw = raw["receipts"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise InputError(f"{path}: holds no receipt")
    receipts = []
    for index, item in enumerate(items):
        try:
            receipts.append(sequencer.Receipt.from_json(item))
        except InputError as exc:
            where = f"receipt {index}" if len(items) > 1 else "the receipt"
            raise InputError(f"{path}: {where}: {exc.field}: {exc}") from None
    engine = read_only(engine_from_settings())
    try:
        ensure_current(engine)
        with engine.connect() as conn:
            checks = [sequencer.check_receipt(conn, r) for r in receipts]
    finally:
        engine.dispose()
    for check in checks:
        colour = {"integrated": "green", "queued": "yellow"}.get(check.status, "red")
        console.print(f"[bold {colour}]{check.status}[/]: {check.message}", highlight=False)
    if any(c.status == "mismatch" for c in checks):
        raise typer.Exit(1)
    if any(c.status == "queued" for c in checks):
        raise typer.Exit(3)


@audit_app.command("sequence")
def sequence_command(
    batch: Annotated[
        int, typer.Option("--batch", help="Entries integrated per transaction.", min=1)
    ] = 2000,
) -> None:
    """Integrate every queued entry into the tree now, then exit (the server and `openscore
    worker` do this on their own; this is for an operator after fixing what halted the
    sequencer). Safe beside a running sequencer: batches serialise on the log's lock."""
    from openscore.registry import engine_from_settings, ensure_current, sequencer

    engine = engine_from_settings()
    total = 0
    try:
        ensure_current(engine)
        while True:
            with engine.begin() as conn:
                step = sequencer.integrate(conn, limit=batch)
            total += step.integrated
            if not step.still_queued:
                break
    finally:
        engine.dispose()
    console.print(f"integrated {total} entries; tree size {step.tree_size}", highlight=False)
