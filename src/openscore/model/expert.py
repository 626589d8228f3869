"""The expert (cold-start) scorecard: a YAML of judgements compiled to the one file format.

Before any outcomes exist there is nothing to fit, so people write the bins and say how
good each one is on a 0–1 scale (1 = best). Points follow from Sesame's dimension
weights (35/25/20/15/5): a dimension's share of ``range_points`` is split among its
features by their ``weight``; a bin scores ``round(span × (value − neutral))`` where
``neutral`` is where a person who does not share the feature stands (the missing bin is
therefore exactly 0, principle 2). ``neutral: 0`` makes a feature that can only raise a
score (relationships, principle 2).

YAML layout::

    intercept_points: 550        # everyone-missing score
    range_points: 400            # worst-to-best spread, split by dimension weights
    dimension_weights: {...}     # optional; default DIMENSION_WEIGHTS
    features:
      utilisation:
        dimension: credit_history
        type: numeric            # or categorical (then ``groups: [[a, b], [c]]``)
        monotonic: ascending     # risk grows with the value
        edges: [0.1, 0.3, 0.7]
        values: [1.0, 0.75, 0.4, 0.0]
        neutral: 0.5             # default 0.5
        weight: 1                # share within the dimension, default 1
        description: ...
        reason: ...
        improve: ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from openscore.domain import DIMENSION_WEIGHTS, Dimension
from openscore.errors import InputError
from openscore.model.format import (
    CategoricalBinning,
    Feature,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
)


def load_expert(path: str | os.PathLike[str], *, scaling: Scaling | None = None) -> Scorecard:
    """Read and compile an expert YAML file."""
    p = Path(path)
    if not p.exists():
        raise InputError("expert scorecard not found", path=str(p))
    try:
        spec = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=str(p)) from exc
    return compile_expert(spec, scaling=scaling, path=str(p))


def compile_expert(
    spec: Mapping[str, Any], *, scaling: Scaling | None = None, path: str | None = None
) -> Scorecard:
    """Compile an expert specification (the parsed YAML) into a scorecard."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("features"), Mapping):
        raise InputError("an expert scorecard needs a 'features' mapping", path=path)
    scaling = scaling or Scaling.from_settings()
    weights = {d.value: w for d, w in DIMENSION_WEIGHTS.items()}
    weights.update({str(k): float(v) for k, v in (spec.get("dimension_weights") or {}).items()})
    valid = {d.value for d in Dimension}
    range_points = float(spec.get("range_points", 400))
    intercept = spec.get("intercept_points", 550)
    if not isinstance(intercept, int):
        raise InputError("intercept_points must be an integer", path=path)

    feats: dict[str, Mapping[str, Any]] = dict(spec["features"])
    by_dim: dict[str, float] = {}
    for name, f in feats.items():
        dim = f.get("dimension")
        if dim not in valid:
            raise InputError(f"unknown dimension {dim!r}", path=path, field=name)
        by_dim[dim] = by_dim.get(dim, 0.0) + float(f.get("weight", 1))

    features, terms = [], []
    for name, f in feats.items():
        dim = f["dimension"]
        ftype = f.get("type", "numeric")
        values = [float(v) for v in f.get("values", [])]
        if any(not 0 <= v <= 1 for v in values):
            raise InputError("values are judgements on a 0–1 scale", path=path, field=name)
        if ftype == "numeric":
            edges = [float(e) for e in f.get("edges", [])]
            binning: Any = NumericBinning(tuple(edges))
            if len(values) != len(edges) + 1:
                raise InputError(
                    f"{len(edges)} edges need {len(edges) + 1} values", path=path, field=name
                )
        elif ftype == "categorical":
            groups = [[str(c) for c in g] for g in f.get("groups", [])]
            binning = CategoricalBinning(tuple(tuple(g) for g in groups))
            if len(values) != len(groups):
                raise InputError("one value per group is needed", path=path, field=name)
        else:
            raise InputError("type must be numeric or categorical", path=path, field=name)
        neutral = float(f.get("neutral", 0.5))
        span = range_points * weights.get(dim, 0.0) * float(f.get("weight", 1)) / by_dim[dim]
        pts = [int(round(span * (v - neutral))) for v in values]
        pts += [0] if ftype == "numeric" else [0, 0]  # missing (and unseen category)
        monotonic = f.get("monotonic", "none")
        features.append(
            Feature(
                name=name,
                dimension=dim,
                type=ftype,
                description=str(f.get("description", "")),
                improve=str(f.get("improve", "")),
                monotonic=monotonic,
            )
        )
        terms.append(
            Term(
                name=name,
                features=(name,),
                dimension=dim,
                binnings=(binning,),
                points=tuple(pts),
                labels=tuple(binning.labels()),
                reason=str(f.get("reason", f"Your {name} scores fewer points")),
                improve=str(f.get("improve", "")),
            )
        )
    try:
        return build_scorecard(
            method="expert",
            scaling=scaling,
            intercept_points=intercept,
            features=features,
            terms=terms,
            training={"source": path, "excluded": {}},
        )
    except InputError as exc:
        raise InputError(exc.reason, path=path, field=exc.field) from exc
