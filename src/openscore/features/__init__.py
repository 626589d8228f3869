"""Per-person features from the ledger, one module per dimension, as Ibis expressions."""

from openscore.features.build import build_features, with_graph
from openscore.features.catalog import (
    FEATURE_NAMES,
    FEATURES,
    FEATURES_BY_NAME,
    MODEL_INPUTS,
    FeatureSpec,
)
from openscore.features.frame import AsOf

__all__ = [
    "FEATURES",
    "FEATURES_BY_NAME",
    "FEATURE_NAMES",
    "MODEL_INPUTS",
    "AsOf",
    "FeatureSpec",
    "build_features",
    "with_graph",
]
