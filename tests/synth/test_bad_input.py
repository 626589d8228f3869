"""Nonsense parameters get one clear line and no output; interrupted runs leave nothing
that looks complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscore.errors import InputError
from openscore.synth.params import parse_params

OPENSCORE = [sys.executable, "-c", "from openscore.cli import main; main()"]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from openscore.cli import main

    argv = sys.argv
    sys.argv = ["openscore", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--people", "0"], "--people"),
        (["--people", "-5"], "--people"),
        (["--people", "10", "--months", "12"], "--months"),
        (["--people", "10", "--share-wallet", "1.5"], "--share-wallet"),
        (["--people", "10", "--share-social", "-0.1"], "--share-social"),
        (["--people", "10", "--country", "XX"], "unknown country code 'XX'"),
        (["--people", "10", "--country", "China"], "--country"),
        (["--people", "10", "--as-of", "30/06/2026"], "--as-of"),
        (["--people", "10", "--chunk-size", "0"], "--chunk-size"),
    ],
)
def test_bad_parameters_are_refused_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = run_cli(["synth", *args, "--out", str(out), "--quiet"], capsys)
    assert code == 2
    assert message in err and err.startswith("error:")
    assert len(err.strip().splitlines()) <= 2  # one message (rich may wrap it)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the directory


def test_an_output_directory_with_other_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, err = run_cli(["synth", "--people", "10", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "not empty" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_output_directory_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code, err = run_cli(
        ["synth", "--people", "50", "--months", "13", "--out", str(out), "--quiet"], capsys
    )
    assert code == 0, err
    assert (out / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@given(st.floats(allow_nan=False).filter(lambda p: not 0 <= p <= 1))
def test_probabilities_outside_0_1_are_refused(p: float) -> None:
    with pytest.raises(InputError, match="--share-rentals"):
        parse_params(people=1, months=13, shares={"rentals": p})


@given(st.floats(min_value=0, max_value=1), st.integers(min_value=13, max_value=600))
def test_probabilities_inside_0_1_are_accepted(p: float, months: int) -> None:
    params = parse_params(people=1, months=months, shares={"profile": p})
    assert params.shares.profile == p


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_an_interrupted_run_leaves_nothing_that_looks_complete(
    sig: signal.Signals, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            *OPENSCORE,
            "synth",
            "--people",
            "2000000",
            "--months",
            "24",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        # Wait until the run has written event rows into its staging directory.
        while time.monotonic() < deadline:
            staged = [p for p in tmp_path.glob(".out.partial-*/events/*/*") if p.stat().st_size]
            if staged:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run never started writing")
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    assert not list(tmp_path.rglob("manifest.json"))
    if sig == signal.SIGTERM:  # a catchable signal: the staging directory is removed too
        assert proc.returncode != 0
        assert list(tmp_path.iterdir()) == []
