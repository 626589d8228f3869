"""``openscore ingest``: furnisher files into the ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from openscore.cli.app import app, console, err_console
from openscore.config import get_settings
from openscore.ingest import Ingester
from openscore.ledger import Ledger


def consent_gate_for_cli():  # noqa: ANN201
    """The registry's consent gate once a registry exists; before that, allow-all."""
    settings = get_settings()
    if settings.registry_url is None and not (settings.data_dir / "registry.sqlite").exists():
        from openscore.ingest import allow_all

        err_console.print("[yellow]no registry yet: consent is not checked[/]")
        return allow_all
    from openscore.online import registry_consent_gate
    from openscore.registry import engine_from_settings

    return registry_consent_gate(engine_from_settings(settings))


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories (CSV, JSONL, Parquet; .gz ok).")
    ],
    furnisher: Annotated[str, typer.Option("--furnisher", help="Who sent the data.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary as JSON.")
    ] = False,
) -> None:
    """Validate and store events; rejected rows go to a report beside the run."""
    settings = get_settings()
    ingester = Ingester(
        Ledger.open(settings), consent_gate=consent_gate_for_cli(), settings=settings
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


def _print_summary(result) -> None:  # noqa: ANN001
    table = Table(title=f"ingest run {result.run_id} ({result.furnisher_id})", show_header=False)
    for label, value in (
        ("files", result.files),
        ("rows read", result.rows_read),
        ("accepted", result.accepted),
        ("already stored (skipped)", result.duplicates),
        ("rejected", result.rejected),
        ("  of which conflicts", result.conflicts),
        ("  of which without consent", result.no_consent),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
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
