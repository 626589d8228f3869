"""Plain-language reason and improvement texts of a term (FCRA-style "key factors").

A feature's own texts (``FeatureMeta.reason`` / ``improve``, written by whoever computed
the feature) win; tabular columns have none, so a text is made from the column name and
the best bin's label, which at least tells a person which value range scores best.
"""

from __future__ import annotations

from collections.abc import Sequence

from openscore.model.format import Binning, CategoricalBinning, FeatureMeta


def _best_index(points: Sequence[int], binning: Binning) -> int:
    candidates = [i for i in range(len(points)) if i != binning.missing_index]
    return max(candidates, key=lambda i: (points[i], -i))


def range_phrase(label: str, binning: Binning) -> str:
    """'< 3' → 'below 3'; '[1, 3)' → 'from 1 to under 3'; a category group → 'one of …'."""
    if isinstance(binning, CategoricalBinning):
        if label == "other":
            return "a value not seen in training"
        return f"'{label}'" if "," not in label else f"one of {label}"
    if label.startswith("< "):
        return f"below {label[2:]}"
    if label.startswith(">= "):
        return f"{label[3:]} or more"
    if label.startswith("["):
        lo, hi = label[1:-1].split(", ")
        return f"from {lo} to under {hi}"
    return label


def term_texts(
    name: str,
    meta: FeatureMeta,
    points: Sequence[int],
    labels: Sequence[str],
    binning: Binning,
) -> tuple[str, str]:
    """(reason, improve) of a one-feature term."""
    what = name
    reason = meta.reason or f"Your {what} is in a range that scores fewer points"
    if meta.improve:
        return reason, meta.improve
    best = _best_index(points, binning)
    improve = f"{what} {range_phrase(labels[best], binning)} scores the most points"
    return reason, improve


def pair_texts(
    names: tuple[str, str],
    metas: tuple[FeatureMeta, FeatureMeta],
    main_improve: dict[str, str] | None = None,
) -> tuple[str, str]:
    """(reason, improve) of a two-feature interaction term.

    The best cell of an interaction term alone is not advice: the term corrects the two
    main effects, and its best cell can sit where the features themselves score worst.
    So the improvement text is the two features' own (given, or of their main effects).
    """
    a, b = names
    reason = f"The combination of your {a} and {b} scores fewer points"
    texts = []
    for name, meta in zip(names, metas, strict=True):
        text = meta.improve or (main_improve or {}).get(name, "")
        if text and text not in texts:
            texts.append(text)
    improve = "; ".join(texts) or f"Improve your {a} and {b}"
    return reason, improve
