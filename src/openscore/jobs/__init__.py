"""Batch jobs over the whole ledger, on the chosen engine: features, training, scoring."""

from openscore.jobs.features import feature_table, write_features
from openscore.jobs.graph import (
    check_relationships_rule,
    compute_graph,
    snapshot_info,
    stage_one_card,
    uses_graph,
)
from openscore.jobs.score import batch_scores, publish_batch
from openscore.jobs.train import (
    add_relationships_term,
    event_training_frame,
    feature_meta,
    train_from_events,
)

__all__ = [
    "add_relationships_term",
    "batch_scores",
    "check_relationships_rule",
    "compute_graph",
    "event_training_frame",
    "feature_meta",
    "feature_table",
    "publish_batch",
    "snapshot_info",
    "stage_one_card",
    "train_from_events",
    "uses_graph",
    "write_features",
]
