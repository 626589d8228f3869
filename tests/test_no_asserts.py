"""No ``assert`` steers openscore's own code: ``python -O`` removes them, so every check
the code relies on raises a real error from ``openscore.errors`` (or re-raises)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import openscore
from openscore.decisions import ProductKind, decide, default_catalogue
from openscore.errors import InputError

SRC = Path(openscore.__file__).parent


def asserts_under(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]


def test_no_assert_statement_in_src(tmp_path: Path) -> None:
    assert asserts_under(SRC) == []
    (tmp_path / "m.py").write_text("def f(x):\n    assert x is not None\n    return x\n")
    assert asserts_under(tmp_path) == ["m.py:2"]


def test_reading_an_unopened_file_is_refused_even_under_python_O(tmp_path: Path) -> None:
    """The check survives ``-O`` (an assert would have vanished and crashed later)."""
    path = tmp_path / "events.csv"
    path.write_text("event_id\n1\n")
    code = (
        "import sys; from pathlib import Path\n"
        "from openscore.errors import StorageError\n"
        "from openscore.ingest.readers import RawFile, iter_batches\n"
        "try:\n"
        f"    list(iter_batches(RawFile(Path({str(path)!r}), 'csv')))\n"
        "except StorageError as exc:\n"
        "    print(exc); sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC.parent), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "was not opened for reading" in done.stdout


def test_a_loan_product_without_terms_is_an_input_error() -> None:
    loan = next(p for p in default_catalogue().products if p.kind is ProductKind.LOAN)
    broken = loan.model_copy(update={"loan": None})  # what the catalogue's validator refuses
    with pytest.raises(InputError, match="a loan product needs loan terms") as caught:
        decide(broken, 900, "excellent", [])
    assert caught.value.field == f"{loan.id}.loan"
