"""What the README says ``make demo`` builds is what ``openscore demo`` builds."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

from openscore.cli.demo import demo
from openscore.demo import build_world

ROOT = Path(__file__).resolve().parents[2]


def _default_people() -> int:
    option = inspect.signature(demo).parameters["people"].default
    return int(option)


def test_the_readme_names_the_demo_world_size() -> None:
    people = _default_people()
    assert people == inspect.signature(build_world).parameters["people"].default
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(
        r"`make demo` runs `openscore demo`.*?\*\*([\d ]+)-person\*\* world", readme, re.S
    )
    assert said is not None, "README no longer says how many people make demo builds"
    assert int(said.group(1).replace(" ", "")) == people
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo_line = next(
        line for line in makefile.splitlines() if " demo" in line and "openscore" in line
    )
    assert "--people" not in demo_line  # make demo uses the command's default


def test_the_readme_names_the_demo_history_length() -> None:
    months = inspect.signature(demo).parameters["history_months"].default
    assert months == inspect.signature(build_world).parameters["history_months"].default
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"score history over the {months} month-ends (`--history-months`)" in readme


def test_the_demo_chooses_its_model_by_cross_validation_unless_told() -> None:
    method = inspect.signature(demo).parameters["method"].default
    assert method == "auto" == inspect.signature(build_world).parameters["method"].default


def test_an_unknown_method_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCORE_")}
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "--data-dir", str(data), "demo", "--method", "gbm"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "--method must be auto, scorecard or ebm, got 'gbm'" in done.stdout + done.stderr
    assert not (data / "world").exists()
