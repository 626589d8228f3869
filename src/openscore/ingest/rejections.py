"""Rejections: what was wrong with an input row, where, and the report written per run."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: longest value quoted back in a report (values can be a 100 MB line)
MAX_VALUE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Rejection:
    file: str
    line: int | None  # 1-based line (CSV/JSONL: record number, header = 1) or Parquet row
    field: str | None
    value: str | None
    reason: str

    def describe(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}"


def clip_value(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f"… ({len(text)} characters)"
    return text


def write_report(path: Path, rejections: list[Rejection]) -> None:
    """Write the rejection report (CSV: file, line, field, value, reason)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "field", "value", "reason"])
        for r in rejections:
            writer.writerow(
                [
                    r.file,
                    r.line if r.line is not None else "",
                    r.field or "",
                    r.value if r.value is not None else "",
                    r.reason,
                ]
            )


def summarise(rejections: list[Rejection], limit: int = 10) -> list[tuple[str, int]]:
    """The most common reasons, for the terminal summary."""
    counts = Counter(f"{r.field}: {r.reason}" if r.field else r.reason for r in rejections)
    return counts.most_common(limit)
