"""Models of the score: training (optbinning scorecard, EBM), expert scorecards, the file.

Every model is a :class:`Scorecard` — an intercept and additive tables of integer points —
saved in one JSON format (``docs/scorecard-format.md``). ``train_model`` is the one
training entry point for tabular and event features alike.
"""

from openscore.model.apply import scores_of
from openscore.model.binning_scorecard import BinningScorecard
from openscore.model.card import write_model_card
from openscore.model.ebm import EBMScorecard
from openscore.model.expert import compile_expert, load_expert
from openscore.model.format import (
    SCHEMA_VERSION,
    CategoricalBinning,
    DimensionRange,
    Feature,
    FeatureMeta,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
)
from openscore.model.protected import DEFAULT_PROTECTED_ATTRIBUTES, ProtectedAttributes
from openscore.model.tabular import TabularData, prepare_tabular, read_dimensions_map, read_table
from openscore.model.training import train_model

__all__ = [
    "BinningScorecard",
    "CategoricalBinning",
    "DEFAULT_PROTECTED_ATTRIBUTES",
    "DimensionRange",
    "EBMScorecard",
    "Feature",
    "FeatureMeta",
    "NumericBinning",
    "ProtectedAttributes",
    "SCHEMA_VERSION",
    "Scaling",
    "Scorecard",
    "TabularData",
    "Term",
    "build_scorecard",
    "compile_expert",
    "load_expert",
    "prepare_tabular",
    "read_dimensions_map",
    "read_table",
    "scores_of",
    "train_model",
    "write_model_card",
]
