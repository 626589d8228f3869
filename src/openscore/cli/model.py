"""``openscore train``, ``openscore score`` and ``openscore model show|export|expert|card``.

Tabular mode: any CSV / Parquet with a binary target. Every output is written to a
temporary file and renamed, so a failed command leaves nothing half-written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from openscore.cli.app import app, console, err_console
from openscore.errors import InputError
from openscore.fsio import atomic_path

if TYPE_CHECKING:  # pyarrow and the model load lazily: the CLI starts fast
    import pyarrow as pa

    from openscore.model import Scorecard

model_app = typer.Typer(help="Inspect, export and write scorecard files.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def check_method(method: str) -> None:
    """``--method`` of ``train`` and ``demo``: auto, scorecard or ebm."""
    if method not in ("auto", "scorecard", "ebm"):
        raise InputError(f"--method must be auto, scorecard or ebm, got {method!r}")


def _say(message: str) -> None:
    err_console.print(f"[dim]{message}[/]", highlight=False)


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON).")],
    table: Annotated[
        Path | None, typer.Option("--table", help="Training table (CSV or Parquet).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Outcome column (binary; bad = 1).")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Row id column.")] = None,
    dimensions: Annotated[
        Path | None,
        typer.Option("--dimensions", help="YAML map {dimension: [column, ...]}."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="scorecard, ebm or auto (choose by CV).")
    ] = "auto",
    audit_only: Annotated[
        bool,
        typer.Option(
            "--audit-only", help="Allow protected attributes; the model cannot score people."
        ),
    ] = False,
    bad_value: Annotated[
        str | None,
        typer.Option("--bad-value", help="Target value meaning bad (default: inferred)."),
    ] = None,
    date_column: Annotated[
        str | None, typer.Option("--date", help="Date column: latest 20 % = out-of-time test.")
    ] = None,
    cv_folds: Annotated[int, typer.Option("--cv-folds", min=2, max=20)] = 5,
    card_dir: Annotated[
        Path | None, typer.Option("--card", help="Write the model card into this directory.")
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option("--outcomes", help="Event mode: outcomes.parquet; features from the ledger."),
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb or spark (event mode).")
    ] = None,
    use: Annotated[
        bool, typer.Option("--use", help="Put the trained model in service (event mode).")
    ] = False,
) -> None:
    """Train a scorecard (optbinning + logistic regression, or EBM).

    Tabular mode: --table FILE --target COLUMN. Event mode: --outcomes FILE, with the
    features of every person computed from the ledger as of the outcomes' date.
    """
    from openscore.model import train_model
    from openscore.model.tabular import prepare_tabular, read_dimensions_map, read_table

    check_method(method)
    if outcomes is not None:
        if table is not None:
            raise InputError("give either --table (tabular mode) or --outcomes (event mode)")
        card = _train_events(outcomes, method, engine)
        _report_trained(card, out, card_dir)
        if use:
            from openscore.online import install_model

            console.print(f"in service: {install_model(out)}", highlight=False)
        return
    if table is None or target is None:
        raise InputError(
            "tabular mode needs --table FILE and --target COLUMN (or --outcomes FILE for "
            "event mode)"
        )
    dim_map = read_dimensions_map(dimensions) if dimensions else None
    df = read_table(table)
    data = prepare_tabular(
        df,
        target,
        id_column=id_column,
        dimensions=dim_map,
        bad_value=bad_value,
        date_column=date_column,
        audit_only=audit_only,
    )
    for column, why in data.excluded.items():
        if why.startswith("protected"):
            console.print(f"[yellow]notice:[/] {column} not used: {why}", highlight=False)
    others = [c for c, why in data.excluded.items() if not why.startswith("protected")]
    if others:
        console.print(
            "[yellow]notice:[/] dropped automatically: "
            + ", ".join(f"{c} ({data.excluded[c]})" for c in others),
            highlight=False,
        )
    if dim_map is None:
        console.print("no --dimensions map: every feature goes to credit_history", highlight=False)
    card = train_model(
        data.X,
        data.y,
        data.meta,
        method,
        cv_folds=cv_folds,
        dates=data.dates,
        audit_only=audit_only,
        id_column=id_column,
        target=target,
        excluded=data.excluded,
        progress=_say,
    )
    _report_trained(card, out, card_dir)


def _train_events(outcomes: Path, method: str, engine_name: str | None):
    from openscore.engines.base import get_engine
    from openscore.jobs import train_from_events
    from openscore.ledger import Ledger

    engine = get_engine(engine_name)
    try:
        with console.status(f"computing features on {engine.name} and training ({method})"):
            return train_from_events(engine, Ledger.open(), outcomes, method=method, progress=_say)
    finally:
        engine.close()


def _report_trained(card, out: Path, card_dir: Path | None) -> None:
    from openscore.model import write_model_card

    card.save(out)
    m = card.metrics
    console.print(
        f"[bold]{card.model_id}[/]  test AUC {m['test']['auc']:.4f}  KS {m['test']['ks']:.4f}"
        f"  Gini {m['test']['gini']:.4f}",
        highlight=False,
    )
    if "cv" in m:
        cv = m["cv"]
        console.print(
            f"CV AUC ({cv['folds']} folds): scorecard {cv['scorecard']['auc_mean']:.4f}, "
            f"ebm {cv['ebm']['auc_mean']:.4f} → {cv['chosen']}",
            highlight=False,
        )
    if card.audit_only:
        console.print("[yellow]audit-only model: it cannot be used to score people[/]")
    console.print(f"model written to {out}", highlight=False)
    if card_dir is not None:
        path = write_model_card(card, card_dir)
        console.print(f"model card written to {path}", highlight=False)


def _write_frame(table: pa.Table, out: Path) -> None:
    """Write an Arrow table as CSV or Parquet (by extension) via temp file + rename."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = out.suffix.lower()
    if suffix not in {".csv", ".parquet", ".pq"}:
        raise InputError("--out must end in .csv or .parquet", path=str(out))
    with atomic_path(out) as tmp:
        if suffix == ".csv":
            pacsv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)


def _with_reason_texts(card: Scorecard, table: pa.Table) -> pa.Table:
    """Insert ``reason_k_text`` / ``reason_k_improve`` after each ``reason_k`` code."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from openscore.scoring import MAX_REASONS

    names = pa.array([t.name for t in card.terms], pa.string())
    texts = pa.array([t.reason for t in card.terms], pa.string())
    improves = pa.array([t.improve for t in card.terms], pa.string())
    for k in range(MAX_REASONS, 0, -1):
        where = table.column_names.index(f"reason_{k}")
        idx = pc.index_in(table[f"reason_{k}"], value_set=names)
        table = table.add_column(where + 1, f"reason_{k}_improve", pc.take(improves, idx))
        table = table.add_column(where + 1, f"reason_{k}_text", pc.take(texts, idx))
    return table


@app.command()
def score(
    out: Annotated[Path, typer.Option("--out", help="Scores: .csv or .parquet.")],
    table: Annotated[
        Path | None, typer.Option("--table", help="Tabular mode: features (CSV or Parquet).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: the one in service).")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Id column (default: the model's).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb or spark (event mode).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Event mode: date YYYY-MM-DD (default today).")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="Event mode: publish to the registry too.")
    ] = False,
) -> None:
    """Score every row of a table (tabular mode) or every person in the ledger (event
    mode, without --table): score, band, dimension sub-scores, reasons."""
    import ibis

    from openscore.model import Scorecard

    if table is None:
        _score_events(out, model, engine, as_of, publish)
        return
    if model is None:
        raise InputError("tabular mode needs --model FILE")
    from openscore.model.tabular import coerce_for_model, read_table
    from openscore.scoring import score_table
    from openscore.scoring.person import refuse_audit_only

    card = Scorecard.load(model)
    refuse_audit_only(card)
    df = read_table(table)
    missing = [f for f in card.feature_names if f not in df.columns]
    if missing:
        raise InputError(
            f"the table lacks columns the model needs: {', '.join(missing)}", path=str(table)
        )
    if id_column is None and card.id_column and card.id_column in df.columns:
        id_column = card.id_column
    if id_column is not None and id_column not in df.columns:
        raise InputError(f"id column {id_column!r} is not in the table", path=str(table))
    df = coerce_for_model(df, card.features)
    keep = [c for c in [id_column, *card.feature_names] if c is not None]
    frame = df[list(dict.fromkeys(keep))].copy()
    frame["__row"] = range(len(frame))
    con = ibis.duckdb.connect()
    t = con.create_table("features", frame)
    # texts are added below by reason code (a lookup in Arrow): materialising them in the
    # query costs more than the whole score (benchmarks/scoring.py)
    scored = score_table(card, t, "__row", texts=False)
    result = con.to_pyarrow(scored.order_by("__row")).drop_columns(["__row"])
    result = _with_reason_texts(card, result)
    if id_column is not None:
        import pyarrow as pa

        ids = pa.array(df[id_column].tolist())
        result = result.add_column(0, id_column, ids)
    _write_frame(result, out)
    console.print(f"{result.num_rows} rows scored with {card.model_id} → {out}", highlight=False)


def _score_events(
    out: Path, model: Path | None, engine_name: str | None, as_of: str | None, publish: bool
) -> None:
    from datetime import date

    from openscore.engines.base import get_engine
    from openscore.jobs import write_batch_scores
    from openscore.ledger import Ledger
    from openscore.model import Scorecard
    from openscore.online import current_model, scoring_date

    card = Scorecard.load(model) if model else current_model()
    try:
        day = date.fromisoformat(as_of) if as_of else scoring_date()
    except ValueError:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}") from None
    if out.suffix.lower() not in (".parquet", ".pq"):
        raise InputError("event mode writes Parquet: --out must end in .parquet", path=str(out))
    engine = get_engine(engine_name)
    try:
        with console.status(f"scoring everyone in the ledger on {engine.name}"):
            write_batch_scores(engine, Ledger.open(), card, day, out)
    finally:
        engine.close()
    import pyarrow.parquet as pq

    # the whole file only to publish it; to count its rows, one column (a file or Spark's
    # directory of parts)
    scores = pq.read_table(out) if publish else pq.read_table(out, columns=["score"])
    console.print(
        f"{scores.num_rows:,} people scored with {card.model_id} as of {day} → {out}",
        highlight=False,
    )
    if publish:
        _publish(scores.to_pandas())


def _publish(scores) -> None:
    from rich.progress import Progress

    from openscore.jobs import publish_batch
    from openscore.registry import engine_from_settings, person_exists, upgrade

    registry = engine_from_settings()
    upgrade(registry)
    with registry.connect() as conn:
        known = scores[[person_exists(conn, p) for p in scores["person_id"]]]
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("publishing", total=len(known))
        n = publish_batch(
            registry, known, progress=lambda done, total: bar.update(task, completed=done)
        )
    console.print(
        f"{n:,} scores published ({len(scores) - len(known):,} people not in the "
        "registry were skipped)",
        highlight=False,
    )


@model_app.command("use")
def use_model(model: Annotated[Path, typer.Argument(help="Model file (JSON).")]) -> None:
    """Put a model in service: online scoring and publication use it from now on."""
    from openscore.online import install_model

    console.print(f"in service: {install_model(model)}", highlight=False)


@app.command()
def features(
    out: Annotated[Path, typer.Option("--out", help="Feature table (.parquet).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date YYYY-MM-DD (default today).")
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="duckdb or spark.")] = None,
) -> None:
    """Compute every person's features from the ledger as of a date."""
    from datetime import date

    from openscore.engines.base import get_engine
    from openscore.jobs import write_features
    from openscore.ledger import Ledger
    from openscore.online import scoring_date

    try:
        day = date.fromisoformat(as_of) if as_of else scoring_date()
    except ValueError:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}") from None
    eng = get_engine(engine)
    try:
        with console.status(f"computing features on {eng.name}"):
            write_features(eng, Ledger.open(), day, out)
    finally:
        eng.close()
    console.print(f"features as of {day} → {out}", highlight=False)


@model_app.command("show")
def show(
    model: Annotated[Path, typer.Argument(help="Model file (JSON).")],
    bins: Annotated[bool, typer.Option("--bins", help="List every bin's points.")] = False,
) -> None:
    """Print a model as tables: summary, dimensions, terms (and bins)."""
    from openscore.model import Scorecard

    card = Scorecard.load(model)
    m = card.metrics
    head = Table(title=f"{card.model_id}", show_header=False)
    head.add_row("method", card.method)
    head.add_row("created", card.created_at)
    head.add_row("audit only", "yes: cannot score people" if card.audit_only else "no")
    head.add_row("intercept", f"{card.intercept_points} points")
    s = card.scaling
    head.add_row(
        "scaling",
        f"{s.base_score:g} at {s.base_odds:g}:1, pdo {s.pdo:g}, {s.score_min}-{s.score_max}",
    )
    if "test" in m:
        head.add_row(
            "test",
            f"AUC {m['test']['auc']:.4f}  KS {m['test']['ks']:.4f}  rows {m['test']['rows']}",
        )
    if "cv" in m:
        cv = m["cv"]
        head.add_row(
            "CV AUC",
            f"scorecard {cv['scorecard']['auc_mean']:.4f}  ebm {cv['ebm']['auc_mean']:.4f}",
        )
    console.print(head)
    dims = Table(title="dimensions")
    for col in ("dimension", "min points", "max points", "weight"):
        dims.add_column(col)
    for d, r in card.dimensions.items():
        dims.add_row(d, str(r.min_points), str(r.max_points), f"{r.weight:.3f}")
    console.print(dims)
    terms = Table(title="terms")
    for col in ("#", "term", "dimension", "cells", "min", "best", "max"):
        terms.add_column(col)
    for i, t in enumerate(card.terms, start=1):
        cells = "×".join(str(b.size) for b in t.binnings)
        terms.add_row(
            str(i),
            t.name,
            t.dimension,
            cells,
            str(t.min_points),
            str(t.best),
            str(t.max_points),
        )
    console.print(terms)
    if bins:
        for t in card.terms:
            if t.is_pair:
                continue
            tb = Table(title=t.name)
            tb.add_column("bin")
            tb.add_column("points", justify="right")
            for label, p in zip(t.labels or t.binnings[0].labels(), t.points, strict=False):
                tb.add_row(str(label), str(p))
            console.print(tb)


@model_app.command("export")
def export(
    model: Annotated[Path, typer.Argument(help="Model file (JSON).")],
    sql: Annotated[bool, typer.Option("--sql", help="Export one SQL scoring query.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Id column to carry through.")
    ] = None,
) -> None:
    """Export a model: ``--sql`` writes one standalone query scoring a table ``features``."""
    from openscore.fsio import atomic_write
    from openscore.model import Scorecard
    from openscore.scoring import scoring_sql

    if not sql:
        raise InputError("choose an export format: --sql")
    card = Scorecard.load(model)
    text = scoring_sql(card, id_column=id_column)
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(out, text)
        console.print(f"SQL written to {out}", highlight=False)


@model_app.command("expert")
def expert(
    spec: Annotated[Path, typer.Argument(help="Expert scorecard (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON).")],
) -> None:
    """Compile an expert (cold-start) YAML scorecard into the model file format."""
    from openscore.model import load_expert

    card = load_expert(spec)
    card.save(out)
    console.print(f"{card.model_id} written to {out}", highlight=False)


@model_app.command("card")
def card_command(
    model: Annotated[Path, typer.Argument(help="Model file (JSON).")],
    directory: Annotated[Path, typer.Argument(help="Directory for the card.")],
) -> None:
    """(Re)write a model's card (Markdown, JSON, charts) from the model file."""
    from openscore.model import Scorecard, write_model_card

    path = write_model_card(Scorecard.load(model), directory)
    console.print(f"model card written to {path}", highlight=False)
