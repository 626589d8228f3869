"""Under CI a test that needs Spark, a browser or PostgreSQL fails instead of skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

INNER = """
import pytest

@pytest.mark.spark
def test_needs_java():
    pytest.skip("Java is not installed")

@pytest.mark.browser
def test_needs_chromium(): pytest.skip("chromium is not installed")

def test_plain_skip():
    pytest.skip("nothing to do with a part")

@pytest.mark.spark
@pytest.mark.xfail(reason="known", run=False)
def test_known_failure(): pass
"""


def _inner(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    spark: s\n    browser: b\n    postgres: p\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "fixtures.ci", "-rA", "-q", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true"])
def test_a_missing_part_fails_under_ci(tmp_path: Path, ci: str) -> None:
    done = _inner(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    assert "FAILED test_inner.py::test_needs_java" in done.stdout
    assert "FAILED test_inner.py::test_needs_chromium" in done.stdout
    assert "may not skip for want of a part" in done.stdout
    assert "Java is not installed" in done.stdout
    assert "2 failed, 1 skipped, 1 xfailed" in done.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_they_skip(tmp_path: Path, ci: str | None) -> None:
    done = _inner(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "3 skipped, 1 xfailed" in done.stdout


def test_the_default_options_deselect_no_test_that_needs_a_part() -> None:
    """CI runs plain ``pytest``: a ``-m`` in the configured options would drop tests (the
    Spark cluster test was once opt-in with ``-m 'not cluster'``) without a failure."""
    import shlex
    import tomllib

    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
    options = shlex.split(config["tool"]["pytest"]["ini_options"].get("addopts", ""))
    assert not [o for o in options if o == "-m" or o.startswith(("-m", "-k"))], options
    marked = [
        p.name
        for p in (TESTS / "engines").glob("test_*.py")
        if "pytest.mark.cluster" in p.read_text()
    ]
    assert "test_spark_cluster.py" in marked
