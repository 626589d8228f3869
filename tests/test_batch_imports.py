"""The batch commands do not import training's libraries: ``openscore features`` and
``openscore score`` read and apply a scorecard, and importing scikit-learn, SciPy,
optbinning and interpret alone took 2-4 s of each run (docs/scale.md). The names of
``openscore.model`` and ``openscore.jobs`` are still all there, imported when used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ("sklearn", "scipy", "optbinning", "interpret")


def test_the_batch_path_imports_no_training_library() -> None:
    code = (
        "import sys, openscore.cli\n"
        "from openscore.jobs import write_batch_scores, write_features\n"
        "from openscore.model import Scorecard\n"
        "from openscore.online import current_model, scoring_date\n"
        "from openscore.scoring.kernel import ScoringKernel\n"
        f"print(sorted(m for m in {TRAINING!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_public_name_of_model_and_jobs_resolves() -> None:
    import openscore.jobs as jobs
    import openscore.model as model

    for package in (model, jobs):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
        with pytest.raises(AttributeError, match="no_such_name"):
            package.no_such_name  # noqa: B018


def test_the_api_and_the_cli_load_no_compiler() -> None:
    """numba (2-3 s to import) is loaded by the first batch scored, not by the API, the
    CLI or importing the kernel."""
    code = (
        "import sys, openscore.cli, openscore.api.app\n"
        "from openscore.scoring.kernel import ScoringKernel\n"
        "print('numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
