"""The layers of docs/architecture.md hold: ``lint-imports`` checks the contracts in
pyproject.toml (``[tool.importlinter]``) over the source, and fails on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
]


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [*LINT, "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_contracts_hold() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_them(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "openscore", src / "openscore", ignore=shutil.ignore_patterns("__pycache__")
    )
    # the ledger reaching up into the services, and the web into an API route
    with (src / "openscore" / "ledger" / "__init__.py").open("a") as f:
        f.write("\nimport openscore.services.disputes  # noqa: E402, F401\n")
    with (src / "openscore" / "web" / "__init__.py").open("a") as f:
        f.write("\nimport openscore.api.routes.health  # noqa: E402, F401\n")
    result = _lint(src)
    assert result.returncode != 0
    assert "openscore.ledger -> openscore.services" in result.stdout, result.stdout
    assert "openscore.web -> openscore.api.routes.health" in result.stdout, result.stdout
    assert "BROKEN" in result.stdout
