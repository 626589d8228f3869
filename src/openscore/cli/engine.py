"""``openscore engine check``: does the chosen engine start and run a query, and where."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from openscore.cli.app import app, console

engine_app = typer.Typer(help="The compute engine (DuckDB or Spark).", no_args_is_help=True)
app.add_typer(engine_app, name="engine")


@engine_app.command()
def check(
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb or spark (default: $OPENSCORE_ENGINE, else duckdb)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Start the engine, run one small query, say what answered (errors exit non-zero)."""
    import pandas as pd

    from openscore.engines.base import get_engine
    from openscore.errors import EngineError

    t0 = time.perf_counter()
    eng = get_engine(engine)
    started = time.perf_counter()
    try:
        table = eng.table(pd.DataFrame({"x": [1, 2, 3]}), "openscore_engine_check")
        total = int(eng.to_pandas(table.aggregate(total=table.x.sum()))["total"].iloc[0])
        if total != 6:
            raise EngineError(f"{eng.name} answered 1 + 2 + 3 = {total}")
        ran = time.perf_counter()
        info = {"engine": eng.name, **_describe(eng)}
    finally:
        eng.close()
    info.update(start_seconds=round(started - t0, 2), query_seconds=round(ran - started, 2))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    where = ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("engine",))
    console.print(f"[green]ok[/] {info['engine']}: {where}")


def _describe(eng) -> dict:
    describe = getattr(eng, "describe", None)
    if describe is not None:
        return describe()
    import duckdb

    return {"version": duckdb.__version__}
