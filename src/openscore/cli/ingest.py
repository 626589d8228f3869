"""``openscore ingest``: furnisher files into the ledger."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from openscore.cli.app import app, console, err_console
from openscore.config import get_settings
from openscore.ingest import Ingester, no_consent_check, no_registry
from openscore.ledger import Ledger

log = logging.getLogger("openscore.ingest")

NO_CONSENT_CHECK_WARNING = (
    "--no-consent-check: consent is NOT checked in this run (public datasets only); "
    "the run's summary records it"
)


def gates_for_cli(*, check_consent: bool = True):
    """(consent gate, suppression check) for a run from the command line.

    With a registry: its consents, and its list of erased people. Without one nobody has
    consented to anything, so only public records pass, and nobody was erased. There is
    no fall-back to "allow all": ``check_consent=False`` (``--no-consent-check``) is the
    operator's explicit choice, for public datasets, and still refuses erased people.
    """
    settings = get_settings()
    has_registry = (
        settings.registry_url is not None or (settings.data_dir / "registry.sqlite").exists()
    )
    suppressed = None
    gate = no_registry
    if has_registry:
        from openscore.online import registry_consent_gate, registry_suppression_check
        from openscore.registry import engine_from_settings

        engine = engine_from_settings(settings)
        gate = registry_consent_gate(engine)
        suppressed = registry_suppression_check(engine)
    if not check_consent:
        log.warning(NO_CONSENT_CHECK_WARNING)  # stderr, and the service's log if configured
        gate = no_consent_check
    elif not has_registry:
        err_console.print(
            "[yellow]no registry yet: nobody has consented, so only public records can be "
            "stored (use --no-consent-check for a public dataset)[/]"
        )
    return gate, suppressed


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories (CSV, JSONL, Parquet; .gz ok).")
    ],
    furnisher: Annotated[str, typer.Option("--furnisher", help="Who sent the data.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary as JSON.")
    ] = False,
    no_consent_check_: Annotated[
        bool,
        typer.Option(
            "--no-consent-check",
            help="Store events without checking consent: ONLY for public datasets (e.g. "
            "converted Taiwan data). Logged as a warning and recorded in the run's summary; "
            "erased people are still refused.",
        ),
    ] = False,
) -> None:
    """Validate and store events; rejected rows go to a report beside the run.

    Events of people without a consent on record for their source are rejected (without
    a registry, everything but public records)."""
    settings = get_settings()
    gate, suppressed = gates_for_cli(check_consent=not no_consent_check_)
    ingester = Ingester(
        Ledger.open(settings), consent_gate=gate, suppressed=suppressed, settings=settings
    )
    if as_json:
        result = ingester.run(paths, furnisher)
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("reading", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total or None)

            result = ingester.run(paths, furnisher, progress=progress)
        _print_summary(result)
    if result.failed:
        raise typer.Exit(1)


def _print_summary(result) -> None:
    table = Table(title=f"ingest run {result.run_id} ({result.furnisher_id})", show_header=False)
    for label, value in (
        ("files", result.files),
        ("rows read", result.rows_read),
        ("accepted", result.accepted),
        ("already stored (skipped)", result.duplicates),
        ("rejected", result.rejected),
        ("  of which conflicts", result.conflicts),
        ("  of which without consent", result.no_consent),
        ("  of which erased people", result.erased),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    if not result.consent_checked:
        err_console.print("[yellow]consent was not checked in this run (--no-consent-check)[/]")
    for message in result.file_errors:
        err_console.print(f"[red]error:[/] {message}", highlight=False)
    if result.top_reasons:
        console.print("[bold]most common reasons[/]")
        for reason, n in result.top_reasons:
            console.print(f"  {n:>8,}  {reason}", highlight=False)
        console.print("[bold]first rejections[/]")
        for line in result.examples:
            console.print(f"  {line}", highlight=False)
    if result.report_path:
        console.print(f"rejection report: {result.report_path}", highlight=False)
    if result.failed:
        err_console.print("[bold red]nothing was ingested[/]")
