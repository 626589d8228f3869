"""``openscore history backfill``: a score history as of each month-end the ledger covers."""

from __future__ import annotations

from typing import Annotated

import typer

from openscore.cli.app import app, console, err_console

history_app = typer.Typer(help="The score history (recomputed month-end points).")
app.add_typer(history_app, name="history")


@history_app.command()
def backfill(
    months: Annotated[
        int,
        typer.Option("--months", min=1, help="The last N month-ends the ledger covers."),
    ] = 24,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", help="Only this person (repeatable; default: everyone)."),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb or spark (default: $OPENSCORE_ENGINE, else duckdb)."),
    ] = None,
    redo: Annotated[
        bool, typer.Option("--redo", help="Recompute month-ends that already have points.")
    ] = False,
) -> None:
    """Recompute everyone's score as of each month-end the ledger covers (the last
    --months), with the model in service, and store them as recomputed history points
    (never as published scores). Month-ends that have points are skipped (--redo)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from openscore.engines.base import get_engine
    from openscore.jobs.history import backfill as run_backfill
    from openscore.ledger import Ledger
    from openscore.online import current_model, scoring_date
    from openscore.registry import engine_from_settings, upgrade

    registry = engine_from_settings()
    upgrade(registry)
    card = current_model()
    until = scoring_date()
    eng = get_engine(engine)
    try:
        with Progress(
            TextColumn("[bold cyan]history[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"month-ends up to {until}", total=None)

            def progress(done: int, total: int, end) -> None:
                bar.update(task, completed=done, total=total, description=f"as of {end}")

            report = run_backfill(
                eng,
                Ledger.open(),
                registry.begin,
                card,
                until=until,
                months=months,
                people=person or None,
                redo=redo,
                progress=progress,
            )
    finally:
        eng.close()
    for end, n in report.stored.items():
        console.print(f"  {end}: {n:,} points", highlight=False)
    skipped = f"; {len(report.skipped)} month-ends already had points" if report.skipped else ""
    console.print(
        f"{report.points:,} history points over {len(report.stored)} month-ends, recomputed "
        f"with {report.model_id}{skipped}",
        highlight=False,
    )
