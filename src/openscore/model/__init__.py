"""Models of the score: training (optbinning scorecard, EBM), expert scorecards, the file.

Every model is a :class:`Scorecard` — an intercept and additive tables of integer points —
saved in one JSON format (``docs/scorecard-format.md``). ``train_model`` is the one
training entry point for tabular and event features alike.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from openscore.model.tabular import (
        TabularData,
        prepare_tabular,
        read_dimensions_map,
        read_table,
    )
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


_FORMAT = {
    "SCHEMA_VERSION",
    "CategoricalBinning",
    "DimensionRange",
    "Feature",
    "FeatureMeta",
    "NumericBinning",
    "Scaling",
    "Scorecard",
    "Term",
    "build_scorecard",
}


#: the module of each name imported on first use
_MODULE_OF: dict[str, str] = {
    **dict.fromkeys(_FORMAT, "format"),
    "scores_of": "apply",
    "BinningScorecard": "binning_scorecard",
    "write_model_card": "card",
    "EBMScorecard": "ebm",
    "compile_expert": "expert",
    "load_expert": "expert",
    "DEFAULT_PROTECTED_ATTRIBUTES": "protected",
    "ProtectedAttributes": "protected",
    "TabularData": "tabular",
    "prepare_tabular": "tabular",
    "read_dimensions_map": "tabular",
    "read_table": "tabular",
    "train_model": "training",
}


def __getattr__(name: str) -> Any:
    """A name's module is imported when the name is first used (PEP 562): reading or
    applying a scorecard (``openscore score``, the API) does not import the training
    libraries (scikit-learn, SciPy, optbinning, interpret), whose import alone took
    2-4 s of every batch command (``docs/scale.md``)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
