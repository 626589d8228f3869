"""``openscore demo``: a synthetic world through every part of openscore, then the app."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from openscore.cli.app import app, console
from openscore.cli.model import check_method


@app.command()
def demo(
    people: Annotated[int, typer.Option("--people", help="Synthetic people.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Run the app at the end.")
    ] = True,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    history_months: Annotated[
        int,
        typer.Option(
            "--history-months",
            min=0,
            help="Month-ends of the personas' recomputed score history (0: none).",
        ),
    ] = 24,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="The model: auto (scorecard or EBM, chosen by cross-validation), "
            "scorecard or ebm.",
        ),
    ] = "auto",
) -> None:
    """Generate, enrol, ingest, train, score, publish — and serve the portal and console."""
    from openscore.config import get_settings

    # A demo is a development world (the built-in secret key, cookies over plain http),
    # unless the caller says otherwise.
    os.environ.setdefault("OPENSCORE_ENVIRONMENT", "development")
    get_settings.cache_clear()
    from openscore.demo import build_world
    from openscore.ledger import Ledger, ledger_stats

    def say(message: str) -> None:
        console.print(f"[bold cyan]▸[/] {message}", highlight=False)

    check_method(method)
    world = build_world(
        people=people, seed=seed, say=say, history_months=history_months, method=method
    )
    stats = ledger_stats(Ledger.open())
    table = Table(title="openscore demo", show_header=False)
    table.add_row("data directory", str(get_settings().data_dir))
    table.add_row(
        "ledger",
        f"{stats['total']:,} events, {stats['people']:,} people, {stats['segments']} segments",
    )
    for source, n in stats["by_source"].items():
        table.add_row(f"  {source}", f"{n:,}")
    table.add_row(
        "model",
        f"{world.model_id} (test AUC {world.test_auc:.3f})" if world.test_auc else world.model_id,
    )
    console.print(table)
    logins = Table(
        title="demo logins (password for all: "
        + (world.logins[0]["password"] if world.logins else "-")
        + ")"
    )
    for col in ("who", "login", "score", "band"):
        logins.add_column(col)
    for entry in world.logins:
        logins.add_row(entry["who"], entry["login"], str(entry["score"]), entry["band"])
    console.print(logins)
    if world.operator_key:
        console.print(f"operator API key: {world.operator_key}", highlight=False)
        console.print(f"partner (City Bikes) API key: {world.partner_key}", highlight=False)
    if serve:
        _serve(host, port)


def _serve(host: str, port: int) -> None:
    from openscore.cli.serve import serve

    console.print(f"\n[bold green]open http://{host}:{port}/[/]  (Ctrl-C to stop)")
    serve(host=host, port=port)
