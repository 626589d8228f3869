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
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from openscore.domain import Dimension
from openscore.errors import InputError, SchemaVersionError

SCHEMA = "openscore.scorecard"
SCHEMA_VERSION = 1
METHODS = ("scorecard", "ebm", "expert")
MONOTONIC = ("ascending", "descending", "none")
FEATURE_TYPES = ("numeric", "categorical")

FeatureType = Literal["numeric", "categorical"]
Monotonic = Literal["ascending", "descending", "none"]


@dataclass(frozen=True, slots=True)
class Scaling:
    """Points-to-double-the-odds scaling: ``score = offset + factor * ln(good:bad odds)``."""

    base_score: float = 600.0
    base_odds: float = 20.0
    pdo: float = 40.0
    score_min: int = 350
    score_max: int = 950

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
        return cls(s.base_score, s.base_odds, s.pdo, s.score_min, s.score_max)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_score": self.base_score,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
            "score_min": self.score_min,
            "score_max": self.score_max,
        }


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
        return {"type": "numeric", "edges": [float(v) for v in self.edges]}


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
        return {"type": "categorical", "groups": [list(g) for g in self.groups]}


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
        return {
            "name": self.name,
            "dimension": self.dimension,
            "type": self.type,
            "description": self.description,
            "improve": self.improve,
            "monotonic": self.monotonic,
        }


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
        points: Any
        if self.is_pair:
            points = [[int(v) for v in row] for row in self.points]
        else:
            points = [int(v) for v in self.points]
        return {
            "name": self.name,
            "features": list(self.features),
            "dimension": self.dimension,
            "binnings": [b.to_dict() for b in self.binnings],
            "points": points,
            "labels": [list(x) if isinstance(x, list | tuple) else x for x in self.labels],
            "reason": self.reason,
            "improve": self.improve,
        }


@dataclass(frozen=True, slots=True)
class DimensionRange:
    min_points: int
    max_points: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"min_points": self.min_points, "max_points": self.max_points, "weight": self.weight}


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
        return {
            "schema": SCHEMA,
            "schema_version": self.schema_version,
            "model_id": self.model_id,
            "method": self.method,
            "created_at": self.created_at,
            "audit_only": self.audit_only,
            "id_column": self.id_column,
            "target": self.target,
            "scaling": self.scaling.to_dict(),
            "intercept_points": int(self.intercept_points),
            "features": [f.to_dict() for f in self.features],
            "terms": [t.to_dict() for t in self.terms],
            "dimensions": {k: v.to_dict() for k, v in self.dimensions.items()},
            "training": _json_safe(self.training),
            "metrics": _json_safe(self.metrics),
        }

    def to_dict(self) -> dict[str, Any]:
        body = self._body()
        body["checksum"] = checksum_of(body)
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Validate, then write atomically (temp file + rename): never a half-written model."""
        validate(self)
        return write_atomic(Path(path), self.to_json())

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
        try:
            card = _parse(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"malformed scorecard: {exc!r}", path=path) from exc
        validate(card, path=path)
        return card

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


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` through a temp file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


def _parse_binning(d: Mapping[str, Any]) -> Binning:
    if d["type"] == "numeric":
        return NumericBinning(tuple(float(e) for e in d["edges"]))
    if d["type"] == "categorical":
        return CategoricalBinning(tuple(tuple(str(c) for c in g) for g in d["groups"]))
    raise ValueError(f"unknown binning type {d['type']!r}")


def _parse(data: Mapping[str, Any]) -> Scorecard:
    terms = []
    for t in data["terms"]:
        pts = t["points"]
        points = tuple(tuple(row) for row in pts) if len(t["features"]) == 2 else tuple(pts)
        labels = tuple(tuple(x) if isinstance(x, list) else x for x in t.get("labels", []))
        terms.append(
            Term(
                name=t["name"],
                features=tuple(t["features"]),
                dimension=t["dimension"],
                binnings=tuple(_parse_binning(b) for b in t["binnings"]),
                points=points,
                labels=labels,
                reason=t.get("reason", ""),
                improve=t.get("improve", ""),
            )
        )
    return Scorecard(
        model_id=data["model_id"],
        method=data["method"],
        created_at=data["created_at"],
        scaling=Scaling(**data["scaling"]),
        intercept_points=data["intercept_points"],
        features=tuple(Feature(**f) for f in data["features"]),
        terms=tuple(terms),
        dimensions={k: DimensionRange(**v) for k, v in data["dimensions"].items()},
        training=dict(data.get("training") or {}),
        metrics=dict(data.get("metrics") or {}),
        audit_only=bool(data.get("audit_only", False)),
        id_column=data.get("id_column"),
        target=data.get("target"),
        schema_version=data["schema_version"],
    )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate(card: Scorecard, *, path: str | None = None) -> None:
    """Check every rule of the format; raise InputError naming the first one broken."""

    def fail(message: str) -> None:
        raise InputError(message, path=path)

    dims = {d.value for d in Dimension}
    if card.method not in METHODS:
        fail(f"method {card.method!r} is not one of {', '.join(METHODS)}")
    if not _is_int(card.intercept_points):
        fail("intercept_points must be an integer")
    if card.scaling.score_min >= card.scaling.score_max or card.scaling.pdo <= 0:
        fail("scaling: score_min must be below score_max and pdo positive")
    names = [f.name for f in card.features]
    if len(set(names)) != len(names):
        fail("feature names must be unique")
    by_name = {f.name: f for f in card.features}
    for f in card.features:
        if f.dimension not in dims:
            fail(f"feature {f.name!r}: unknown dimension {f.dimension!r}")
        if f.type not in FEATURE_TYPES:
            fail(f"feature {f.name!r}: type must be numeric or categorical")
        if f.monotonic not in MONOTONIC:
            fail(f"feature {f.name!r}: monotonic must be one of {', '.join(MONOTONIC)}")
    term_names = [t.name for t in card.terms]
    if len(set(term_names)) != len(term_names):
        fail("term names must be unique")
    for t in card.terms:
        where = f"term {t.name!r}"
        if len(t.features) not in (1, 2) or len(t.binnings) != len(t.features):
            fail(f"{where}: one or two features, one binning each")
        for fname, b in zip(t.features, t.binnings, strict=True):
            if fname not in by_name:
                fail(f"{where}: feature {fname!r} is not among the model's features")
            if by_name[fname].type != b.type:
                fail(f"{where}: binning type {b.type} does not match feature {fname!r}")
            if by_name[fname].dimension != t.dimension:
                fail(
                    f"{where}: feature {fname!r} belongs to {by_name[fname].dimension}, "
                    f"not {t.dimension} (interactions stay within one dimension)"
                )
            if isinstance(b, NumericBinning):
                if any(not math.isfinite(e) for e in b.edges) or any(
                    a >= c for a, c in zip(b.edges, b.edges[1:], strict=False)
                ):
                    fail(f"{where}: edges must be finite and strictly increasing")
            else:
                seen: set[str] = set()
                for g in b.groups:
                    if seen & set(g):
                        fail(f"{where}: a category appears in two groups")
                    seen |= set(g)
        if t.is_pair:
            if len(t.points) != t.binnings[0].size or any(
                len(row) != t.binnings[1].size for row in t.points
            ):
                fail(f"{where}: points grid must be {t.binnings[0].size}×{t.binnings[1].size}")
        elif len(t.points) != t.binnings[0].size:
            fail(f"{where}: {t.binnings[0].size} points expected, got {len(t.points)}")
        for idx, v in t.cells():
            if not _is_int(v):
                fail(f"{where}: points must be integers")
            if t.is_missing(idx) and v != 0:
                fail(f"{where}: missing is neutral, its points must be 0 (got {v})")
    for d, r in card.dimensions.items():
        if d not in dims:
            fail(f"unknown dimension {d!r} in dimensions")
        expect_min = sum(t.min_points for t in card.terms if t.dimension == d)
        expect_max = sum(t.max_points for t in card.terms if t.dimension == d)
        if (r.min_points, r.max_points) != (expect_min, expect_max):
            fail(f"dimension {d}: min/max points do not match its terms")


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
    "write_atomic",
]
