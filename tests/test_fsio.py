"""The one atomic-write helper: a reader sees the old file or the new one, whole."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import openscore
from openscore.fsio import atomic_path, atomic_write

SRC = Path(openscore.__file__).parent


def test_write_replace_and_permissions(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "model.json"
    assert atomic_write(target, "first\n") == target
    atomic_write(target, b"second\n")
    assert target.read_text() == "second\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # readable like any file
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.json"]


def test_any_writer_through_a_path(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    with atomic_path(target) as tmp:
        pq.write_table(pa.table({"x": [1, 2, 3]}), tmp)
        assert not target.exists()
    assert pq.read_table(target).column("x").to_pylist() == [1, 2, 3]


def test_a_failed_write_leaves_the_old_file_and_no_litter(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "m.json", "old\n")
    with pytest.raises(RuntimeError, match="writer broke"):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the n")
            raise RuntimeError("writer broke")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_a_killed_writer_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """The process dies mid-write (no cleanup runs): the file is still the old one."""
    target = atomic_write(tmp_path / "m.json", "old\n")
    code = (
        "import os; from openscore.fsio import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_text('half of the n')\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(SRC.parent)}
    )
    assert done.returncode == 9
    assert target.read_text() == "old\n"


def test_no_second_hand_written_atomic_write_in_src() -> None:
    """Temp file + rename is written once (fsio.py); others call it."""
    pattern = re.compile(r"mkstemp|\.tmp\"\)\s*$|tmp\.replace\(")
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "fsio.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
