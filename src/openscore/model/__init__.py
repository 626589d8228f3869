"""Models of the score: training (optbinning scorecard, EBM), expert scorecards, the file.

Every model is a :class:`Scorecard` — an intercept and additive tables of integer points —
saved in one JSON format (``docs/scorecard-format.md``). ``train_model`` is the one
training entry point for tabular and event features alike.
"""

from __future__ import annotations

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


def __getattr__(name: str) -> Any:
    """A name's module is imported when the name is first used (PEP 562): reading or
    applying a scorecard (``openscore score``, the API) does not import the training
    libraries (scikit-learn, SciPy, optbinning, interpret), whose import alone took
    2-4 s of every batch command (``docs/scale.md``)."""
    if name in _FORMAT:
        from openscore.model import format as module
    elif name == "scores_of":
        from openscore.model import apply as module
    elif name == "BinningScorecard":
        from openscore.model import binning_scorecard as module
    elif name == "write_model_card":
        from openscore.model import card as module
    elif name == "EBMScorecard":
        from openscore.model import ebm as module
    elif name in ("compile_expert", "load_expert"):
        from openscore.model import expert as module
    elif name in ("DEFAULT_PROTECTED_ATTRIBUTES", "ProtectedAttributes"):
        from openscore.model import protected as module
    elif name in ("TabularData", "prepare_tabular", "read_dimensions_map", "read_table"):
        from openscore.model import tabular as module
    elif name == "train_model":
        from openscore.model import training as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
