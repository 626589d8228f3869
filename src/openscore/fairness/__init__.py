"""The fairness audit: how a model's scores and decisions fall on groups of people.

``run_fairness_audit(card, data)`` returns the audit as data (fairlearn ``MetricFrame``s
and pandas frames); ``publish_report`` writes Markdown, JSON and charts; the console finds
the latest with ``latest_fairness_report``. Group attributes (sex, age, education, marital
status, e-literacy, city size) come from side files and are never model inputs
(principle 3). ``docs/fairness.md`` explains every figure.
"""

from openscore.fairness.audit import FairnessReport, default_groups, run_fairness_audit
from openscore.fairness.groups import (
    DEFAULT_MIN_GROUP_SIZE,
    MIN_GROUP_SIZE_BELOW_ONE,
    MISSING_GROUP_COLUMN,
    NO_GROUPS,
    SMALL_GROUP,
    TOO_FEW_GROUPS,
    check_groups,
    derive_groups,
)
from openscore.fairness.inputs import (
    DATA_NOT_FOUND,
    MODEL_NOT_EVENT_MODE,
    NO_GROUP_FILE,
    NOT_A_DATASET,
    AuditData,
    load_audit_data,
)
from openscore.fairness.metrics import (
    CALIBRATION_GAP_POINTS,
    FOUR_FIFTHS,
    LENGTH_MISMATCH,
    OUTCOME_NOT_BINARY,
    GroupAudit,
    audit_frame,
    product_thresholds,
)
from openscore.fairness.report import (
    ReportFiles,
    latest_fairness_report,
    publish_report,
    read_report,
    report_data,
    write_report,
)
from openscore.fairness.thin_file import (
    NOT_SYNTHETIC,
    THIN_FILE_PAYMENTS,
    ThinFileResult,
    score_gaps,
    thin_file_analysis,
    worst_value_fills,
)
from openscore.fairness.verdict import Finding, Verdict, verdicts

__all__ = [
    "AuditData",
    "CALIBRATION_GAP_POINTS",
    "DATA_NOT_FOUND",
    "DEFAULT_MIN_GROUP_SIZE",
    "FOUR_FIFTHS",
    "FairnessReport",
    "Finding",
    "GroupAudit",
    "LENGTH_MISMATCH",
    "MIN_GROUP_SIZE_BELOW_ONE",
    "MISSING_GROUP_COLUMN",
    "MODEL_NOT_EVENT_MODE",
    "NOT_A_DATASET",
    "NOT_SYNTHETIC",
    "NO_GROUPS",
    "NO_GROUP_FILE",
    "OUTCOME_NOT_BINARY",
    "ReportFiles",
    "SMALL_GROUP",
    "THIN_FILE_PAYMENTS",
    "TOO_FEW_GROUPS",
    "ThinFileResult",
    "Verdict",
    "audit_frame",
    "check_groups",
    "default_groups",
    "derive_groups",
    "latest_fairness_report",
    "load_audit_data",
    "product_thresholds",
    "publish_report",
    "read_report",
    "report_data",
    "run_fairness_audit",
    "score_gaps",
    "thin_file_analysis",
    "verdicts",
    "worst_value_fills",
    "write_report",
]
