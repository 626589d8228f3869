"""Batch jobs over the whole ledger, on the chosen engine: features, training, scoring.

Orchestration only: what is fitted and the rules a relationships term obeys are in
``openscore.model`` (``offset.py``, ``relationships.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openscore.jobs.features import feature_table, write_features
    from openscore.jobs.graph import compute_graph, snapshot_info
    from openscore.jobs.score import batch_scores, publish_batch, write_batch_scores
    from openscore.jobs.train import event_training_frame, feature_meta, train_from_events

__all__ = [
    "batch_scores",
    "compute_graph",
    "event_training_frame",
    "feature_meta",
    "feature_table",
    "publish_batch",
    "snapshot_info",
    "train_from_events",
    "write_batch_scores",
    "write_features",
]


def __getattr__(name: str) -> Any:
    """A job's module is imported when one of its names is first used (PEP 562):
    ``openscore features`` and ``openscore score`` do not import training's libraries."""
    if name in ("feature_table", "write_features"):
        from openscore.jobs import features as module
    elif name in ("compute_graph", "snapshot_info"):
        from openscore.jobs import graph as module
    elif name in ("batch_scores", "publish_batch", "write_batch_scores"):
        from openscore.jobs import score as module
    elif name in ("event_training_frame", "feature_meta", "train_from_events"):
        from openscore.jobs import train as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
