"""Command line: ``openscore <command>``.

Every module in this package adds its commands to :data:`openscore.cli.app.app`; they
are imported here (discovered, so that a new command is one new module).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any, cast

from openscore.cli.app import app, err_console
from openscore.errors import OpenscoreError

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "app":
        importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """Entry point: run the app, turning openscore's errors into one clear line."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except OpenscoreError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        usage, abort = _click_exceptions()
        if isinstance(exc, usage):
            usage_error = cast(Any, exc)  # click's or Typer's vendored ClickException
            usage_error.show()
            sys.exit(usage_error.exit_code)
        if isinstance(exc, abort):
            err_console.print("aborted")
            sys.exit(1)
        raise


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Usage and abort exceptions of click *and* of the click that Typer vendors (Typer
    0.2x ships its own copy as ``typer._click``, ``Abort`` in ``typer.exceptions``; their
    classes are not click's)."""
    usage: list[type] = []
    abort: list[type] = []
    for module, attr, into in (
        ("click.exceptions", "ClickException", usage),
        ("click.exceptions", "Abort", abort),
        ("typer._click.exceptions", "ClickException", usage),
        ("typer.exceptions", "Abort", abort),
    ):
        try:
            into.append(getattr(importlib.import_module(module), attr))
        except (ImportError, AttributeError):
            continue
    return tuple(usage), tuple(abort)
