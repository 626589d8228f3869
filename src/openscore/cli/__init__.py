"""Command line: ``openscore <command>``.

Every module in this package adds its commands to :data:`openscore.cli.app.app`; they
are imported here (discovered, so that a new command is one new module).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

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
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            err_console.print("aborted")
            sys.exit(1)
        raise


__all__ = ["app", "main"]
