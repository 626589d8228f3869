"""One Settings object for the whole of openscore (env prefix ``OPENSCORE_``).

``OPENSCORE_ENVIRONMENT`` says where openscore runs: ``production`` unless told otherwise.
Only ``development`` (set by ``openscore demo`` and by the tests; set it yourself on a
laptop) may run with the built-in secret key; anywhere else ``OPENSCORE_SECRET_KEY`` must
be set, or settings refuse to load.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openscore.errors import InputError

DEFAULT_DEV_SECRET = "openscore-development-secret-change-me"
DEFAULT_SECRET_REFUSED = (
    "OPENSCORE_SECRET_KEY must be set outside development (OPENSCORE_ENVIRONMENT is {env!r}; "
    "set OPENSCORE_ENVIRONMENT=development to try openscore on a laptop with the built-in key)"
)

#: a secret as settings hold it (SecretStr) or as a test passes it (str)
Secret = str | SecretStr


def reveal(secret: Secret) -> bytes:
    """The bytes of a secret, for the one place that keys a MAC with it."""
    plain = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return plain.encode()


#: "more than a few points": the default of ``Settings.score_change_points``
DEFAULT_SCORE_CHANGE_POINTS = 5


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
    environment: Literal["development", "test", "production"] = "production"
    secret_key: SecretStr = SecretStr(DEFAULT_DEV_SECRET)

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

    #: a score change of more than this many points says why (which reasons moved) in the
    #: history, and is notified to the person (portal, webhook)
    score_change_points: int = Field(default=DEFAULT_SCORE_CHANGE_POINTS, ge=0, le=600)

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_page_size: int = Field(default=200, ge=1)
    #: the public city map colours a city only when the 95 % margin of its noisy mean
    #: score is narrower than ± this many points (half a 50-point band); wider ones are
    #: drawn hollow, "too few people to say" (docs/privacy.md)
    map_colour_margin_points: float = Field(default=25.0, gt=0, le=300)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> Settings:
        default = self.secret_key.get_secret_value() == DEFAULT_DEV_SECRET
        if default and self.environment != "development":
            raise ValueError(DEFAULT_SECRET_REFUSED.format(env=self.environment))
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
    """The process-wide settings, read once from the environment; a bad variable is an
    InputError naming it (the CLI prints one line, not a traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
        names = [str(part) for part in error["loc"]]
        field = f"OPENSCORE_{names[0].upper()}" if names else None
        raise InputError(message, field=field) from None
