"""Batch jobs over the whole ledger, on the chosen engine: features, training, scoring.

Orchestration only: what is fitted and the rules a relationships term obeys are in
``openscore.model`` (``offset.py``, ``relationships.py``)."""

from __future__ import annotations

import importlib
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


#: the module of each name imported on first use
_MODULE_OF: dict[str, str] = {
    "feature_table": "features",
    "write_features": "features",
    "compute_graph": "graph",
    "snapshot_info": "graph",
    "batch_scores": "score",
    "publish_batch": "score",
    "write_batch_scores": "score",
    "event_training_frame": "train",
    "feature_meta": "train",
    "train_from_events": "train",
}


def __getattr__(name: str) -> Any:
    """A job's module is imported when one of its names is first used (PEP 562):
    ``openscore features`` and ``openscore score`` do not import training's libraries."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
