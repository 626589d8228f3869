"""The groups a fairness audit compares: which column each comes from and how it is labelled.

Protected attributes live in side files (``people.parquet`` of a synthetic world, the
Taiwan ``fairness.parquet``, or the protected columns of a raw table) and meet the scores
only here, never the model. Known attributes get readable labels and bands (Taiwan's
codes become words, ages become age bands) so that a report says "female", not "2";
any other column is compared by its own values.

A group smaller than the minimum size is named in the report with its size only: its
rates would be noise (a group of one has an approval rate of 0 or 1 by construction) and
would reveal its members' scores. It takes no part in the ratios and gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openscore.errors import InputError

#: groups smaller than this are named with their size but not compared
DEFAULT_MIN_GROUP_SIZE = 50

MISSING_GROUP_COLUMN = (
    "group column {name!r} is not in the group data (looked for {looked}; available: {available})"
)
TOO_FEW_GROUPS = (
    "group column {name!r} has {eligible} group(s) of at least {min_size} people "
    "({sizes}); a comparison needs two"
)
SMALL_GROUP = (
    "{name} = {group!r} has {size} people, below the minimum of {min_size}: reported by "
    "size only and left out of the ratios and gaps"
)
MIN_GROUP_SIZE_BELOW_ONE = "the minimum group size must be at least 1 (got {value})"
NO_GROUPS = "no group columns to audit"

#: label used for a missing value of a group attribute
MISSING_LABEL = "(missing)"

AGE_BANDS: tuple[tuple[str, float], ...] = (
    ("18-24", 18),
    ("25-34", 25),
    ("35-44", 35),
    ("45-54", 45),
    ("55+", 55),
)
#: e-literacy (0-1, synthetic) cut at 0.5 and 0.8: about a quarter low, the rest split
E_LITERACY_BANDS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 0.5), ("high", 0.8))

#: Taiwan codes (dataset README): 0, 5 and 6 are undocumented or "unknown"
TAIWAN_SEX = {1: "male", 2: "female"}
TAIWAN_EDUCATION = {
    1: "graduate school",
    2: "university",
    3: "high school",
    4: "other",
    5: "unknown",
    6: "unknown",
    0: "unknown",
}
TAIWAN_MARRIAGE = {1: "married", 2: "single", 3: "other", 0: "unknown"}


def _banded(bands: Sequence[tuple[str, float]]) -> Callable[[pd.Series], pd.Series]:
    def label(values: pd.Series) -> pd.Series:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        lowers = np.array([low for _, low in bands])
        idx = np.searchsorted(lowers, x, side="right") - 1
        names = np.array([name for name, _ in bands], dtype=object)
        out = np.where((idx >= 0) & ~np.isnan(x), names[np.clip(idx, 0, None)], MISSING_LABEL)
        return pd.Series(out, index=values.index, dtype=object)

    return label


def _coded(codes: Mapping[int, str]) -> Callable[[pd.Series], pd.Series]:
    def label(values: pd.Series) -> pd.Series:
        def one(v: object) -> str:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return MISSING_LABEL
            try:
                return codes.get(int(v), str(v))  # type: ignore[call-overload]
            except (TypeError, ValueError):
                return str(v)

        return values.map(one).astype(object)

    return label


def _as_text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: MISSING_LABEL if pd.isna(v) else str(v)).astype(object)


@dataclass(frozen=True)
class GroupSpec:
    """A group attribute of the report: the columns it may come from, and its labels."""

    name: str
    #: (column, labeller) tried in order; the first column present is used
    sources: tuple[tuple[str, Callable[[pd.Series], pd.Series]], ...]
    #: label order in reports (others follow, sorted)
    order: tuple[str, ...] = ()


KNOWN_GROUPS: dict[str, GroupSpec] = {
    spec.name: spec
    for spec in (
        GroupSpec("sex", (("sex", _as_text), ("SEX", _coded(TAIWAN_SEX))), ("female", "male")),
        GroupSpec(
            "age_band",
            (("age", _banded(AGE_BANDS)), ("AGE", _banded(AGE_BANDS))),
            tuple(n for n, _ in AGE_BANDS),
        ),
        GroupSpec(
            "education",
            (("education", _as_text), ("EDUCATION", _coded(TAIWAN_EDUCATION))),
            (
                "primary",
                "secondary",
                "high school",
                "vocational",
                "university",
                "bachelor",
                "graduate school",
                "postgraduate",
                "other",
                "unknown",
            ),
        ),
        GroupSpec(
            "marital_status",
            (("marital_status", _as_text), ("MARRIAGE", _coded(TAIWAN_MARRIAGE))),
            ("married", "single", "other", "unknown"),
        ),
        GroupSpec(
            "e_literacy_band",
            (("e_literacy", _banded(E_LITERACY_BANDS)),),
            tuple(n for n, _ in E_LITERACY_BANDS),
        ),
        GroupSpec(
            "city_size", (("city_size_band", _as_text),), ("small", "medium", "large", "mega")
        ),
    )
}

#: the attributes audited by default, by kind of data
SYNTHETIC_GROUPS = ("sex", "age_band", "education", "e_literacy_band", "city_size")
TAIWAN_GROUPS = ("sex", "age_band", "education", "marital_status")


def derive_groups(source: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """One labelled column per requested group attribute, aligned with ``source``.

    A known attribute (``sex``, ``age_band``, ``education``, ``marital_status``,
    ``e_literacy_band``, ``city_size``) is found under any of its source columns; any other
    name must be a column of ``source`` and is compared by its values.
    """
    if not names:
        raise InputError(NO_GROUPS)
    out: dict[str, pd.Series] = {}
    for name in names:
        spec = KNOWN_GROUPS.get(name)
        candidates = spec.sources if spec else ((name, _as_text),)
        for column, label in candidates:
            if column in source.columns:
                out[name] = label(source[column]).reset_index(drop=True)
                break
        else:
            raise InputError(
                MISSING_GROUP_COLUMN.format(
                    name=name,
                    looked=", ".join(repr(c) for c, _ in candidates),
                    available=", ".join(map(str, source.columns)) or "none",
                ),
                field=name,
            )
    return pd.DataFrame(out)


def as_labels(groups: pd.DataFrame) -> pd.DataFrame:
    """Every group value as text (missing as ``(missing)``): labels compare as strings."""
    return pd.DataFrame({c: _as_text(groups[c]).to_numpy() for c in groups.columns})


def label_order(name: str, labels: Sequence[str]) -> list[str]:
    """Labels in report order: the attribute's natural order first, then the rest sorted."""
    spec = KNOWN_GROUPS.get(name)
    first = [x for x in (spec.order if spec else ()) if x in labels]
    return first + sorted(x for x in labels if x not in first)


@dataclass(frozen=True)
class GroupCheck:
    """Which groups of one attribute are compared, and which are too small."""

    name: str
    sizes: dict[str, int]
    eligible: list[str]
    small: list[str]
    notices: list[str]


def check_groups(groups: pd.DataFrame, min_size: int = DEFAULT_MIN_GROUP_SIZE) -> list[GroupCheck]:
    """Sizes of every group; ``InputError`` if an attribute has fewer than two groups of
    ``min_size`` people (nothing to compare), a notice for each smaller group."""
    if isinstance(min_size, bool) or not isinstance(min_size, (int, np.integer)) or min_size < 1:
        raise InputError(MIN_GROUP_SIZE_BELOW_ONE.format(value=min_size), field="min_group_size")
    if groups.shape[1] == 0:
        raise InputError(NO_GROUPS)
    checks = []
    groups = as_labels(groups)
    for name in groups.columns:
        counts = groups[name].value_counts()
        labels = label_order(name, [str(x) for x in counts.index])
        sizes = {label: int(counts[label]) for label in labels}
        eligible = [g for g in labels if sizes[g] >= min_size]
        small = [g for g in labels if sizes[g] < min_size]
        if len(eligible) < 2:
            raise InputError(
                TOO_FEW_GROUPS.format(
                    name=name,
                    eligible=len(eligible),
                    min_size=min_size,
                    sizes=", ".join(f"{g}: {n}" for g, n in sizes.items()),
                ),
                field=name,
            )
        notices = [
            SMALL_GROUP.format(name=name, group=g, size=sizes[g], min_size=min_size) for g in small
        ]
        checks.append(GroupCheck(name, sizes, eligible, small, notices))
    return checks
