"""Checking the ledger against its manifest: every named file exists, whole, unchanged.

``deep=True`` also reads the event ids of every good segment and names any
(furnisher, event id) stored twice — which idempotent ingestion and the rewrites must
never produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.parquet as pq

from openscore.engines.duckdb import connect, parquet_list
from openscore.ledger.durable import sha256_file
from openscore.ledger.manifest import Segment
from openscore.ledger.store import Ledger

#: duplicated ids named in a report at most (the count is always complete)
MAX_NAMED_DUPLICATES = 20


@dataclass(slots=True)
class VerifyReport:
    segments: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    #: the manifest entries of the segments named in ``problems``
    bad_segments: list[Segment] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    #: erasures and consent purges begun and not finished (see ``pending.py``)
    pending: list[str] = field(default_factory=list)
    duplicate_ids: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_segment(ledger: Ledger, seg: Segment) -> str | None:
    """What is wrong with one segment file, or None."""
    path = ledger.root / seg.file
    if not path.exists():
        return f"{seg.file}: missing (named by the manifest)"
    if sha256_file(path) != seg.sha256:
        return f"{seg.file}: checksum differs from the one recorded at write"
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:
        return f"{seg.file}: not a readable Parquet file ({exc})"
    if rows != seg.rows:
        return f"{seg.file}: {rows} rows, manifest says {seg.rows}"
    return None


def verify(ledger: Ledger, *, deep: bool = False) -> VerifyReport:
    """Recompute each segment's checksum and row count; name every file that is off."""
    manifest = ledger.manifest()
    report = VerifyReport(segments=len(manifest.segments))
    named = set()
    good = []
    for seg in manifest.segments:
        named.add(ledger.root / seg.file)
        problem = check_segment(ledger, seg)
        if problem is not None:
            report.problems.append(problem)
            report.bad_segments.append(seg)
            continue
        report.rows += seg.rows
        good.append(ledger.root / seg.file)
    if len(named) != len(manifest.segments):
        report.problems.append("the manifest names a segment file more than once")
    if ledger.segments_dir.exists():
        report.leftovers = sorted(
            str(p.relative_to(ledger.root)) for p in ledger.segments_dir.iterdir() if p not in named
        )
    report.pending = [
        f"{p.get('kind')} of {p.get('person_id')}"
        + (f" ({p['source']})" if p.get("source") else "")
        + f" since {p.get('since')}"
        for p in manifest.pending
    ]
    if deep and good:
        _check_duplicates(good, report)
    return report


def _check_duplicates(paths: list, report: VerifyReport) -> None:
    con = connect()
    try:
        con.execute(
            "CREATE TEMP TABLE dup AS SELECT furnisher_id, event_id, count(*) AS n FROM "
            f"read_parquet({parquet_list(paths)}) GROUP BY ALL HAVING count(*) > 1"
        )
        report.duplicate_ids = con.execute("SELECT count(*) FROM dup").fetchall()[0][0]
        if report.duplicate_ids:
            named = con.execute(
                f"SELECT furnisher_id, event_id, n FROM dup ORDER BY ALL "
                f"LIMIT {MAX_NAMED_DUPLICATES}"
            ).fetchall()
            report.problems.append(
                f"{report.duplicate_ids} (furnisher, event id) pairs stored more than once, "
                "e.g. " + ", ".join(f"{f}/{e} ×{n}" for f, e, n in named)
            )
    finally:
        con.close()
