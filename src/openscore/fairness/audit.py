"""The fairness audit of one model over one prepared dataset: the one entry point.

``run_fairness_audit(card, data)`` scores the data with the model, labels the groups from
the side file, computes the figures by group (``metrics.audit_frame``) and, on a synthetic
world, the thin-file analysis. It returns data (:class:`FairnessReport`); ``report.py``
turns that into Markdown, JSON and charts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from openscore.fairness.groups import (
    DEFAULT_MIN_GROUP_SIZE,
    KNOWN_GROUPS,
    SYNTHETIC_GROUPS,
    TAIWAN_GROUPS,
    derive_groups,
)
from openscore.fairness.inputs import AuditData, group_columns, load_audit_data
from openscore.fairness.metrics import GroupAudit, audit_frame, product_thresholds
from openscore.fairness.thin_file import ThinFileResult, thin_file_analysis
from openscore.model import Scorecard


@dataclass
class FairnessReport:
    model_id: str
    model_method: str
    audit_only: bool
    data: AuditData = field(repr=False)
    groups: list[str]
    min_group_size: int
    audit: GroupAudit
    thin_file: ThinFileResult | None
    generated_at: str
    notices: list[str]


def default_groups(data: AuditData) -> list[str]:
    """The attributes audited when none are named: the kind's list, else every known
    attribute whose source column is present."""
    if data.kind == "synthetic":
        return list(SYNTHETIC_GROUPS)
    if data.kind == "taiwan":
        return list(TAIWAN_GROUPS)
    present = set(data.group_source.columns)
    return [
        name for name, spec in KNOWN_GROUPS.items() if any(c in present for c, _ in spec.sources)
    ]


def run_fairness_audit(
    card: Scorecard,
    data: Path | AuditData,
    *,
    groups: Sequence[str] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    all_rows: bool = False,
    thin_file: bool = True,
    catalogue: object | None = None,
    progress: Callable[[str], None] | None = None,
) -> FairnessReport:
    """Audit ``card`` over ``data`` (a prepared directory or table, or loaded data).

    ``groups``: attribute names (default: by kind of data); ``all_rows``: audit every row
    of a table even when it is the model's training table; ``thin_file``: run the
    thin-file analysis when the data is a synthetic world.
    """
    say = progress or (lambda _m: None)
    if not isinstance(data, AuditData):
        if groups and Path(data).exists():
            columns = group_columns(Path(data))
            if columns is not None:  # fail on a missing group before scoring anyone
                derive_groups(pd.DataFrame(columns=columns), list(groups))
        say(f"scoring {data} with {card.model_id}")
        data = load_audit_data(card, Path(data), all_rows=all_rows)
    names = list(groups) if groups else default_groups(data)
    labelled = derive_groups(data.group_source, names)
    say(f"auditing {len(data):,} people by {', '.join(names)}")
    audit = audit_frame(
        data.scores,
        data.y_bad,
        labelled,
        thresholds=product_thresholds(catalogue),
        scaling=card.scaling,
        min_group_size=min_group_size,
    )
    notices = list(audit.notices)
    thin = None
    if thin_file and data.true_pd is not None:
        thin = thin_file_analysis(card, data, progress=say)
    elif thin_file:
        notices.append(
            "no thin-file analysis: it needs a synthetic world (true risk is unknown here)"
        )
    return FairnessReport(
        model_id=card.model_id,
        model_method=card.method,
        audit_only=card.audit_only,
        data=data,
        groups=names,
        min_group_size=min_group_size,
        audit=audit,
        thin_file=thin,
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        notices=notices,
    )
