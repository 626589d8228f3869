"""Same seed, same bytes -- whatever the chunk size or the number of workers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from openscore.synth import run as gen
from openscore.synth.params import RunOptions, parse_params
from openscore.synth.run import generate

from .conftest import SMALL


def file_hashes(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {rel: info["sha256"] for rel, info in manifest["files"].items()}


def test_same_seed_gives_byte_identical_files(small_world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    # A different chunk size too: one block at a time instead of all three at once.
    generate(parse_params(**SMALL), again, RunOptions(chunk_size=1000, workers=1))
    assert (again / "manifest.json").read_bytes() == (small_world / "manifest.json").read_bytes()
    for rel in file_hashes(small_world):
        assert (again / rel).read_bytes() == (small_world / rel).read_bytes(), rel


def test_workers_and_file_groups_change_files_not_rows(
    small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One block per file group, two worker processes: three part files per source.
    monkeypatch.setattr(gen, "WALLET_ROWS_PER_FILE", 1)
    out = tmp_path / "split"
    generate(parse_params(**SMALL), out, RunOptions(chunk_size=4096, workers=2))
    assert len(list((out / "events" / "wallet").glob("part-*.parquet"))) == 3
    for source in gen.SOURCES:
        a = ds.dataset(small_world / "events" / source).to_table().sort_by("event_id")
        b = ds.dataset(out / "events" / source).to_table().sort_by("event_id")
        assert a.equals(b), source
    for name in ("people.parquet", "outcomes.parquet", "cities.parquet"):
        assert (out / name).read_bytes() == (small_world / name).read_bytes(), name


def test_another_seed_gives_another_world(small_world: Path, tmp_path: Path) -> None:
    out = tmp_path / "other"
    generate(parse_params(**{**SMALL, "people": 300, "seed": 4}), out)
    small = parse_params(**{**SMALL, "people": 300})
    generate(small, tmp_path / "same", RunOptions())
    assert file_hashes(out)["people.parquet"] != file_hashes(tmp_path / "same")["people.parquet"]


def test_consent_only_hides(tmp_path: Path) -> None:
    """Sharing nothing social writes no relationships but leaves the people unchanged."""
    base = {"people": 2000, "months": 13, "seed": 9}
    generate(parse_params(**base), tmp_path / "a")
    generate(parse_params(**base, shares={"social": 0.0, "credit": 1.0}), tmp_path / "b")
    counts = json.loads((tmp_path / "b" / "manifest.json").read_text())["counts"]
    assert counts["sources"]["social"] == 0
    import pyarrow.parquet as pq

    a = pq.read_table(tmp_path / "a" / "people.parquet")
    b = pq.read_table(tmp_path / "b" / "people.parquet")
    for name in ("person_id", "latent_risk", "true_pd", "defaulted", "degree", "income"):
        assert a[name].equals(b[name]), name
    assert b["shares_credit"].to_pylist() == [True] * 2000
