"""One Settings object for the whole of openscore (env prefix ``OPENSCORE_``)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DEV_SECRET = "openscore-development-secret-change-me"


class Settings(BaseSettings):
    """Where data lives, which engines run, and the score's fixed parameters."""

    model_config = SettingsConfigDict(env_prefix="OPENSCORE_", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="ledger, registry file, models")
    registry_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str | None = None
    retention_years: int = Field(default=5, ge=1, le=30)
    #: the date scores are computed as of (default: today, UTC); the demo pins it to its data
    as_of: date | None = None
    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = DEFAULT_DEV_SECRET

    base_score: int = 600
    base_odds: float = 20.0
    pdo: float = 40.0
    #: the minimum scoring rule (``scoring/eligibility.py``, docs/model.md): a person is
    #: scored when any of these features is on file (a credit account, a rental, a bill)...
    scorable_history_features: tuple[str, ...] = (
        "credit_age_months",
        "rentals_on_time_24m",
        "bills_on_time_12m",
    )
    #: ... or when they made wallet payments in at least this many of the last 12 months
    scorable_min_active_months: int = Field(default=6, ge=1, le=12)

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_page_size: int = Field(default=200, ge=1)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_DEV_SECRET:
            raise ValueError("OPENSCORE_SECRET_KEY must be set outside development")
        return self

    @property
    def ledger_dir(self) -> Path:
        return self.data_dir / "ledger"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def resolved_registry_url(self) -> str:
        if self.registry_url:
            return self.registry_url
        return f"sqlite:///{(self.data_dir / 'registry.sqlite').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
