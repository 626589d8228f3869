"""Batch scoring of everyone, and publication of the scores to the registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import Engine as SqlEngine

from openscore.engines.base import Engine
from openscore.features import build_features, with_graph
from openscore.features.build import with_graph_arrays
from openscore.features.graph import GraphParams
from openscore.fsio import atomic_path
from openscore.jobs.features import feature_table, known_latest
from openscore.jobs.graph import compute_graph, graph_of_table
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.model.relationships import (
    check_relationships_rule,
    graph_params_of,
    uses_graph,
)
from openscore.registry import ScoreToPublish, publish_scores
from openscore.scoring import score_table
from openscore.scoring.compile import TERM_POINTS_PREFIX
from openscore.scoring.kernel import ScoringKernel

DIMENSIONS = ("credit_history", "fulfilment_capacity", "behaviour", "identity", "relationships")


def batch_features(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    people: ir.Table | None = None,
    *,
    graph_params: GraphParams | None = None,
    store_graph: bool = True,
    in_memory: bool = True,
) -> ir.Table:
    """Everyone's features as of ``as_of``, as the batch scorer reads them: an expression.

    When the card scores relationships, stage 1 and the trust propagation run first (over
    the whole ledger) and their result is stored for the online path (``jobs/graph.py``;
    ``store_graph=False`` skips that); the returned features then carry the graph's, for
    stage 2. Everyone's features are computed once and both stages are scored from them
    (computing them from the events for each stage cost twice the feature time,
    ``docs/scale.md``): on Spark a cached DataFrame (released when the returned
    expression is no longer referenced), the graph by Ibis queries; on DuckDB, for
    everyone in the ledger, :func:`features_in_memory` (returned as a temporary table),
    which gives the same features to the last bit (the propagation's sums are of
    fixed-point integers, ``features/graph.py``); ``in_memory=False`` asks for the
    queries instead (a temporary table of the features, the graph by Ibis queries).
    """
    if not uses_graph(card):
        return feature_table(engine, ledger, as_of, people)
    check_relationships_rule(card)
    if in_memory and engine.name == "duckdb" and people is None:
        table = features_in_memory(engine, ledger, card, as_of, graph_params, store_graph)
        return engine.table(table, f"openscore_features_{uuid.uuid4().hex[:12]}")
    events = engine.ledger(ledger.snapshot().paths)
    everyone = build_features(events, as_of, shared_flags=True).cache()
    graph = compute_graph(
        engine,
        ledger,
        card,
        as_of,
        graph_params,
        store=store_graph,
        events=events,
        features=everyone,
    )
    if people is None:
        return with_graph(everyone, graph)
    # people outside the ledger too: the feature rules of build_features apply
    return build_features(events, as_of, people, graph)


def batch_scores(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    people: ir.Table | None = None,
    *,
    graph_params: GraphParams | None = None,
    store_graph: bool = True,
    term_points: bool = False,
    in_memory: bool = True,
) -> ir.Table:
    """Features of everyone as of ``as_of``, scored by ``card``: a table on the engine.

    The features (:func:`batch_features`) are scored by the vectorised kernel
    (``scoring/kernel.py``) on Arrow batches: on DuckDB the result is a temporary table
    (to write everyone's scores to a file without holding them, use
    :func:`write_batch_scores`), on Spark a lazy DataFrame (``mapInArrow``). The columns
    are those of ``scoring.score_table``, with ``as_of``. ``term_points`` adds every
    term's points (``points:<term>`` columns, what the score history stores): the kernel
    does not compute those yet, so that asks for the Ibis expression (``score_table``),
    which the parity tests hold equal to the kernel.
    """
    features = batch_features(
        engine,
        ledger,
        card,
        as_of,
        people,
        graph_params=graph_params,
        store_graph=store_graph,
        in_memory=in_memory,
    )
    if term_points:
        return score_table(card, features, "person_id", as_of=as_of.isoformat(), term_points=True)
    return kernel_scores(engine, card, features, "person_id", as_of=as_of.isoformat())


def write_batch_scores(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    out: Path,
    people: ir.Table | None = None,
    *,
    graph_params: GraphParams | None = None,
    store_graph: bool = True,
    in_memory: bool = True,
) -> Path:
    """Everyone's scores written to Parquet at ``out`` (what ``openscore score`` does).

    On DuckDB the features are scored by the kernel into the file (their slices on the
    engine's threads): for a card without relationships the feature query is streamed
    (a batch in memory at a time); with them, the features are held in memory for the
    two stages (:func:`features_in_memory`), or with ``in_memory=False`` are a temporary
    table scored by the queries' path (the same scores). On Spark the executors score
    their partitions and write the parts (a directory of part files)."""
    if in_memory and engine.name == "duckdb" and people is None and uses_graph(card):
        check_relationships_rule(card)
        table = features_in_memory(engine, ledger, card, as_of, graph_params, store_graph)
        kernel = _file_kernel(card, as_of)
        kernel.check(table.column_names)
        batches = table.select(kernel.inputs).to_batches(max_chunksize=BATCH_ROWS)
        id_type = table.schema.field("person_id").type
        return _write_scored(kernel, batches, id_type, out, _threads(engine))
    features = batch_features(
        engine,
        ledger,
        card,
        as_of,
        people,
        graph_params=graph_params,
        store_graph=store_graph,
        in_memory=in_memory,
    )
    if engine.name != "duckdb":
        scores = kernel_scores(engine, card, features, "person_id", as_of=as_of.isoformat())
        engine.to_parquet(scores, out)
        return out
    kernel = _file_kernel(card, as_of)
    threads = _threads(engine)  # asked before the stream opens: it holds the connection
    reader = _duckdb_stream(engine, features.select(*kernel.inputs))
    return _write_scored(kernel, reader, reader.schema.field("person_id").type, out, threads)


def _file_kernel(card: Scorecard, as_of: date) -> ScoringKernel:
    # texts as dictionary arrays, written without the Arrow schema: Parquet keeps them as
    # dictionary-encoded strings and every reader gets plain strings back
    return ScoringKernel(card, "person_id", as_of=as_of.isoformat(), dictionary=True)


def _write_scored(
    kernel: ScoringKernel,
    batches: Iterable[pa.RecordBatch],
    id_type: pa.DataType,
    out: Path,
    threads: int,
) -> Path:
    """``batches`` scored by ``kernel`` on ``threads`` into the Parquet file ``out``."""
    with atomic_path(out) as tmp:
        schema = kernel.schema(id_type)
        with pq.ParquetWriter(tmp, schema, store_schema=False) as writer:
            for scored in kernel.score_batches(batches, threads=threads):
                writer.write_batch(scored)
    return out


def features_in_memory(
    engine: Engine,
    ledger: Ledger,
    card: Scorecard,
    as_of: date,
    graph_params: GraphParams | None = None,
    store_graph: bool = True,
) -> pa.Table:
    """Everyone's features with the graph's, as an Arrow table (DuckDB, a card that
    scores relationships): what :func:`batch_features` gives, computed in one pass.

    The feature query runs once into memory, with the sharing flags and the voucher rule
    (``build_features(shared_flags=True, vouchers=...)``); stage 1, the one query for
    the edges and the propagation are ``jobs.graph.graph_of_table``; the graph features
    are filled in by ``features.with_graph_arrays``. Instead of a temporary table of the
    features, stage 1 by the compiled expression, two more scans of the events for the
    voucher facts and a query per propagation round (``docs/scale.md``).
    """
    params = graph_params or graph_params_of(card)
    snapshot = ledger.snapshot()
    events = engine.ledger(snapshot.paths)
    latest = known_latest(engine, snapshot)
    everyone = build_features(events, as_of, shared_flags=True, vouchers=params, latest=latest)
    table = engine.con.to_pyarrow(everyone)
    graph = graph_of_table(
        engine,
        ledger,
        card,
        as_of,
        table,
        params,
        store=store_graph,
        events=events,
        latest=latest,
        threads=_threads(engine),
    )
    return with_graph_arrays(table, graph)


#: rows per Arrow batch the DuckDB stream hands the kernel
BATCH_ROWS = 122_880


def _threads(engine: Engine) -> int:
    """The kernel's threads on DuckDB: as many as the engine was given (its ``threads``)."""
    rows = engine.con.con.sql("SELECT current_setting('threads')").fetchall()
    return max(1, int(rows[0][0]))


def _duckdb_stream(engine: Engine, expr: ir.Table) -> pa.RecordBatchReader:
    """The rows of ``expr`` as a stream of Arrow batches from the engine's connection."""
    sql = engine.con.compile(expr)
    reader: pa.RecordBatchReader = engine.con.con.sql(sql).to_arrow_reader(BATCH_ROWS)
    return reader


def kernel_scores(
    engine: Engine,
    card: Scorecard,
    features: ir.Table,
    id_column: str,
    *,
    as_of: str | None = None,
    texts: bool = True,
) -> ir.Table:
    """``features`` scored by the kernel, as a table on ``engine`` (the columns of
    ``scoring.score_table``): a temporary table on DuckDB, a ``mapInArrow`` DataFrame on
    Spark (each executor scores its partitions with the same kernel)."""
    kernel = ScoringKernel(card, id_column, as_of=as_of, texts=texts)
    kernel.check(features.columns)
    inputs = features.select(*kernel.inputs)
    id_type = inputs.schema()[id_column].to_pyarrow()
    name = f"openscore_scores_{uuid.uuid4().hex[:12]}"
    if engine.name == "spark":
        from pyspark.sql.pandas.types import from_arrow_schema

        frame = engine.dataframe(inputs)  # type: ignore[attr-defined]
        scored = frame.mapInArrow(kernel.score_batches, from_arrow_schema(kernel.schema(id_type)))
        scored.createOrReplaceTempView(name)
        return engine.con.table(name)
    threads = _threads(engine)
    reader = _duckdb_stream(engine, inputs)
    table = pa.Table.from_batches(
        list(kernel.score_batches(reader, threads=threads)),
        schema=kernel.schema(reader.schema.field(id_column).type),
    )
    return engine.table(table, name)


def publish_batch(
    registry: SqlEngine,
    scores: pd.DataFrame,
    *,
    actor: str = "system:batch",
    chunk: int = 5_000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Publish a scored frame (rows of registered people) as their current scores."""
    done = 0
    total = len(scores)
    for start in range(0, total, chunk):
        part = scores.iloc[start : start + chunk]
        items = [score_item(row) for row in part.to_dict("records")]
        with registry.begin() as conn:
            done += publish_scores(conn, items, actor=actor)
        if progress:
            progress(min(start + chunk, total), total)
    return done


def score_item(row: dict) -> ScoreToPublish:
    """A scored frame's row as the registry takes it (``points:<term>`` columns, when
    present, become its contributions)."""
    if row.get("status", "scored") == "unscorable":
        return ScoreToPublish(
            person_id=row["person_id"],
            score=None,
            band=None,
            dimensions=dict.fromkeys(DIMENSIONS),
            reasons=[],
            model_id=row["model_id"],
            as_of=datetime.fromisoformat(str(row["as_of"])).replace(tzinfo=UTC),
            status="unscorable",
        )
    reasons = []
    for k in range(1, 5):
        code = row.get(f"reason_{k}")
        if code is None or _absent(code):
            continue
        points = row.get(f"reason_{k}_points")
        missing = row.get(f"reason_{k}_missing")
        reasons.append(
            published_reason(
                code,
                row.get(f"reason_{k}_text"),
                row.get(f"reason_{k}_improve"),
                points=None if points is None or _absent(points) else int(points),
                missing=bool(missing) if not _absent(missing) else False,
            )
        )
    helps = []
    for k in range(1, 4):
        code = row.get(f"help_{k}")
        if _absent(code):
            continue
        text, points = row.get(f"help_{k}_text"), int(row[f"help_{k}_points"])
        helps.append({"code": code, "text": text, "points": points})
    points = {
        k[len(TERM_POINTS_PREFIX) :]: int(v)
        for k, v in row.items()
        if k.startswith(TERM_POINTS_PREFIX) and not _absent(v)
    }
    return ScoreToPublish(
        person_id=row["person_id"],
        score=int(row["score"]),
        band=row["band"],
        dimensions={
            d: None if _absent(row.get(f"dim_{d}")) else int(row[f"dim_{d}"]) for d in DIMENSIONS
        },
        reasons=reasons,
        model_id=row["model_id"],
        as_of=datetime.fromisoformat(str(row["as_of"])).replace(tzinfo=UTC),
        helps=helps,
        contributions=points or None,
    )


def _absent(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def published_reason(
    code: str,
    text: str | None,
    improve: str | None,
    *,
    points: int | None = None,
    missing: bool = False,
) -> dict:
    """A reason as published (batch and online publish exactly this shape): ``points`` it
    costs, and whether it is only missing information (never cited on a decline)."""
    return {
        "code": code,
        "text": text,
        "improve": improve,
        "points_lost": points,
        "missing": missing,
    }


def write_scores(engine: Engine, expr: ir.Table, out: Path) -> Path:
    engine.to_parquet(expr, out)
    return out
