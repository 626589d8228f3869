"""Settings: the secret key is a secret, and the built-in one is refused outside development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from openscore.config import DEFAULT_DEV_SECRET, Settings, get_settings
from openscore.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src"


def test_development_is_said_not_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENSCORE_ENVIRONMENT", raising=False)
    monkeypatch.delenv("OPENSCORE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="OPENSCORE_SECRET_KEY must be set outside dev"):
        Settings()
    assert Settings(secret_key="k" * 32).environment == "production"


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_built_in_key_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match=f"OPENSCORE_ENVIRONMENT is '{environment}'"):
        Settings(environment=environment)
    with pytest.raises(ValidationError):
        Settings(environment=environment, secret_key=DEFAULT_DEV_SECRET)
    Settings(environment=environment, secret_key="another-key")


def test_development_may_use_the_built_in_key() -> None:
    settings = Settings(environment="development")
    assert settings.secret_key.get_secret_value() == DEFAULT_DEV_SECRET


def test_the_key_never_shows() -> None:
    settings = Settings(environment="production", secret_key="s3cret-value-for-test")
    assert isinstance(settings.secret_key, SecretStr)
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret-value-for-test" not in shown
    assert settings.secret_key.get_secret_value() == "s3cret-value-for-test"


def test_get_settings_names_the_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSCORE_RETENTION_YEARS", "forever")
    get_settings.cache_clear()
    try:
        with pytest.raises(InputError) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert caught.value.field == "OPENSCORE_RETENTION_YEARS"


def test_the_cli_refuses_to_start_without_a_key_in_production(tmp_path: Path) -> None:
    """One clear line, exit code 2, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCORE_")}
    env |= {"PYTHONPATH": str(SRC), "OPENSCORE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "ledger", "stats"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "OPENSCORE_SECRET_KEY must be set outside development" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "ledger", "stats"],
        env=env | {"OPENSCORE_ENVIRONMENT": "development"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
