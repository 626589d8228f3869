"""Batch scoring of everyone, and publication of the scores to the registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
from sqlalchemy.engine import Engine as SqlEngine

from openscore.engines.base import Engine
from openscore.features import build_features, with_graph
from openscore.features.graph import GraphParams
from openscore.jobs.features import feature_table
from openscore.jobs.graph import compute_graph
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.model.relationships import check_relationships_rule, uses_graph
from openscore.registry import ScoreToPublish, publish_scores
from openscore.scoring import score_table
from openscore.scoring.compile import TERM_POINTS_PREFIX

DIMENSIONS = ("credit_history", "fulfilment_capacity", "behaviour", "identity", "relationships")


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
) -> ir.Table:
    """Features of everyone as of ``as_of``, scored by ``card``: an expression to run.

    When the card scores relationships, stage 1 and the trust propagation run first (on
    the engine, over the whole ledger) and their result is stored for the online path
    (``jobs/graph.py``; ``store_graph=False`` skips that); the returned expression is
    stage 2. ``term_points`` adds every term's points (``score_table``). Everyone's
    features are then computed once, materialised (a temporary table
    on DuckDB, a cached DataFrame on Spark, released when the returned expression is no
    longer referenced), and both stages are scored from them: computing them from the
    events for each stage cost twice the feature time (``docs/scale.md``).
    """
    if not uses_graph(card):
        features = feature_table(engine, ledger, as_of, people)
        return score_table(
            card, features, "person_id", as_of=as_of.isoformat(), term_points=term_points
        )
    check_relationships_rule(card)
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
        features = with_graph(everyone, graph)
    else:  # people outside the ledger too: the feature rules of build_features apply
        features = build_features(events, as_of, people, graph)
    return score_table(
        card, features, "person_id", as_of=as_of.isoformat(), term_points=term_points
    )


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
