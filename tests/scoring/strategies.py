"""Hypothesis strategies: random scorecards and random feature rows (shared by the tests)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from openscore.domain import Dimension
from openscore.model.format import (
    CategoricalBinning,
    Feature,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
)

CATEGORIES = ["a", "b", "c", "d", "e", "f"]
DIMENSIONS = [d.value for d in Dimension]


@st.composite
def binnings(draw: st.DrawFn, kind: str) -> Any:
    if kind == "numeric":
        edges = draw(
            st.lists(
                st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False).map(
                    lambda v: round(v, 2)
                ),
                min_size=0,
                max_size=12,
                unique=True,
            )
        )
        return NumericBinning(tuple(sorted(edges)))
    cats = draw(st.permutations(CATEGORIES))
    n_groups = draw(st.integers(1, 4))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(1, len(cats) - 1),
                min_size=n_groups - 1,
                max_size=n_groups - 1,
                unique=True,
            )
        )
    )
    bounds = [0, *cuts, draw(st.integers(max(cuts, default=0) + 1, len(cats)))]
    groups = tuple(tuple(cats[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    return CategoricalBinning(groups)


points_st = st.integers(-60, 60)


@st.composite
def scorecards(draw: st.DrawFn) -> Scorecard:
    n = draw(st.integers(1, 5))
    features, binning_of = [], {}
    for i in range(n):
        kind = draw(st.sampled_from(["numeric", "categorical"]))
        dim = draw(st.sampled_from(DIMENSIONS[:3]))
        name = f"f{i}"
        features.append(Feature(name=name, dimension=dim, type=kind))  # type: ignore[arg-type]
        binning_of[name] = draw(binnings(kind))
    terms = []
    for f in features:
        b = binning_of[f.name]
        pts = draw(st.lists(points_st, min_size=b.size, max_size=b.size))
        pts[b.missing_index] = 0
        terms.append(
            Term(
                f.name,
                (f.name,),
                f.dimension,
                (b,),
                tuple(pts),
                tuple(b.labels()),
                reason=f"reason {f.name}",
                improve=f"improve {f.name}",
            )
        )
    same_dim = [
        (a, b)
        for i, a in enumerate(features)
        for b in features[i + 1 :]
        if a.dimension == b.dimension
    ]
    # up to three pairs (a pair's tables sit after the others': several pairs over
    # features of different sizes is what finds a wrong offset)
    chosen = draw(st.lists(st.sampled_from(same_dim), max_size=3, unique=True)) if same_dim else []
    for a, b in chosen:
        ba, bb = binning_of[a.name], binning_of[b.name]
        grid = [
            [
                0 if (i == ba.missing_index or j == bb.missing_index) else draw(points_st)
                for j in range(bb.size)
            ]
            for i in range(ba.size)
        ]
        terms.append(
            Term(
                f"{a.name} x {b.name}",
                (a.name, b.name),
                a.dimension,
                (ba, bb),
                tuple(tuple(r) for r in grid),
                (tuple(ba.labels()), tuple(bb.labels())),
                reason=f"reason pair {a.name} x {b.name}",
                improve="improve pair",
            )
        )
    return build_scorecard(
        method=draw(st.sampled_from(["scorecard", "ebm", "expert"])),
        scaling=Scaling(),
        intercept_points=draw(st.integers(250, 1050)),
        features=features,
        terms=terms,
    )


@st.composite
def feature_rows(draw: st.DrawFn, card: Scorecard, n: int = 12) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for f in card.features:
            if f.type == "numeric":
                edges = next(
                    t.binnings[t.features.index(f.name)].edges
                    for t in card.terms
                    if f.name in t.features
                )
                row[f.name] = draw(
                    st.one_of(
                        st.none(),
                        st.just(math.nan),
                        st.sampled_from(edges) if edges else st.just(0.0),
                        st.floats(-2e4, 2e4, allow_nan=False, allow_infinity=False),
                    )
                )
            else:
                row[f.name] = draw(
                    st.one_of(st.none(), st.sampled_from([*CATEGORIES, "zz", "unseen"]))
                )
        rows.append(row)
    return rows
