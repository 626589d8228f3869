"""``openscore synth`` (a synthetic world) and ``openscore convert taiwan`` (real data)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from openscore.cli.app import app, console
from openscore.errors import InputError

convert_app = typer.Typer(
    help="Convert a public credit dataset into ledger events.", no_args_is_help=True
)
app.add_typer(convert_app, name="convert")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(f"--as-of must be a date YYYY-MM-DD (got {value!r})") from None


def _share_option(source: str, default: float) -> Any:
    return typer.Option(
        f"--share-{source}",
        help=f"Probability that a person shares {source} (default {default}).",
        show_default=False,
    )


@app.command()
def synth(
    people: Annotated[int, typer.Option("--people", help="Number of people.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (new or empty).")],
    months: Annotated[int, typer.Option("--months", help="Months of history (>= 13).")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
    country: Annotated[
        str, typer.Option("--country", help="ISO 3166-1 code whose cities people live in.")
    ] = "CN",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Observation date YYYY-MM-DD (default 2026-06-30)."),
    ] = None,
    share_wallet: Annotated[float | None, _share_option("wallet", 0.90)] = None,
    share_credit: Annotated[float | None, _share_option("credit", 0.75)] = None,
    share_rentals: Annotated[float | None, _share_option("rentals", 0.70)] = None,
    share_profile: Annotated[float | None, _share_option("profile", 0.50)] = None,
    share_social: Annotated[float | None, _share_option("social", 0.35)] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="People generated at a time (memory, not data).")
    ] = 16_384,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Worker processes (default: the CPUs available)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate a synthetic population: people, cities, friends, events and outcomes."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from openscore.synth.params import parse_params, parse_run_options
    from openscore.synth.run import default_workers, generate

    shares = {
        name: value
        for name, value in {
            "wallet": share_wallet,
            "credit": share_credit,
            "rentals": share_rentals,
            "profile": share_profile,
            "social": share_social,
        }.items()
        if value is not None
    }
    values: dict[str, Any] = {
        "people": people,
        "months": months,
        "seed": seed,
        "country": country,
        "shares": shares,
    }
    day = _as_of(as_of)
    if day is not None:
        values["as_of"] = day
    params = parse_params(**values)
    options = parse_run_options(
        chunk_size=chunk_size, workers=workers if workers is not None else default_workers()
    )
    with Progress(
        TextColumn("[bold]synth[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("people"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("people", total=params.people)
        manifest = generate(params, out, options, progress=lambda n: bar.advance(task, n))
    counts = manifest["counts"]
    console.print(
        f"wrote {counts['events']:,} events for {params.people:,} people to {out} "
        f"(bad rate {counts['defaulted'] / params.people:.1%})",
        highlight=False,
    )


@convert_app.command("taiwan")
def convert_taiwan(
    path: Annotated[Path, typer.Argument(help="UCI_Credit_Card.csv")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (new or empty).")],
) -> None:
    """The Taiwan default-of-credit-card-clients dataset as ledger events."""
    from openscore.convert.taiwan import convert

    manifest = convert(path, out)
    counts = manifest["counts"]
    console.print(
        f"wrote {counts['events']:,} events for {counts['people']:,} people to {out}",
        highlight=False,
    )
