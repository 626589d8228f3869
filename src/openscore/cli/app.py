"""The Typer application every ``cli/<command>.py`` module adds its commands to."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from openscore.domain.bands import SCORE_MAX, SCORE_MIN

app = typer.Typer(
    name="openscore",
    help=f"openscore: an open, consent-first, explainable credit score ({SCORE_MIN}-{SCORE_MAX}).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default: $OPENSCORE_DATA_DIR or ./data)."),
    ] = None,
) -> None:
    if data_dir is not None:
        os.environ["OPENSCORE_DATA_DIR"] = str(data_dir)
        from openscore.config import get_settings

        get_settings.cache_clear()
