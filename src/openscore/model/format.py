"""The scorecard file (``docs/scorecard-format.md``, schema version 1): the one model format.

Trained (optbinning scorecard, EBM) and expert models are all a :class:`Scorecard`: an
intercept plus additive tables of integer points. Batch scoring, one-person scoring and
the SQL export read nothing else, so every rule the scorers rely on (missing cells are
0, interactions stay within a dimension, points are integers) is checked here, on load
and before save, rather than trusted.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar, get_args

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from openscore.domain import Dimension
from openscore.domain.bands import SCORE_MAX, SCORE_MIN
from openscore.errors import InputError, SchemaVersionError
from openscore.fsio import atomic_write

SCHEMA: Final = "openscore.scorecard"
SCHEMA_VERSION: Final = 1

Method = Literal["scorecard", "ebm", "expert"]
FeatureType = Literal["numeric", "categorical"]
Monotonic = Literal["ascending", "descending", "none"]
METHODS: tuple[str, ...] = get_args(Method)
MONOTONIC: tuple[str, ...] = get_args(Monotonic)
FEATURE_TYPES: tuple[str, ...] = get_args(FeatureType)


@dataclass(frozen=True, slots=True)
class Scaling:
    """Points-to-double-the-odds scaling: ``score = offset + factor * ln(good:bad odds)``."""

    base_score: float = 600.0
    base_odds: float = 20.0
    pdo: float = 40.0
    score_min: int = SCORE_MIN
    score_max: int = SCORE_MAX

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def points_of_logit(self, logit_bad: float) -> float:
        """Unrounded points for a log-odds contribution towards *bad* (a term's share)."""
        return -self.factor * logit_bad

    def intercept_of_logit(self, logit_bad: float) -> float:
        """Unrounded intercept points for a model intercept in log-odds of bad."""
        return self.offset - self.factor * logit_bad

    def bad_rate_of_score(self, score: float) -> float:
        """The bad rate the scaling promises at ``score`` (for calibration)."""
        log_odds_good = (score - self.offset) / self.factor
        return 1.0 / (1.0 + math.exp(min(700.0, log_odds_good)))

    @classmethod
    def from_settings(cls) -> Scaling:
        from openscore.config import get_settings

        s = get_settings()
        return cls(s.base_score, s.base_odds, s.pdo)

    def to_dict(self) -> dict[str, Any]:
        return declared(ScalingFile, self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class NumericBinning:
    """Edges ``e0 < … < e(k-1)``: bin ``i`` holds ``e(i-1) <= x < e(i)``; missing is ``k+1``."""

    edges: tuple[float, ...]
    type: Literal["numeric"] = "numeric"

    @property
    def size(self) -> int:
        return len(self.edges) + 2

    @property
    def missing_index(self) -> int:
        return len(self.edges) + 1

    @property
    def other_index(self) -> int | None:
        return None

    def index(self, value: Any) -> int:
        """The bin of ``value`` (None/NaN → missing; non-numbers raise InputError)."""
        if is_missing(value):
            return self.missing_index
        if isinstance(value, bool):
            value = float(value)
        try:
            x = float(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{value!r} is not a number") from exc
        if math.isnan(x):
            return self.missing_index
        return bisect.bisect_right(self.edges, x)

    def labels(self) -> list[str]:
        e = [_fmt(v) for v in self.edges]
        if not e:
            return ["all values", "missing"]
        out = [f"< {e[0]}"]
        out += [f"[{a}, {b})" for a, b in zip(e, e[1:], strict=False)]
        out += [f">= {e[-1]}", "missing"]
        return out

    def to_dict(self) -> dict[str, Any]:
        return declared(NumericBinningFile, self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class CategoricalBinning:
    """Groups of category strings; null → ``len(groups)``, unseen → ``len(groups)+1``."""

    groups: tuple[tuple[str, ...], ...]
    type: Literal["categorical"] = "categorical"
    _lookup: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for i, group in enumerate(self.groups):
            for category in group:
                self._lookup[category] = i

    @property
    def size(self) -> int:
        return len(self.groups) + 2

    @property
    def missing_index(self) -> int:
        return len(self.groups)

    @property
    def other_index(self) -> int:
        return len(self.groups) + 1

    def index(self, value: Any) -> int:
        """The group of ``value`` (None/NaN → missing, unseen → other)."""
        if is_missing(value):
            return self.missing_index
        return self._lookup.get(category_string(value), self.other_index)

    def labels(self) -> list[str]:
        return [", ".join(g) for g in self.groups] + ["missing", "other"]

    def to_dict(self) -> dict[str, Any]:
        return declared(CategoricalBinningFile, self).model_dump(mode="json")


Binning = NumericBinning | CategoricalBinning


def is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA/NaT: what both scorers treat as not shared."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def category_string(value: Any) -> str:
    """How a category value is compared: as the string a SQL ``CAST(x AS VARCHAR)`` gives."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:.6g}"


@dataclass(frozen=True, slots=True)
class Feature:
    """A model input as the file records it."""

    name: str
    dimension: str
    type: FeatureType = "numeric"
    description: str = ""
    improve: str = ""
    monotonic: Monotonic = "none"

    def to_dict(self) -> dict[str, Any]:
        return declared(FeatureFile, self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class FeatureMeta:
    """What a feature means, given to training by whoever computed it.

    ``monotonic`` is the direction in which *risk* moves as the value grows; ``auto`` lets
    the binning choose the direction (tabular mode without a dimensions map) and is
    recorded as ``none`` in the file.

    ``only_raises``: no bin may score below the missing bin (0 points), so having the
    feature can only raise a score compared with not sharing it (the relationships
    dimension, principle 2). ``max_points``: the most points any bin may give (a cap on
    what the feature can add). Both are training constraints; the file format is
    unchanged, the points simply obey them. Such a feature gets no interaction term.
    """

    dimension: str = Dimension.CREDIT_HISTORY.value
    type: FeatureType = "numeric"
    monotonic: Literal["ascending", "descending", "none", "auto"] = "none"
    description: str = ""
    reason: str = ""
    improve: str = ""
    only_raises: bool = False
    max_points: int | None = None

    def __post_init__(self) -> None:
        if self.max_points is not None and (
            isinstance(self.max_points, bool) or int(self.max_points) < 0
        ):
            raise InputError(f"max_points must be a whole number >= 0, got {self.max_points!r}")

    def bound_points(self, points: Sequence[int]) -> list[int]:
        """``points`` (a one-feature table, missing included) within the constraints."""
        out = [int(p) for p in points]
        if self.only_raises:
            out = [max(0, p) for p in out]
        if self.max_points is not None:
            out = [min(int(self.max_points), p) for p in out]
        return out


@dataclass(frozen=True, slots=True)
class Term:
    """An additive table of points over one feature, or two features of one dimension."""

    name: str
    features: tuple[str, ...]
    dimension: str
    binnings: tuple[Binning, ...]
    points: tuple[Any, ...]  # tuple[int, ...] or tuple[tuple[int, ...], ...]
    labels: tuple[Any, ...] = ()
    reason: str = ""
    improve: str = ""

    @property
    def is_pair(self) -> bool:
        return len(self.features) == 2

    def cell(self, indices: Sequence[int]) -> int:
        if self.is_pair:
            return int(self.points[indices[0]][indices[1]])
        return int(self.points[indices[0]])

    def cells(self) -> list[tuple[tuple[int, ...], int]]:
        """Every (indices, points) of the table."""
        if self.is_pair:
            return [((i, j), v) for i, row in enumerate(self.points) for j, v in enumerate(row)]
        return [((i,), v) for i, v in enumerate(self.points)]

    def is_missing(self, indices: Sequence[int]) -> bool:
        return any(i == b.missing_index for i, b in zip(indices, self.binnings, strict=True))

    @property
    def best(self) -> int:
        """Maximum points over the non-missing cells (the reference for reasons)."""
        return max(v for idx, v in self.cells() if not self.is_missing(idx))

    @property
    def min_points(self) -> int:
        return min(v for _, v in self.cells())

    @property
    def max_points(self) -> int:
        return max(v for _, v in self.cells())

    def index_of(self, values: Sequence[Any]) -> tuple[int, ...]:
        return tuple(b.index(v) for b, v in zip(self.binnings, values, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return declared(TermFile, self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class DimensionRange:
    min_points: int
    max_points: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return declared(DimensionRangeFile, self).model_dump(mode="json")


@dataclass(frozen=True)
class Scorecard:
    """A model: intercept + additive point tables. Build with :func:`build_scorecard`."""

    model_id: str
    method: str
    created_at: str
    scaling: Scaling
    intercept_points: int
    features: tuple[Feature, ...]
    terms: tuple[Term, ...]
    dimensions: dict[str, DimensionRange]
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    audit_only: bool = False
    id_column: str | None = None
    target: str | None = None
    schema_version: int = SCHEMA_VERSION

    # -- derived -------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def checksum(self) -> str:
        return checksum_of(self._body())

    # -- (de)serialisation ---------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        return declared(ScorecardFile, self).model_dump(mode="json")

    def to_dict(self) -> dict[str, Any]:
        body = self._body()
        body["checksum"] = checksum_of(body)
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Validate, then write atomically (temp file + rename): never a half-written model."""
        return atomic_write(path, self.to_json())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> Scorecard:
        """Parse and check a file's content (schema version, checksum, every rule)."""
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            raise SchemaVersionError(f"not an openscore scorecard (schema {SCHEMA!r})", path=path)
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaVersionError(
                f"scorecard schema_version {version!r} is not supported; this openscore "
                f"reads version {SCHEMA_VERSION}",
                path=path,
            )
        body = {k: v for k, v in data.items() if k != "checksum"}
        stored = data.get("checksum")
        if stored != checksum_of(body):
            raise SchemaVersionError(
                "checksum does not match the content: the model file was modified or "
                "damaged after it was written",
                path=path,
            )
        return declared(ScorecardFile, body, path=path).to_card()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scorecard:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InputError("model file not found", path=str(p)) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=str(p), line=exc.lineno) from exc
        return cls.from_dict(data, path=str(p))


def checksum_of(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (keys sorted, no spaces)."""
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _json_safe(value: Any) -> Any:
    """NaN/inf become null and numpy scalars plain numbers, so the JSON stays strict."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- the file, declared ------------------------------------------------------------------
# What a scorecard file may hold is declared once, here, as pydantic models with the same
# field names as the classes above. Loading validates a file's JSON through them; saving
# (and ``validate``) reads an in-memory card through them, so the rules are the same both
# ways, and the JSON written is their dump. Rules about one field are in its type; rules
# across fields are the models' validators, whose messages name the term or feature.


def _whole_points(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"points must be integers, got {value!r}")
    return value


def _known_dimension(value: str) -> str:
    if value not in _DIMENSIONS:
        raise ValueError(f"unknown dimension {value!r}; one of {', '.join(_DIMENSIONS)}")
    return value


def _table_shape(value: Any) -> str:
    rows = isinstance(value, list | tuple) and value and isinstance(value[0], list | tuple)
    return "grid" if rows else "row"


_DIMENSIONS = tuple(d.value for d in Dimension)
#: integer points (``True`` and ``1.5`` are not points)
Points = Annotated[int, BeforeValidator(_whole_points)]
DimensionName = Annotated[str, AfterValidator(_known_dimension)]
#: one feature's points (a row) or a pair's (a grid, rows over the first feature's bins)
PointsTable = Annotated[
    Annotated[list[Points], Tag("row")] | Annotated[list[list[Points]], Tag("grid")],
    Discriminator(_table_shape),
]
#: free-form figures: NaN/inf become null and numpy scalars plain numbers (strict JSON)
Figures = Annotated[dict[str, Any], BeforeValidator(lambda v: _json_safe(dict(v or {})))]
#: the tags pydantic adds to an error's location inside a union; not field names
_UNION_TAGS = frozenset({"row", "grid", "numeric", "categorical"})


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)


class ScalingFile(_FileModel):
    base_score: StrictInt | StrictFloat
    base_odds: StrictInt | StrictFloat = Field(gt=0)
    pdo: StrictInt | StrictFloat = Field(gt=0)
    score_min: StrictInt
    score_max: StrictInt

    @model_validator(mode="after")
    def _the_score_range(self) -> ScalingFile:
        if (self.score_min, self.score_max) != (SCORE_MIN, SCORE_MAX):
            raise ValueError(
                f"scaling: the score range is {SCORE_MIN}-{SCORE_MAX}, "
                f"not {self.score_min}-{self.score_max}"
            )
        return self


class NumericBinningFile(_FileModel):
    type: Literal["numeric"]
    edges: list[float]

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if any(not math.isfinite(e) for e in edges) or any(
            a >= b for a, b in zip(edges, edges[1:], strict=False)
        ):
            raise ValueError("edges must be finite and strictly increasing")
        return edges


class CategoricalBinningFile(_FileModel):
    type: Literal["categorical"]
    groups: list[list[StrictStr]]

    @field_validator("groups")
    @classmethod
    def _disjoint(cls, groups: list[list[str]]) -> list[list[str]]:
        seen: set[str] = set()
        for group in groups:
            if seen & set(group):
                raise ValueError("a category appears in two groups")
            seen |= set(group)
        return groups


BinningFile = Annotated[NumericBinningFile | CategoricalBinningFile, Field(discriminator="type")]


class FeatureFile(_FileModel):
    name: StrictStr
    dimension: DimensionName
    type: FeatureType = "numeric"
    description: StrictStr = ""
    improve: StrictStr = ""
    monotonic: Monotonic = "none"

    def to_feature(self) -> Feature:
        return Feature(**self.model_dump())


class TermFile(_FileModel):
    name: StrictStr
    features: list[StrictStr] = Field(min_length=1, max_length=2)
    dimension: DimensionName
    binnings: list[BinningFile]
    points: PointsTable
    labels: list[StrictStr | list[StrictStr]] = []
    reason: StrictStr = ""
    improve: StrictStr = ""

    def to_term(self) -> Term:
        binnings: list[Binning] = [
            NumericBinning(tuple(b.edges))
            if isinstance(b, NumericBinningFile)
            else CategoricalBinning(tuple(tuple(g) for g in b.groups))
            for b in self.binnings
        ]
        points: tuple[Any, ...] = tuple(
            tuple(row) if isinstance(row, list) else row for row in self.points
        )
        labels = tuple(tuple(x) if isinstance(x, list) else x for x in self.labels)
        return Term(
            name=self.name,
            features=tuple(self.features),
            dimension=self.dimension,
            binnings=tuple(binnings),
            points=points,
            labels=labels,
            reason=self.reason,
            improve=self.improve,
        )

    @model_validator(mode="after")
    def _table_fits_the_binnings(self) -> TermFile:
        where = f"term {self.name!r}"
        if len(self.binnings) != len(self.features):
            raise ValueError(f"{where}: one or two features, one binning each")
        t = self.to_term()
        sizes = [b.size for b in t.binnings]
        grid = bool(t.points) and isinstance(t.points[0], tuple)
        if t.is_pair:
            if not grid or len(t.points) != sizes[0] or any(len(r) != sizes[1] for r in t.points):
                raise ValueError(f"{where}: points grid must be {sizes[0]}×{sizes[1]}")
        elif grid or len(t.points) != sizes[0]:
            raise ValueError(f"{where}: {sizes[0]} points expected, got {len(t.points)}")
        for idx, v in t.cells():
            if t.is_missing(idx) and v != 0:
                raise ValueError(f"{where}: missing is neutral, its points must be 0 (got {v})")
        return self


class DimensionRangeFile(_FileModel):
    min_points: StrictInt
    max_points: StrictInt
    weight: float

    def to_range(self) -> DimensionRange:
        return DimensionRange(**self.model_dump())


class ScorecardFile(_FileModel):
    """The whole file but its checksum (which is over exactly this, canonically dumped)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    schema_: Literal["openscore.scorecard"] = Field(default=SCHEMA, alias="schema")
    schema_version: Literal[1] = SCHEMA_VERSION
    model_id: StrictStr
    method: Method
    created_at: StrictStr
    audit_only: StrictBool = False
    id_column: StrictStr | None = None
    target: StrictStr | None = None
    scaling: ScalingFile
    intercept_points: Points
    features: list[FeatureFile]
    terms: list[TermFile]
    dimensions: dict[DimensionName, DimensionRangeFile]
    training: Figures = {}
    metrics: Figures = {}

    def to_card(self) -> Scorecard:
        plain = {
            k: getattr(self, k)
            for k in type(self).model_fields
            if k not in {"schema_", "scaling", "features", "terms", "dimensions"}
        }
        return Scorecard(
            **plain,
            scaling=Scaling(**self.scaling.model_dump()),
            features=tuple(f.to_feature() for f in self.features),
            terms=tuple(t.to_term() for t in self.terms),
            dimensions={k: v.to_range() for k, v in self.dimensions.items()},
        )

    @model_validator(mode="after")
    def _parts_agree(self) -> ScorecardFile:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names must be unique")
        if len({t.name for t in self.terms}) != len(self.terms):
            raise ValueError("term names must be unique")
        by_name = {f.name: f for f in self.features}
        for t in self.terms:
            where = f"term {t.name!r}"
            for fname, b in zip(t.features, t.binnings, strict=True):
                if fname not in by_name:
                    raise ValueError(
                        f"{where}: feature {fname!r} is not among the model's features"
                    )
                if by_name[fname].type != b.type:
                    raise ValueError(
                        f"{where}: binning type {b.type} does not match feature {fname!r}"
                    )
                if by_name[fname].dimension != t.dimension:
                    raise ValueError(
                        f"{where}: feature {fname!r} belongs to {by_name[fname].dimension}, "
                        f"not {t.dimension} (interactions stay within one dimension)"
                    )
        terms = [t.to_term() for t in self.terms]
        for d, r in self.dimensions.items():
            lo = sum(t.min_points for t in terms if t.dimension == d)
            hi = sum(t.max_points for t in terms if t.dimension == d)
            if (r.min_points, r.max_points) != (lo, hi):
                raise ValueError(f"dimension {d}: min/max points do not match its terms")
        return self


_FileModelT = TypeVar("_FileModelT", bound=_FileModel)


def declared(model: type[_FileModelT], value: Any, *, path: str | None = None) -> _FileModelT:
    """``value`` (a file's parsed JSON, or one of the classes above) read through ``model``;
    the first rule it breaks raised as an InputError naming the field."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _input_error(exc, path) from None


def _input_error(exc: ValidationError, path: str | None) -> InputError:
    error = exc.errors(include_url=False)[0]
    where = ""
    for part in error["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif part not in _UNION_TAGS:
            where += f".{part}" if where else str(part)
    if error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    elif error["type"] == "missing":
        message = str(error["msg"])
    else:
        shown = repr(error.get("input"))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        message = f"{error['msg']} (got {shown})"
    return InputError(message, path=path, field=where.replace("schema_", "schema") or None)


def validate(card: Scorecard, *, path: str | None = None) -> None:
    """Check every rule of the format; raise InputError naming the first one broken."""
    declared(ScorecardFile, card, path=path)


def dimension_ranges(terms: Sequence[Term]) -> dict[str, DimensionRange]:
    """Per dimension: the sums of its terms' least and most points and its share of range."""
    spans = {}
    for d in Dimension:
        lo = sum(t.min_points for t in terms if t.dimension == d.value)
        hi = sum(t.max_points for t in terms if t.dimension == d.value)
        spans[d.value] = (lo, hi)
    total = sum(hi - lo for lo, hi in spans.values())
    return {
        d: DimensionRange(lo, hi, round((hi - lo) / total, 4) if total else 0.0)
        for d, (lo, hi) in spans.items()
    }


def terms_checksum(terms: Sequence[Term]) -> str:
    return checksum_of({"terms": [t.to_dict() for t in terms]})


def build_scorecard(
    *,
    method: str,
    scaling: Scaling,
    intercept_points: int,
    features: Sequence[Feature],
    terms: Sequence[Term],
    training: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    audit_only: bool = False,
    id_column: str | None = None,
    target: str | None = None,
    created_at: datetime | None = None,
) -> Scorecard:
    """Assemble a valid scorecard: derives model_id, dimension ranges; checks the rules."""
    now = (created_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    model_id = f"{method}-{now:%Y%m%d%H%M%S}-{terms_checksum(terms)[:8]}"
    card = Scorecard(
        model_id=model_id,
        method=method,
        created_at=now.isoformat().replace("+00:00", "Z"),
        scaling=scaling,
        intercept_points=int(intercept_points),
        features=tuple(features),
        terms=tuple(terms),
        dimensions=dimension_ranges(terms),
        training=dict(training or {}),
        metrics=dict(metrics or {}),
        audit_only=audit_only,
        id_column=id_column,
        target=target,
    )
    validate(card)
    return card


def with_metrics(card: Scorecard, metrics: Mapping[str, Any]) -> Scorecard:
    """The same model with its validation figures attached (model_id unchanged)."""
    return replace(card, metrics=dict(metrics))


__all__ = [
    "Binning",
    "CategoricalBinning",
    "DimensionRange",
    "Feature",
    "FeatureMeta",
    "NumericBinning",
    "SCHEMA",
    "SCHEMA_VERSION",
    "Scaling",
    "Scorecard",
    "Term",
    "build_scorecard",
    "category_string",
    "checksum_of",
    "dimension_ranges",
    "validate",
    "with_metrics",
]
