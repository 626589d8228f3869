"""Validation of raw rows against the event vocabulary, as one DuckDB query per batch.

Each raw column is parsed into its ledger type (``TRY_CAST``: a bad cell becomes NULL
instead of failing the batch), and every rule of ``domain.events`` becomes a condition.
The query is arranged so that a valid row costs little: the checks of a row's own type
are selected by a ``CASE`` on the type (DuckDB evaluates each branch only for its rows),
and the list of broken rules — ``field \\x1f reason \\x1f value`` strings — is built only
for rows that broke one. Doing this vectorized is what keeps validation near the speed of
a plain copy.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from openscore.domain.events import (
    COMMON_COLUMNS,
    EVENT_COLUMNS,
    EVENT_TYPES,
    TYPE_COLUMNS,
    Column,
    Kind,
)
from openscore.domain.sources import Source
from openscore.engines.duckdb import sql_literal

SEP = "\x1f"
MAX_ID = 128
MAX_TEXT = 512
EARLIEST = "1900-01-01"
LATEST_FUTURE = "2200-01-01"
#: clock skew allowed for "not in the future"
SKEW = timedelta(days=1)
TYPE_NAMES = tuple(t.value for t in EVENT_TYPES)

_TRUE = "('true', 't', '1', 'yes', 'y')"
_FALSE = "('false', 'f', '0', 'no', 'n')"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def _is_text(t: pa.DataType | None) -> bool:
    return t is not None and (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


class _Rules:
    """Rules for every row (``common``) and rules for the rows of one type."""

    def __init__(self) -> None:
        self.common: list[tuple[str, str]] = []  # (condition, error item)
        self.by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def add(
        self,
        condition: str,
        field: str,
        reason: str,
        value_sql: str = "NULL",
        *,
        types: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        msg = sql_literal(field + SEP + reason + SEP)
        value = f"coalesce(left(CAST({value_sql} AS VARCHAR), 120), '')"
        if types is None:
            self.common.append((condition, f"CASE WHEN {condition} THEN {msg} || {value} END"))
            return
        for t in types:
            guarded = (
                f'CASE WHEN "type" = {sql_literal(t)} AND ({condition}) THEN {msg} || {value} END'
            )
            self.by_type[t].append((condition, guarded))

    def sql(self) -> str:
        """``_errors``: the broken rules of a row (NULL when none), built only when broken."""
        branches = [f"WHEN {' OR '.join(f'({c})' for c, _ in self.common)} THEN true"]
        for t, rules in self.by_type.items():
            branches.append(
                f'WHEN "type" = {sql_literal(t)} THEN ({" OR ".join(f"({c})" for c, _ in rules)})'
            )
        broken = f"CASE {' '.join(branches)} ELSE false END"
        items = [i for _, i in self.common] + [
            i for rules in self.by_type.values() for _, i in rules
        ]
        return (
            f"CASE WHEN {broken} THEN list_filter([{', '.join(items)}], "
            "lambda x: x IS NOT NULL) END"
        )


def _text_expr(name: str, arrow_type: pa.DataType) -> str:
    """A text input as trimmed text, NULL when empty."""
    col = _q(name)
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        col = f"try(decode({col}))"
    return f"NULLIF(TRIM({col}), '')"


def _typed_expr(column: Column, t: pa.DataType | None, text: str) -> str:
    """SQL that parses the raw column into the ledger type (NULL when it cannot)."""
    col = _q(column.name)
    k = column.kind
    if t is None:
        return f"CAST(NULL AS {_duck(column)})"
    if not _is_text(t):
        # already typed (Parquet): convert where the type allows it, else parse its text
        if k == Kind.AMOUNT and (
            pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
        ):
            return f"CAST({col} AS DOUBLE)"
        if k == Kind.TIMESTAMP and pa.types.is_timestamp(t):
            return f"CAST({col} AS TIMESTAMPTZ)"
        if k == Kind.TIMESTAMP and pa.types.is_date(t):
            return f"CAST(CAST({col} AS TIMESTAMP) AS TIMESTAMPTZ)"
        if k == Kind.DATE and (pa.types.is_date(t) or pa.types.is_timestamp(t)):
            return f"CAST({col} AS DATE)"
        if k == Kind.BOOL and pa.types.is_boolean(t):
            return col
        if k == Kind.BOOL and pa.types.is_integer(t):
            return f"CASE {col} WHEN 1 THEN true WHEN 0 THEN false END"
        text = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
    if k in (Kind.ID, Kind.TEXT):
        return text
    if k == Kind.ENUM:
        return f"lower({text})"
    if k == Kind.CURRENCY:
        return f"upper({text})"
    if k == Kind.AMOUNT:
        return f"TRY_CAST({text} AS DOUBLE)"
    if k == Kind.TIMESTAMP:
        return f"TRY_CAST({text} AS TIMESTAMPTZ)"
    if k == Kind.DATE:
        return f"TRY_CAST({text} AS DATE)"
    if k == Kind.BOOL:
        return (
            f"CASE WHEN lower({text}) IN {_TRUE} THEN true "
            f"WHEN lower({text}) IN {_FALSE} THEN false END"
        )
    raise AssertionError(k)  # pragma: no cover


def _duck(column: Column) -> str:
    return {
        Kind.AMOUNT: "DOUBLE",
        Kind.TIMESTAMP: "TIMESTAMPTZ",
        Kind.DATE: "DATE",
        Kind.BOOL: "BOOLEAN",
    }.get(column.kind, "VARCHAR")


def validation_sql(
    source: str,
    raw_types: dict[str, pa.DataType],
    *,
    furnisher_id: str,
    file_index: int,
    now: datetime | None = None,
) -> str:
    """A SELECT over relation ``source`` giving typed ledger columns, ``_file``, ``_line``
    and ``_errors`` (the broken rules, empty when the row is valid)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    latest_past = sql_literal((now + SKEW).isoformat())
    rules = _Rules()
    inner: list[str] = []
    typed: dict[str, str] = {}
    raw: dict[str, str] = {}  # the value as given: NULL when absent or empty

    # inner query: each raw column parsed once; the outer query refers to it by name
    for column in EVENT_COLUMNS:
        t = raw_types.get(column.name)
        name = column.name
        if _is_text(t):
            tname = _q("__t_" + name)
            text = _text_expr(name, t)
            inner.append(f"{text} AS {tname}")
            raw[name] = tname
            if pa.types.is_binary(t) or pa.types.is_large_binary(t):
                inner.append(
                    f"{_q(name)} IS NOT NULL AND {text} IS NULL AS {_q('__bad_utf8_' + name)}"
                )
                rules.add(
                    _q("__bad_utf8_" + name),
                    name,
                    "not valid UTF-8 (is the file in another encoding?)",
                )
        elif t is not None:
            tname = _q("__t_" + name)
            inner.append(f"{_q(name)} AS {tname}")
            raw[name] = tname
        else:
            raw[name] = "CAST(NULL AS VARCHAR)"
        if name == "furnisher_id":
            typed[name] = sql_literal(furnisher_id)
            if t is not None:
                rules.add(
                    f"{raw[name]} IS NOT NULL AND CAST({raw[name]} AS VARCHAR) <> "
                    f"{sql_literal(furnisher_id)}",
                    "furnisher_id",
                    f"does not match --furnisher {furnisher_id!r}",
                    raw[name],
                )
            continue
        text_for_parse = raw[name] if _is_text(t) else ""
        inner.append(f"{_typed_expr(column, t, text_for_parse)} AS {_q(name)}")
        typed[name] = _q(name)

    for column in COMMON_COLUMNS:
        if column.name != "furnisher_id":
            _column_rules(
                rules,
                column,
                raw[column.name],
                typed[column.name],
                latest_past,
                types=None,
                required=True,
            )
    rules.add(
        f"{typed['type']} IS NOT NULL AND {typed['type']} NOT IN {_in_list(TYPE_NAMES)}",
        "type",
        f"unknown type; expected one of {', '.join(TYPE_NAMES)}",
        raw["type"],
    )
    sources = _in_list([s.value for s in Source])
    for etype, spec in EVENT_TYPES.items():
        rules.add(
            f"{typed['source']} IN {sources} AND {typed['source']} <> "
            f"{sql_literal(spec.source.value)}",
            "source",
            f"a {etype.value} event belongs to source {spec.source.value}",
            raw["source"],
            types=[etype.value],
        )

    for column in TYPE_COLUMNS:
        users = [t.value for t, s in EVENT_TYPES.items() if column.name in s.columns]
        needs = [t.value for t, s in EVENT_TYPES.items() if column.name in s.required]
        others = [t for t in TYPE_NAMES if t not in users]
        if raw[column.name] != "CAST(NULL AS VARCHAR)":
            rules.add(
                f"{raw[column.name]} IS NOT NULL",
                column.name,
                "not a field of this event type (leave it empty)",
                raw[column.name],
                types=others,
            )
        optional = [t for t in users if t not in needs]
        if needs:
            _column_rules(
                rules,
                column,
                raw[column.name],
                typed[column.name],
                latest_past,
                types=needs,
                required=True,
            )
        if optional:
            _column_rules(
                rules,
                column,
                raw[column.name],
                typed[column.name],
                latest_past,
                types=optional,
                required=False,
            )

    # rules across fields
    rules.add(
        f"{typed['counterparty_id']} = {typed['person_id']}",
        "counterparty_id",
        "a person cannot be connected to themselves",
        raw["counterparty_id"],
        types=["relationship"],
    )
    rules.add(
        f"{typed['expires_at']} <= {typed['occurred_at']}",
        "expires_at",
        "expires before the record occurred",
        raw["expires_at"],
        types=["public_record"],
    )
    rules.add(
        f"{typed['due_back']} < {typed['occurred_at']}",
        "due_back",
        "due back before the rental started",
        raw["due_back"],
        types=["rental"],
    )
    rules.add(
        f"{typed['returned_at']} < {typed['occurred_at']}",
        "returned_at",
        "returned before the rental started",
        raw["returned_at"],
        types=["rental"],
    )

    select = [f"{typed[c.name]} AS {_q(c.name)}" for c in EVENT_COLUMNS]
    select += [f"{int(file_index)} AS _file", "_line", f"{rules.sql()} AS _errors"]
    inner.append("_line")
    return f"SELECT {', '.join(select)} FROM (SELECT {', '.join(inner)} FROM {source}) AS parsed"


def _column_rules(
    rules: _Rules,
    column: Column,
    raw: str,
    typed: str,
    latest_past: str,
    *,
    types: list[str] | None,
    required: bool,
) -> None:
    name = column.name
    k = column.kind
    if raw == "CAST(NULL AS VARCHAR)":
        if required:
            rules.add("true", name, "required, but the file has no such column", types=types)
        return
    if required:
        rules.add(f"{raw} IS NULL", name, "required, but empty or missing", types=types)
    present = f"{raw} IS NOT NULL"

    def add(cond: str, reason: str) -> None:
        rules.add(f"{present} AND {cond}", name, reason, raw, types=types)

    if k in (Kind.ID, Kind.TEXT):
        limit = MAX_ID if k == Kind.ID else MAX_TEXT
        add(f"length({typed}) > {limit}", f"longer than {limit} characters")
        if k == Kind.ID:
            add(f"regexp_matches({typed}, '[\\x00-\\x1f\\x7f]')", "contains control characters")
    elif k == Kind.ENUM:
        if name != "type":  # the type has its own, more helpful message
            add(
                f"{typed} NOT IN {_in_list(column.choices)}",
                f"unknown value; expected one of {', '.join(column.choices)}",
            )
    elif k == Kind.CURRENCY:
        add(
            f"NOT regexp_full_match({typed}, '[A-Z]{{3}}')",
            "not an ISO 4217 currency code (three letters)",
        )
    elif k == Kind.AMOUNT:
        add(f"{typed} IS NULL", "not a number")
        add(f"(isnan({typed}) OR isinf({typed}))", "not a finite number")
        add(f"{typed} < 0", "negative amount")
    elif k in (Kind.TIMESTAMP, Kind.DATE):
        what = "an ISO 8601 date-time" if k == Kind.TIMESTAMP else "an ISO 8601 date (YYYY-MM-DD)"
        as_ts = typed if k == Kind.TIMESTAMP else f"CAST({typed} AS TIMESTAMPTZ)"
        add(f"{typed} IS NULL", f"not {what}")
        add(f"{as_ts} < CAST('{EARLIEST}' AS TIMESTAMPTZ)", "before 1900")
        if column.future_ok:
            add(
                f"{as_ts} >= CAST('{LATEST_FUTURE}' AS TIMESTAMPTZ)",
                "implausibly far in the future",
            )
        else:
            add(f"{as_ts} > CAST({latest_past} AS TIMESTAMPTZ)", "in the future")
    elif k == Kind.BOOL:
        add(f"{typed} IS NULL", "not true/false")
