"""Shared test configuration. Fixtures live in ``tests/fixtures/`` modules, one per part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = [
    module
    for module in (
        "fixtures.data",
        "fixtures.postgres",
        "fixtures.spark",
        "fixtures.browser",
        "fixtures.api",
        "fixtures.ci",
        "fixtures.cli",
    )
    if (Path(__file__).parent / "fixtures" / f"{module.split('.')[1]}.py").exists()
]

# The tests run in development (the built-in secret key is allowed) unless a test says
# otherwise; production is the default everywhere else (docs/operations.md).
os.environ.setdefault("OPENSCORE_ENVIRONMENT", "development")

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository (datasets)."""
    if not SHARED.exists():
        pytest.fail(f"{SHARED} is missing: tests need ../shared beside the repository")
    return SHARED


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh OPENSCORE_DATA_DIR for one test."""
    from openscore.config import get_settings

    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("OPENSCORE_DATA_DIR", str(d))
    get_settings.cache_clear()
    yield d
    get_settings.cache_clear()
