"""A mistyped command or option is a usage message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["partners", "add"], "No such command 'add'"),
        (["ingest", "--bogus"], "No such option: --bogus"),
        (["synth", "--people", "many"], "Invalid value for '--people'"),
        (["history", "backfill", "--months", "0"], "Invalid value for '--months'"),
    ],
)
def test_usage_errors_are_one_clear_message(args: list[str], message: str, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "--data-dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
