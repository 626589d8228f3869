"""Small worlds shared by the synth tests (made once per session: a few seconds each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscore.synth.params import RunOptions, parse_params
from openscore.synth.run import generate

#: three blocks of people (4096, 4096, 808): chunks and block edges are exercised
SMALL = {"people": 9000, "months": 13, "seed": 3}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "world"
    generate(parse_params(**SMALL), out, RunOptions(chunk_size=16_384, workers=1))
    return out
