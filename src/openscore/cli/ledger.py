"""``openscore ledger``: stats, compaction, retention expiry, erasure, verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openscore.cli.app import app, console, err_console
from openscore.config import get_settings
from openscore.ledger import Ledger, compact, erase_person, expire, ledger_stats, verify

ledger_app = typer.Typer(help="The event ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Events by source and type, people, segments."""
    s = ledger_stats(Ledger.open())
    if as_json:
        print(json.dumps(s, indent=2))
        return
    table = Table(
        title=f"ledger {s['root']} (manifest v{s['manifest_version']})", show_header=False
    )
    table.add_row("events", f"{s['total']:,}")
    table.add_row("people", f"{s['people']:,}")
    table.add_row("segments", f"{s['segments']:,} ({s['sorted_segments']} compacted)")
    table.add_row("bytes", f"{s['bytes']:,}")
    table.add_row("batches", f"{s['batches']:,}")
    for key in ("by_source", "by_type"):
        for name, n in s[key].items():
            table.add_row(f"  {key[3:]}: {name}", f"{n:,}")
    console.print(table)


@ledger_app.command("compact")
def compact_cmd(
    force: Annotated[bool, typer.Option(help="Rewrite even if compact.")] = False,
) -> None:
    """Rewrite segments sorted by (person, time)."""
    with console.status("compacting the ledger"):
        out = compact(Ledger.open(), force=force)
    console.print(
        f"{out['segments_before']} segments → {out['segments_after']} "
        f"({out['rows']:,} rows rewritten)"
    )


@ledger_app.command("expire")
def expire_cmd(
    retention_years: Annotated[int | None, typer.Option(help="Default: settings.")] = None,
) -> None:
    """Delete negative records older than the retention (public records: their expiry)."""
    years = retention_years or get_settings().retention_years
    with console.status("expiring negative records"):
        n = expire(Ledger.open(), retention_years=years)
    console.print(f"{n:,} expired negative records removed (retention {years} years)")


@ledger_app.command("erase")
def erase_cmd(person_id: str) -> None:
    """Remove every row about a person from every segment."""
    with console.status(f"erasing {person_id}"):
        n = erase_person(Ledger.open(), person_id)
    console.print(f"{n:,} rows removed")


@ledger_app.command("verify")
def verify_cmd(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also look for event ids stored more than once.")
    ] = False,
    repair_: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Put damaged or missing segments back from --from-backup copies, finish "
            "interrupted erasures and revocations, remove leftovers.",
        ),
    ] = False,
    from_backup: Annotated[
        list[Path] | None,
        typer.Option("--from-backup", help="A backup (or ledger) directory to take copies from."),
    ] = None,
    drop_lost: Annotated[
        bool,
        typer.Option(
            "--drop-lost",
            help="With --repair: drop segments no copy exists of, recording what was lost.",
        ),
    ] = False,
) -> None:
    """Check every segment against the checksum recorded when it was written."""
    ledger = Ledger.open()
    repaired: dict = {}
    if repair_:
        repaired = _repair(ledger, from_backup or [], drop_lost)
    report = verify(ledger, deep=deep)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "segments": report.segments,
                    "rows": report.rows,
                    "problems": report.problems,
                    "leftovers": report.leftovers,
                    "pending": report.pending,
                    "duplicate_ids": report.duplicate_ids,
                    **({"repair": repaired} if repair_ else {}),
                },
                indent=2,
            )
        )
    else:
        for problem in report.problems:
            err_console.print(f"[red]bad:[/] {problem}", highlight=False, soft_wrap=True)
        if report.problems and not repair_:
            err_console.print(
                "repair: openscore ledger verify --repair --from-backup DIR (copies with the "
                "recorded checksum), or --repair --drop-lost (drops them, on the record)",
                soft_wrap=True,
            )
        if report.leftovers:
            console.print(
                f"{len(report.leftovers)} leftover file(s) from interrupted writes "
                "(removed by the next write)"
            )
        for pending in report.pending:
            console.print(
                f"unfinished: {pending} (the service finishes it; or --repair)", soft_wrap=True
            )
        if report.ok:
            console.print(f"ledger ok: {report.segments} segments, {report.rows:,} rows verified")
    if not report.ok:
        raise typer.Exit(6)


def _repair(ledger: Ledger, copies: list[Path], drop_lost: bool) -> dict:
    from openscore.ledger import repair
    from openscore.online import recover
    from openscore.registry import engine_from_settings

    outcome = repair(ledger, copies=copies, drop_lost=drop_lost)
    for name in outcome.restored:
        console.print(f"restored {name} from a copy with its recorded checksum", soft_wrap=True)
    for lost in outcome.dropped:
        err_console.print(
            f"[yellow]dropped[/] {lost['file']}: {lost['rows']:,} rows lost"
            + (
                f" (batch {lost['batch_id']} of {lost['furnisher_id']}: re-send "
                + ", ".join(lost["input_files"])
                + ")"
                if lost["batch_id"]
                else f" (people {lost['min_person']} … {lost['max_person']})"
            ),
            highlight=False,
            soft_wrap=True,
        )
    engine = engine_from_settings()
    try:
        finished = recover(engine, min_age_seconds=0)
    finally:
        engine.dispose()
    for line in finished:
        console.print(line, soft_wrap=True)
    return {
        "restored": outcome.restored,
        "dropped": outcome.dropped,
        "unresolved": outcome.unresolved,
        "leftovers_removed": outcome.leftovers_removed,
        "finished": finished,
    }
