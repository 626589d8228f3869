"""The console's verdict per attribute, on a real audit's report data: it agrees with the
audit's own four-fifths flags and calibration gaps, at the limits in code."""

from __future__ import annotations

import math

from openscore.fairness import (
    CALIBRATION_GAP_POINTS,
    FOUR_FIFTHS,
    FairnessReport,
    report_data,
    verdicts,
)


def test_verdicts_agree_with_the_audit(synth_report: FairnessReport) -> None:
    data = report_data(synth_report)
    found = {v.attribute: v for v in verdicts(data)}
    cmp = synth_report.audit.comparison
    assert set(found) == set(cmp.index)
    for name, v in found.items():
        ratios_fail = [
            t for t in synth_report.audit.thresholds if not cmp.loc[name, f"four_fifths_{t}"]
        ]
        groups = synth_report.audit.by_group.loc[name]
        gaps = groups.loc[groups["compared"].astype(bool), "calibration_gap_points"].astype(float)
        gaps_fail = [
            g for g, x in gaps.items() if not math.isnan(x) and abs(x) > CALIBRATION_GAP_POINTS
        ]
        assert [f.threshold for f in v.findings if f.kind == "four_fifths"] == ratios_fail
        assert sorted(f.group for f in v.findings if f.kind == "calibration") == sorted(
            map(str, gaps_fail)
        )
        assert v.passes == (not ratios_fail and not gaps_fail)
        for f in v.findings:
            if f.kind == "four_fifths":
                assert f.value is not None and f.value < FOUR_FIFTHS
    assert data["settings"]["calibration_gap_limit_points"] == CALIBRATION_GAP_POINTS
