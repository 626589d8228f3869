"""Validation of raw rows against the event vocabulary, as one DuckDB query per batch.

Each raw column is parsed into its ledger type (``TRY_CAST``: a bad cell becomes NULL
instead of failing the batch), and every rule of ``domain.events`` becomes a condition.
The query is arranged so that a valid row costs little: the checks of a row's own type
are selected by a ``CASE`` on the type (DuckDB evaluates each branch only for its rows),
and the list of broken rules — ``field \\x1f reason \\x1f value`` strings — is built only
for rows that broke one. Doing this vectorized is what keeps validation near the speed of
a plain copy.

Per batch, :func:`column_facts` looks at each text column's bytes once (in Arrow, not per
cell): a column whose values have no blank at either end needs no ``TRIM``; no control
byte, no control-character check; no value longer than the limit (in bytes), no length
check; no capital letter (or no small one) and nothing outside ASCII, no ``lower()``
(``upper()``); a column of empty cells only, no parsing at all. A rule is left out only
where it cannot be broken in the batch, so the rejections are the same.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openscore.domain.events import (
    COMMON_COLUMNS,
    EVENT_COLUMNS,
    EVENT_TYPES,
    MAX_AMOUNT,
    TYPE_COLUMNS,
    Column,
    Kind,
)
from openscore.domain.sources import Source
from openscore.engines.duckdb import sql_identifier as _q
from openscore.engines.duckdb import sql_literal
from openscore.ingest.readers import ascii_bytes, text_buffers

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


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What a batch's text column can hold, found from its bytes (see :func:`column_facts`).
    Every flag errs on the side of "may": a rule is left out only when it cannot apply."""

    #: no value has a non-empty text (every cell is empty or missing)
    empty: bool = False
    #: some value starts or ends with a space (``TRIM`` has something to do)
    blank_edges: bool = True
    #: a byte 0x00-0x1f or 0x7f occurs (a control character)
    control: bool = True
    #: a byte A-Z or >= 0x80 occurs (``lower()`` may change something)
    upper: bool = True
    #: a byte a-z or >= 0x80 occurs (``upper()`` may change something)
    lower: bool = True
    #: the longest value in bytes (>= its length in characters)
    max_bytes: int | None = None
    #: every distinct value is a valid currency code (checked only for few distinct values)
    currency_ok: bool = False


#: each event column's kind
_KINDS = {c.name: c.kind for c in EVENT_COLUMNS}
#: columns whose bytes are counted (ids: control characters; enumerations: letter case)
_BYTE_KINDS = (Kind.ID, Kind.ENUM, Kind.BOOL, Kind.CURRENCY)
_CURRENCY = re.compile("[A-Z]{3}")
_EMPTY = ColumnFacts(
    empty=True, blank_edges=False, control=False, upper=False, lower=False, max_bytes=0
)


def column_facts(table: pa.Table) -> dict[str, ColumnFacts]:
    """:class:`ColumnFacts` of the table's plain text columns (``string``/``large_string``)
    and of its columns without a value; other columns have none (every rule applies)."""
    out: dict[str, ColumnFacts] = {}
    for f in table.schema:
        if f.name not in _KINDS:
            continue
        col = table.column(f.name)
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            out[f.name] = _facts(col, _KINDS[f.name])
        elif col.null_count == len(col):
            out[f.name] = _EMPTY
    return out


#: what :func:`assumed_facts` takes a text column to hold, by kind: no blank at either end,
#: ids without control characters and within their length, enumerations in small letters,
#: currencies valid as given (the flags that do not matter for a kind stay "may")
_CLEAN = {
    Kind.ID: ColumnFacts(blank_edges=False, control=False, max_bytes=MAX_ID),
    Kind.TEXT: ColumnFacts(blank_edges=False, max_bytes=MAX_TEXT),
    Kind.ENUM: ColumnFacts(blank_edges=False, upper=False),
    Kind.CURRENCY: ColumnFacts(blank_edges=False, lower=False, currency_ok=True),
}


def assumed_facts(raw_types: dict[str, pa.DataType]) -> dict[str, ColumnFacts]:
    """Facts for validating a file before its values are seen (DuckDB reading a Parquet
    file straight into validation): every plain text column of ids, free text,
    enumerations or currencies taken to be clean (``_CLEAN``). Those are the columns whose
    validated value is the text as given (or NULL for an empty one), so
    :func:`broken_assumption` can check the assumption on the validated rows afterwards."""
    return {
        name: _CLEAN[_KINDS[name]]
        for name, t in raw_types.items()
        if name in _KINDS
        and name != "furnisher_id"  # compared as given, never parsed
        and _KINDS[name] in _CLEAN
        and (pa.types.is_string(t) or pa.types.is_large_string(t))
    }


def broken_assumption(assumed: dict[str, ColumnFacts], validated: pa.Table) -> str | None:
    """The first column of ``assumed`` whose values in ``validated`` (the validation's
    output for those facts) hold something the facts said they could not, or None: then
    validating with the facts left out no rule that could be broken, and the rows are
    exactly what the full rules would give."""
    for name, said in assumed.items():
        actual = _facts(validated.column(name), _KINDS[name])
        if not _within(actual, said):
            return name
    return None


def _within(actual: ColumnFacts, said: ColumnFacts) -> bool:
    """Whether every "may" of ``actual`` is a "may" of ``said`` too (a column without a
    value breaks nothing)."""
    if actual.empty:
        return True
    return (
        not said.empty
        and (said.blank_edges or not actual.blank_edges)
        and (said.control or not actual.control)
        and (said.upper or not actual.upper)
        and (said.lower or not actual.lower)
        and (said.max_bytes is None or (actual.max_bytes or 0) <= said.max_bytes)
        and (actual.currency_ok or not said.currency_ok)
    )


def _facts(col: pa.ChunkedArray, kind: Kind) -> ColumnFacts:
    """Found with a few passes of compares and ``any`` over the column's bytes (seven times
    faster than counting every byte value with ``bincount``), each only where its kind's
    rules use it: control characters for ids, capitals for enumerations and booleans,
    small letters for currencies; the rest stays "may"."""
    max_bytes = 0
    edges = control = upper = lower = high = False
    for chunk in col.chunks:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        offsets, data = text_buffers(chunk)
        lengths = np.diff(offsets)
        longest = int(lengths.max()) if len(lengths) else 0
        if longest == 0 or len(data) == 0:
            continue
        max_bytes = max(max_bytes, longest)
        used = data[offsets[0] : offsets[-1]]
        beyond = not ascii_bytes(used)
        high = high or beyond
        # a blank or a control byte anywhere (else no value can start or end with one)
        blank = bool((used <= 0x20).any())
        if blank or beyond:
            # TRIM removes spaces (and other Unicode space separators, all beyond ASCII):
            # any value that starts or ends with a byte <= 0x20 or >= 0x80 may need it
            filled = lengths > 0
            first = data[offsets[:-1][filled]]
            last = data[offsets[1:][filled] - 1]
            edges = edges or bool(
                ((first <= 0x20) | (first >= 0x80) | (last <= 0x20) | (last >= 0x80)).any()
            )
        if kind == Kind.ID:
            control = control or (blank and bool((used < 32).any())) or bool((used == 127).any())
        elif kind in (Kind.ENUM, Kind.BOOL):
            upper = upper or bool(((used - np.uint8(65)) < 26).any())
        elif kind == Kind.CURRENCY:
            lower = lower or bool(((used - np.uint8(97)) < 26).any())
    if max_bytes == 0:
        return _EMPTY
    if kind not in _BYTE_KINDS:
        return ColumnFacts(blank_edges=edges, max_bytes=max_bytes)
    currency_ok = False
    if kind == Kind.CURRENCY:
        values = pc.unique(col)
        if len(values) <= 1000:
            currency_ok = all(
                v is None
                or v.strip(" ") == ""
                or (v.isascii() and _CURRENCY.fullmatch(v.strip(" ").upper()) is not None)
                for v in values.to_pylist()
            )
    return ColumnFacts(
        blank_edges=edges,
        control=control if kind == Kind.ID else True,
        upper=high or upper if kind in (Kind.ENUM, Kind.BOOL) else True,
        lower=high or lower if kind == Kind.CURRENCY else True,
        max_bytes=max_bytes,
        currency_ok=currency_ok,
    )


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


def _text_expr(name: str, arrow_type: pa.DataType, facts: ColumnFacts | None = None) -> str:
    """A text input as trimmed text, NULL when empty."""
    col = _q(name)
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        col = f"try(decode({col}))"
    if facts is not None and facts.empty:
        return "CAST(NULL AS VARCHAR)"
    if facts is not None and not facts.blank_edges:
        return f"NULLIF({col}, '')"
    return f"NULLIF(TRIM({col}), '')"


def _typed_expr(
    column: Column, t: pa.DataType | None, text: str, facts: ColumnFacts | None = None
) -> str:
    """SQL that parses the raw column into the ledger type (NULL when it cannot)."""
    col = _q(column.name)
    k = column.kind
    if t is None or (facts is not None and facts.empty):
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
        return text if facts is not None and not facts.upper else f"lower({text})"
    if k == Kind.CURRENCY:
        return text if facts is not None and not facts.lower else f"upper({text})"
    if k == Kind.AMOUNT:
        return f"TRY_CAST({text} AS DOUBLE)"
    if k == Kind.TIMESTAMP:
        return f"TRY_CAST({text} AS TIMESTAMPTZ)"
    if k == Kind.DATE:
        return f"TRY_CAST({text} AS DATE)"
    if k == Kind.BOOL:
        low = text if facts is not None and not facts.upper else f"lower({text})"
        return f"CASE WHEN {low} IN {_TRUE} THEN true WHEN {low} IN {_FALSE} THEN false END"
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
    facts: dict[str, ColumnFacts] | None = None,
) -> str:
    """A SELECT over relation ``source`` giving typed ledger columns, ``_file``, ``_line``
    and ``_errors`` (the broken rules, empty when the row is valid). ``facts`` (from
    :func:`column_facts` on the same batch) leave out the work that cannot matter."""
    facts = facts or {}
    now = (now or datetime.now(UTC)).astimezone(UTC)
    latest_past = now + SKEW
    rules = _Rules()
    inner: list[str] = []
    typed: dict[str, str] = {}
    raw: dict[str, str] = {}  # the value as given: NULL when absent or empty
    #: a text column read as bytes: its flag of a cell that is not UTF-8 (then its text
    #: is NULL, but the cell is not empty: only that rule is broken)
    bad_utf8: dict[str, str] = {}

    # inner query: each raw column parsed once; the outer query refers to it by name
    for column in EVENT_COLUMNS:
        t = raw_types.get(column.name)
        name = column.name
        if _is_text(t):
            tname = _q("__t_" + name)
            text = _text_expr(name, t, facts.get(name))
            inner.append(f"{text} AS {tname}")
            raw[name] = tname
            if pa.types.is_binary(t) or pa.types.is_large_binary(t):
                bad_utf8[name] = _q("__bad_utf8_" + name)
                inner.append(f"{_q(name)} IS NOT NULL AND {text} IS NULL AS {bad_utf8[name]}")
                rules.add(
                    bad_utf8[name],
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
        inner.append(f"{_typed_expr(column, t, text_for_parse, facts.get(name))} AS {_q(name)}")
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
                facts=facts.get(column.name),
                bad_utf8=bad_utf8.get(column.name),
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
        empty = column.name in facts and facts[column.name].empty
        if raw[column.name] != "CAST(NULL AS VARCHAR)" and not empty:
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
                facts=facts.get(column.name),
                bad_utf8=bad_utf8.get(column.name),
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
                facts=facts.get(column.name),
                bad_utf8=bad_utf8.get(column.name),
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
    latest_past: datetime,
    *,
    types: list[str] | None,
    required: bool,
    facts: ColumnFacts | None = None,
    bad_utf8: str | None = None,
) -> None:
    name = column.name
    k = column.kind
    if raw == "CAST(NULL AS VARCHAR)":
        if required:
            rules.add("true", name, "required, but the file has no such column", types=types)
        return
    if required:
        missing = f"{raw} IS NULL" if bad_utf8 is None else f"{raw} IS NULL AND NOT {bad_utf8}"
        rules.add(missing, name, "required, but empty or missing", types=types)
    present = f"{raw} IS NOT NULL"

    def add(cond: str, reason: str) -> None:
        rules.add(f"{present} AND {cond}", name, reason, raw, types=types)

    if facts is not None and facts.empty:
        return  # never present: only the rules above can be broken
    if k in (Kind.ID, Kind.TEXT):
        limit = MAX_ID if k == Kind.ID else MAX_TEXT
        if facts is None or facts.max_bytes is None or facts.max_bytes > limit:
            add(f"length({typed}) > {limit}", f"longer than {limit} characters")
        if k == Kind.ID and (facts is None or facts.control):
            add(f"regexp_matches({typed}, '[\\x00-\\x1f\\x7f]')", "contains control characters")
    elif k == Kind.ENUM:
        if name != "type":  # the type has its own, more helpful message
            add(
                f"{typed} NOT IN {_in_list(column.choices)}",
                f"unknown value; expected one of {', '.join(column.choices)}",
            )
    elif k == Kind.CURRENCY:
        if facts is not None and facts.currency_ok:
            return
        add(
            f"NOT regexp_full_match({typed}, '[A-Z]{{3}}')",
            "not an ISO 4217 currency code (three letters)",
        )
    elif k == Kind.AMOUNT:
        add(f"{typed} IS NULL", "not a number")
        add(f"(isnan({typed}) OR isinf({typed}))", "not a finite number")
        add(f"{typed} < 0", "negative amount")
        add(f"{typed} > {MAX_AMOUNT!r}", f"implausibly large (over {MAX_AMOUNT:,.0f})")
    elif k in (Kind.TIMESTAMP, Kind.DATE):
        if k == Kind.TIMESTAMP:
            what = "an ISO 8601 date-time"
            earliest = f"CAST('{EARLIEST}' AS TIMESTAMPTZ)"
            far = f"CAST('{LATEST_FUTURE}' AS TIMESTAMPTZ)"
            past = f"CAST({sql_literal(latest_past.isoformat())} AS TIMESTAMPTZ)"
        else:
            # A date is compared with dates, not cast to a time per row (a cast to
            # TIMESTAMPTZ costs DuckDB a time zone lookup: about 0.1 us a value). The same
            # answers: a date's midnight UTC is before 1900-01-01 00:00 UTC exactly when
            # the date is before 1900-01-01, and after the latest time allowed exactly
            # when the date is after that time's date (UTC).
            what = "an ISO 8601 date (YYYY-MM-DD)"
            earliest = f"DATE '{EARLIEST}'"
            far = f"DATE '{LATEST_FUTURE}'"
            past = f"DATE '{latest_past.astimezone(UTC).date().isoformat()}'"
        add(f"{typed} IS NULL", f"not {what}")
        add(f"{typed} < {earliest}", "before 1900")
        if column.future_ok:
            add(f"{typed} >= {far}", "implausibly far in the future")
        else:
            add(f"{typed} > {past}", "in the future")
    elif k == Kind.BOOL:
        add(f"{typed} IS NULL", "not true/false")
