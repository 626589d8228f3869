"""Report directories: written whole, then ``latest`` moves; a failure leaves nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openscore.artifacts import (
    LATEST,
    OUT_NOT_EMPTY,
    latest_report_dir,
    list_report_dirs,
    report_name,
    writing_report,
)
from openscore.errors import InputError


def test_latest_moves_only_when_a_report_is_complete(data_dir: Path) -> None:
    assert latest_report_dir("fairness") is None
    with writing_report("fairness", name=report_name(datetime(2026, 1, 1, tzinfo=UTC))) as d:
        (d / "a.txt").write_text("one")
    first = latest_report_dir("fairness")
    assert first is not None and (first / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), writing_report("fairness") as d:
        (d / "a.txt").write_text("half")
        raise RuntimeError("crash while writing")
    assert latest_report_dir("fairness") == first  # the failed one left nothing
    assert [p.name for p in first.parent.iterdir() if p.name.startswith(".")] == []
    with writing_report("fairness", name=report_name(datetime(2026, 2, 1, tzinfo=UTC))) as d:
        (d / "a.txt").write_text("two")
    second = latest_report_dir("fairness")
    assert second is not None and second != first
    assert list_report_dirs("fairness") == [second, first]


def test_a_pointer_out_of_the_reports_directory_is_not_followed(data_dir: Path) -> None:
    root = data_dir / "reports" / "map"
    root.mkdir(parents=True)
    (root / LATEST).write_text("../../elsewhere\n")
    assert latest_report_dir("map") is None


def test_an_explicit_directory_must_be_empty_and_does_not_move_latest(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    with writing_report("fairness", out=out) as d:
        (d / "a.txt").write_text("x")
    assert (out / "a.txt").exists() and latest_report_dir("fairness") is None
    with pytest.raises(InputError) as err, writing_report("fairness", out=out):
        pass
    assert err.value.reason == OUT_NOT_EMPTY.format(path=out)
