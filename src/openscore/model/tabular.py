"""Tabular mode: any CSV / Parquet with a binary target becomes features + outcome.

It has to work on credit datasets nobody here has seen, without hand tuning, so the
choices are automatic and recorded (``training.excluded``) rather than silent:

- an unnamed index column (``Unnamed: 0``, an empty header, a 0..n-1 / 1..n counter),
  constant columns and id-like columns (a distinct value on every row) are dropped, and
  the CLI says so before training starts; a constant column that a dimensions map names
  is refused (the map asked for a feature that cannot be one);
- an obvious id (named like one, or whole numbers always increasing) with no ``--id``,
  a target that is not binary, and fewer than ``MIN_CLASS_ROWS`` of either class are
  refused before anything is trained, each with a message naming the column;
- protected attributes are never inputs (principle 3); found by name, see ``protected``;
- numbers written with missing markers (``?``, ``NA``, ``-``) are read as numbers;
- with no dimensions map every feature goes to ``credit_history`` (tabular datasets are
  almost all repayment data, and one dimension keeps every pair interaction possible).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from openscore.domain import Dimension
from openscore.errors import InputError
from openscore.model.format import FeatureMeta, category_string
from openscore.model.protected import DEFAULT_PROTECTED_ATTRIBUTES, ProtectedAttributes

#: strings that mean "no value" in numeric columns of public datasets
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none", "-", ".", "missing"})
#: target values read as *bad* when the user gives no --bad-value
BAD_WORDS = frozenset(
    {"1", "bad", "default", "defaulted", "yes", "y", "true", "t", "charged off", "delinquent"}
)
GOOD_WORDS = frozenset({"0", "good", "no", "n", "false", "f", "paid", "non-default", "current"})
#: rows of each class (goods and bads) a table needs before training starts: fewer and
#: the 70/30 split leaves a test part too small to measure a model on
MIN_CLASS_ROWS = 200
_UNNAMED = re.compile(r"^(unnamed: ?\d+|index|level_0|)$", re.IGNORECASE)


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file (by extension); a clear InputError when it cannot be."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(p)
        if suffix in {".csv", ".gz"}:
            return pd.read_csv(p)
        if suffix == ".tsv":
            return pd.read_csv(p, sep="\t")
        if suffix in {".txt", ""}:  # unknown delimiter: let the sniffer decide
            return pd.read_csv(p, sep=None, engine="python")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", path=str(p)) from exc
    raise InputError("unknown table format: use .csv or .parquet", path=str(p))


def binary_target(
    values: pd.Series, *, bad_value: Any = None, column: str | None = None
) -> np.ndarray:
    """The target as 0/1 with 1 = bad.

    With ``bad_value`` the rows equal to it (compared as strings) are bad. Without it:
    numbers 0/1 (1 bad) or booleans (True bad); two text values where one is a known
    *bad* word (``bad``, ``default``, ``yes``, ``1`` …) or the other a known *good* word.
    Anything else asks for ``--bad-value``.
    """
    name = column or str(values.name)
    if values.isna().any():
        n = int(values.isna().sum())
        raise InputError(f"target has {n} missing values; drop or fill those rows", field=name)
    distinct = pd.unique(values)
    if len(distinct) > 2 and bad_value is None:
        shown = ", ".join(map(str, distinct[:6]))
        raise InputError(
            f"target must be binary; it has {len(distinct)} distinct values ({shown}…)",
            field=name,
        )
    if bad_value is not None:
        as_text = values.astype(str).str.strip()
        y = (as_text == str(bad_value).strip()).to_numpy()
        if not y.any():
            raise InputError(f"no row has the bad value {bad_value!r}", field=name)
        if len(distinct) > 2:
            raise InputError(
                f"target must be binary; it has {len(distinct)} distinct values", field=name
            )
    elif pd.api.types.is_bool_dtype(values):
        y = values.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(values):
        if not set(np.unique(values.to_numpy())) <= {0, 1}:
            raise InputError(
                "numeric target must be 0/1 (1 = bad); give --bad-value for other codes",
                field=name,
            )
        y = values.to_numpy() == 1
    else:
        text = values.astype(str).str.strip().str.lower()
        labels = set(text.unique())
        bad = labels & BAD_WORDS
        good = labels & GOOD_WORDS
        if len(labels) == 2 and len(bad) == 1 and not (labels - bad) & BAD_WORDS:
            y = (text == bad.pop()).to_numpy()
        elif len(labels) == 2 and len(good) == 1 and not (labels - good) & GOOD_WORDS:
            y = (text != good.pop()).to_numpy()
        else:
            raise InputError(
                f"cannot tell which of {sorted(labels)} is the bad outcome; give --bad-value",
                field=name,
            )
    y = y.astype(np.int8)
    if y.min() == y.max():
        raise InputError("target has one class only; training needs goods and bads", field=name)
    outcomes: np.ndarray = y
    return outcomes


@dataclass
class TabularData:
    """Features, target and what was dropped (column → why)."""

    X: pd.DataFrame
    y: np.ndarray
    meta: dict[str, FeatureMeta]
    excluded: dict[str, str] = field(default_factory=dict)
    ids: pd.Series | None = None
    dates: pd.Series | None = None
    protected_in_model: list[str] = field(default_factory=list)


def _coerce_numeric(col: pd.Series) -> pd.Series | None:
    """A text column whose non-missing values are all numbers, as floats (else None)."""
    text = col.dropna().astype(str).str.strip()
    if text.empty:
        return None
    missing = text.str.lower().isin(MISSING_TOKENS)
    nums = pd.to_numeric(text[~missing], errors="coerce")
    if nums.isna().any() or nums.empty:
        return None
    out = pd.to_numeric(col.astype(str).str.strip(), errors="coerce")
    return out.astype("float64")


def _is_unnamed_index(name: str, col: pd.Series) -> bool:
    if _UNNAMED.match(str(name).strip()):
        return True
    return False


def _is_counter(col: pd.Series) -> bool:
    if not pd.api.types.is_integer_dtype(col) or col.isna().any() or len(col) < 3:
        return False
    v = col.to_numpy()
    return bool(np.all(np.diff(v) == 1) and v[0] in (0, 1))


_ID_NAMES = frozenset({"id", "key", "uuid", "number", "no", "identifier"})


def _named_like_id(name: str) -> bool:
    norm = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")
    return (
        norm in _ID_NAMES
        or norm.endswith(("_id", "_key", "_no", "_uuid"))
        or (norm.startswith(("id_", "key_")))
    )


def obvious_id(name: str, col: pd.Series) -> str | None:
    """Why ``col`` is obviously an identifier (None if it is not).

    Obvious: a distinct value on every row that is named like an id (``ID``,
    ``customer_id``, ``loan_no`` …), or whole numbers that only go up (a counter or an
    account number issued in order). Such a column must never become a feature: a model
    that learns from it learns when someone became a client, or nothing at all.
    """
    n = len(col)
    if n < 20 or col.isna().any() or col.nunique() != n or pd.api.types.is_bool_dtype(col):
        return None
    if _named_like_id(name):
        return "named like an id, a distinct value on every row"
    if pd.api.types.is_numeric_dtype(col):
        v = col.to_numpy(dtype=float)
        if np.all(np.mod(v, 1) == 0) and np.all(np.diff(v) > 0):
            return "whole numbers, distinct on every row and always increasing"
    return None


def _is_id_like(name: str, col: pd.Series) -> bool:
    """A distinct value per row that is text or an integer counter / named like an id."""
    n = len(col)
    if n < 20 or col.isna().any():
        return False
    if col.nunique() != n:
        return False
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return True
    if pd.api.types.is_integer_dtype(col) or np.all(np.mod(col.to_numpy(dtype=float), 1) == 0):
        norm = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")
        if norm in {"id", "key", "uuid", "number", "no"} or norm.endswith(("_id", "_key", "_no")):
            return True
        sorted_v = np.sort(col.to_numpy(dtype=float))
        return bool(np.all(np.diff(sorted_v) == 1))
    return False


def read_dimensions_map(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Parse a YAML ``{dimension: [column, ...]}`` map, checking dimension names."""
    p = Path(path)
    if not p.exists():
        raise InputError("dimensions map not found", path=str(p))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=str(p)) from exc
    return check_dimensions_map(data, path=str(p))


def check_dimensions_map(data: Any, *, path: str | None = None) -> dict[str, list[str]]:
    if not isinstance(data, Mapping) or not data:
        raise InputError("a dimensions map is {dimension: [column, ...]}", path=path)
    valid = {d.value for d in Dimension}
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for dim, cols in data.items():
        if dim not in valid:
            raise InputError(
                f"unknown dimension {dim!r}; use one of {', '.join(sorted(valid))}", path=path
            )
        if isinstance(cols, str):
            cols = [cols]
        if not isinstance(cols, list) or not all(isinstance(c, str | int) for c in cols):
            raise InputError(f"{dim}: a list of column names is expected", path=path)
        for c in cols:
            c = str(c)
            if c in seen:
                raise InputError(
                    f"column {c!r} is in {seen[c]} and {dim}: every feature belongs to "
                    "exactly one dimension",
                    path=path,
                )
            seen[c] = dim
        out[dim] = [str(c) for c in cols]
    return out


def prepare_tabular(
    df: pd.DataFrame,
    target: str,
    *,
    id_column: str | None = None,
    dimensions: Mapping[str, Sequence[str]] | None = None,
    bad_value: Any = None,
    date_column: str | None = None,
    audit_only: bool = False,
    protected: ProtectedAttributes = DEFAULT_PROTECTED_ATTRIBUTES,
    monotonic: Mapping[str, str] | None = None,
    min_class_rows: int = MIN_CLASS_ROWS,
) -> TabularData:
    """Split a table into model inputs and target, dropping what must not be an input.

    Protected columns named in ``dimensions`` raise InputError unless ``audit_only``;
    protected columns merely present are excluded (and reported in ``excluded``).
    """
    if target not in df.columns:
        raise InputError(
            f"target column {target!r} is not in the table (columns: "
            f"{', '.join(map(str, df.columns[:20]))})",
            field=target,
        )
    if id_column is not None and id_column not in df.columns:
        raise InputError(f"id column {id_column!r} is not in the table", field=id_column)
    if date_column is not None and date_column not in df.columns:
        raise InputError(f"date column {date_column!r} is not in the table", field=date_column)
    y = binary_target(df[target], bad_value=bad_value, column=target)
    counts = {"bad": int(y.sum()), "good": int(len(y) - y.sum())}
    short = {k: v for k, v in counts.items() if v < min_class_rows}
    if short:
        listed = " and ".join(f"{v} {k}" for k, v in short.items())
        raise InputError(
            f"only {listed} rows; training needs at least {min_class_rows} goods and "
            f"{min_class_rows} bads (a test part of 30 % must still hold enough of each)",
            field=target,
        )
    if id_column is None:
        # with a dimensions map only the columns it names can become features
        named_columns = {str(c) for cols in (dimensions or {}).values() for c in cols}
        for c in df.columns:
            if c in (target, date_column) or _is_unnamed_index(str(c), df[c]):
                continue
            if dimensions is not None and str(c) not in named_columns:
                continue
            why = obvious_id(str(c), df[c])
            if why:
                raise InputError(
                    f"column {c!r} looks like an id ({why}); an id is never a feature: "
                    f"give it as --id {c} (id_column={c!r}), or drop the column",
                    field=str(c),
                )
    reserved = {target, id_column, date_column} - {None}
    excluded: dict[str, str] = {}
    meta: dict[str, FeatureMeta] = {}
    protected_found = protected.find([c for c in df.columns if c not in reserved])

    if dimensions is not None:
        named = {str(c): d for d, cols in dimensions.items() for c in cols}
        missing = [c for c in named if c not in df.columns]
        if missing:
            raise InputError(
                f"the dimensions map names columns the table lacks: {', '.join(missing)}"
            )
        bad = [c for c in named if c in reserved]
        if bad:
            raise InputError(f"the target/id/date column cannot be a feature: {', '.join(bad)}")
        named_protected = {c: protected_found[c] for c in named if c in protected_found}
        if named_protected and not audit_only:
            listed = ", ".join(f"{c} ({k})" for c, k in named_protected.items())
            raise InputError(
                f"protected attributes are never model inputs: {listed}. Remove them from "
                "the dimensions map, or train with --audit-only for a fairness audit model "
                "that cannot score people"
            )
        candidates = list(named)
        for c in df.columns:
            if c not in named and c not in reserved:
                excluded[str(c)] = "not in the dimensions map"
    else:
        named = {}
        named_protected = {}
        candidates = [str(c) for c in df.columns if c not in reserved]

    X = pd.DataFrame(index=df.index)
    for c in candidates:
        col = df[c]
        if c in protected_found and c not in named_protected:
            excluded[c] = f"protected attribute ({protected_found[c]})"
            continue
        if _is_unnamed_index(c, col) or (dimensions is None and _is_counter(col)):
            excluded[c] = "unnamed index or row counter"
            continue
        if pd.api.types.is_datetime64_any_dtype(col):
            excluded[c] = "date/time column (give it as --date for an out-of-time split)"
            continue
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            coerced = None if pd.api.types.is_bool_dtype(col) else _coerce_numeric(col)
            if coerced is not None:
                col = coerced
        if col.nunique(dropna=True) <= 1:
            values = [v.item() if isinstance(v, np.generic) else v for v in col.dropna().unique()]
            one = f"one value ({values[0]!r})" if values else "no value"
            if c in named:
                raise InputError(
                    f"the dimensions map names column {c!r}, which has {one} on every row: "
                    "a feature with one value cannot rank anyone; remove it from the map",
                    field=c,
                )
            excluded[c] = f"constant: {one} on every row, nothing to learn from"
            continue
        if _is_id_like(c, col):
            excluded[c] = "id-like (a distinct value on every row)"
            continue
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            col = col.astype("float64").replace([np.inf, -np.inf], np.nan)
            ftype = "numeric"
        else:
            col = col.astype("object").where(col.notna(), None)
            col = col.map(lambda v: None if v is None else category_string(v).strip())
            ftype = "categorical"
        X[c] = col
        trend = (monotonic or {}).get(c)
        if trend is None:
            trend = "auto" if ftype == "numeric" else "none"
        meta[c] = FeatureMeta(
            dimension=named.get(c, Dimension.CREDIT_HISTORY.value),
            type=ftype,  # type: ignore[arg-type]
            monotonic=trend,  # type: ignore[arg-type]
            description=f"{c} (column of the training table)",
        )
    if not meta:
        raise InputError("no usable feature columns remain after the automatic exclusions")
    return TabularData(
        X=X,
        y=y,
        meta=meta,
        excluded=excluded,
        ids=df[id_column] if id_column else None,
        dates=pd.to_datetime(df[date_column]) if date_column else None,
        protected_in_model=sorted(named_protected),
    )


def fingerprint(X: pd.DataFrame, y: np.ndarray) -> str:
    """sha256 over the training rows (values and target), independent of memory layout."""
    import hashlib

    h = hashlib.sha256()
    h.update(",".join(map(str, X.columns)).encode())
    hashed = pd.util.hash_pandas_object(X.astype(object), index=False).to_numpy()
    h.update(hashed.tobytes())
    h.update(np.asarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()


def coerce_for_model(df: pd.DataFrame, features: Sequence[Any]) -> pd.DataFrame:
    """Give a scoring table's feature columns the types training gave them.

    Numeric features: numbers, with the same missing markers as training (``?``, ``NA``…);
    any other text is an InputError naming the column. Categorical features: stripped
    strings. Columns that are not features are left alone.
    """
    out = df.copy()
    for f in features:
        col = out[f.name]
        if f.type == "numeric":
            if pd.api.types.is_bool_dtype(col):
                out[f.name] = col.astype("float64")
            elif not pd.api.types.is_numeric_dtype(col):
                coerced = _coerce_numeric(col)
                if coerced is None and col.notna().any():
                    raise InputError("a numeric feature holds text", field=f.name)
                out[f.name] = coerced if coerced is not None else col.astype("float64")
            else:
                out[f.name] = col.astype("float64").replace([np.inf, -np.inf], np.nan)
        else:
            obj = col.astype("object").where(col.notna(), None)
            out[f.name] = obj.map(
                lambda v: None if v is None else category_string(v).strip()
            ).astype(object)
    return out
