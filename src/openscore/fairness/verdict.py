"""A verdict per group attribute, from a published report's figures: it **passes** when
every product threshold's four-fifths ratio is at least ``FOUR_FIFTHS`` and every compared
group's calibration gap lies within ± ``CALIBRATION_GAP_POINTS``; otherwise it is
**flagged**, with each failing check named (which threshold, which ratio; which group,
how many points).

The limits are this code's (``metrics.py``), applied to the figures the report holds
(``report_data``), so an older report is judged by today's rules and the console and the
tests read the same numbers. A verdict is a screening rule, not a finding of
discrimination: docs/fairness.md says how to read one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from openscore.fairness.metrics import CALIBRATION_GAP_POINTS, FOUR_FIFTHS


@dataclass(frozen=True)
class Finding:
    """One check that failed: ``kind`` is ``four_fifths`` or ``calibration``."""

    kind: str
    text: str
    threshold: int | None = None
    group: str | None = None
    value: float | None = None


@dataclass
class Verdict:
    attribute: str
    passes: bool
    groups_compared: int
    #: the four-fifths ratio at each threshold (None: nobody compared reaches it)
    ratios: list[tuple[int, float | None]] = field(default_factory=list)
    #: each compared group's calibration gap in points (None: too few outcomes)
    gaps: list[tuple[str, float | None]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def word(self) -> str:
        return "passes" if self.passes else "flagged"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def verdicts(
    data: dict[str, Any],
    *,
    four_fifths: float = FOUR_FIFTHS,
    gap_points: float = CALIBRATION_GAP_POINTS,
) -> list[Verdict]:
    """A verdict for every attribute of a report's ``fairness.json``."""
    thresholds = [
        int(t["min_score"])
        for t in data.get("thresholds") or []
        if isinstance(t, dict) and _number(t.get("min_score")) is not None
    ]
    out = []
    given = data.get("attributes")
    attributes: dict[str, Any] = given if isinstance(given, dict) else {}
    for name, attr in attributes.items():
        if not isinstance(attr, dict):
            continue
        found = attr.get("comparison")
        cmp: dict[str, Any] = found if isinstance(found, dict) else {}
        groups = [g for g in attr.get("groups") or [] if isinstance(g, dict)]
        verdict = Verdict(
            attribute=str(name),
            passes=True,
            groups_compared=int(_number(cmp.get("groups_compared")) or 0),
        )
        for t in thresholds:
            ratio = _number(cmp.get(f"approval_ratio_{t}"))
            verdict.ratios.append((t, ratio))
            if ratio is not None and ratio < four_fifths:
                verdict.findings.append(
                    Finding(
                        "four_fifths",
                        f"approval at score ≥ {t}: ratio {ratio:.2f} is below {four_fifths:g} "
                        f"({cmp.get(f'lowest_{t}', '?')} against {cmp.get(f'highest_{t}', '?')})",
                        threshold=t,
                        value=ratio,
                    )
                )
        for g in groups:
            if not g.get("compared"):
                continue
            gap = _number(g.get("calibration_gap_points"))
            label = str(g.get("group"))
            verdict.gaps.append((label, gap))
            if gap is not None and abs(gap) > gap_points:
                side = "too low" if gap > 0 else "too high"
                verdict.findings.append(
                    Finding(
                        "calibration",
                        f"calibration: {label}'s scores are about {abs(gap):.1f} points {side} "
                        f"(limit ±{gap_points:g})",
                        group=label,
                        value=gap,
                    )
                )
        verdict.passes = not verdict.findings
        out.append(verdict)
    return out
