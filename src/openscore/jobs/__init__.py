"""Batch jobs over the whole ledger, on the chosen engine: features, training, scoring.

Orchestration only: what is fitted and the rules a relationships term obeys are in
``openscore.model`` (``offset.py``, ``relationships.py``)."""

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
