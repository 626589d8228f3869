"""The parameters of a synthetic world, declared once with their limits.

``SynthParams`` is what a run is asked for (people, months, seed, country, observation
date, consent shares); ``WorldParams`` holds the mechanisms' knobs, documented in
``docs/synthetic-data.md``. Both go into the manifest, so a world can be made again.
The chunk size and the number of workers are *not* parameters of the world: they change
how fast it is made, never what is made.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from openscore.errors import InputError

DEFAULT_AS_OF = date(2026, 6, 30)
EARLIEST_WINDOW_START = date(1950, 1, 1)

#: How the CLI spells each parameter, for error messages that name what the user typed.
CLI_NAMES = {
    "people": "--people",
    "months": "--months",
    "seed": "--seed",
    "country": "--country",
    "as_of": "--as-of",
    "shares.wallet": "--share-wallet",
    "shares.credit": "--share-credit",
    "shares.rentals": "--share-rentals",
    "shares.profile": "--share-profile",
    "shares.social": "--share-social",
    "chunk_size": "--chunk-size",
    "workers": "--workers",
}


def _share(default: float, what: str) -> Any:
    return Field(default, ge=0.0, le=1.0, description=f"probability that a person shares {what}")


class Shares(BaseModel):
    """Probability that a person consents to each source (independently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wallet: float = _share(0.90, "wallet payments and bills")
    credit: float = _share(0.75, "credit accounts and repayments")
    rentals: float = _share(0.70, "deposit-free rentals")
    profile: float = _share(0.50, "profile facts")
    social: float = _share(0.35, "relationships")


class WorldParams(BaseModel):
    """Knobs of the world's mechanisms (see docs/synthetic-data.md for each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: share of people who default within 12 months after the observation date
    bad_rate: float = Field(0.08, gt=0.0, lt=0.5)
    #: logit slope of the default probability on latent risk (sets the oracle's AUC)
    risk_slope: float = Field(1.85, gt=0.0)
    #: correlation between latent risk and the (negated) income shock
    risk_income_corr: float = Field(0.35, ge=0.0, lt=1.0)
    #: correlation between latent risk and the key that orders friends (risk homophily)
    risk_homophily: float = Field(0.55, ge=0.0, le=1.0)
    #: mean number of friends per person, before consent filtering
    mean_degree: float = Field(20.0, gt=0.0, le=200.0)
    #: Pareto tail index of the number of friendships a person starts (smaller: heavier)
    degree_tail: float = Field(2.3, gt=1.05)
    #: median annual income in a small city, in local currency units
    median_income: float = Field(42_000.0, gt=0.0)
    #: years after which a public record expires
    record_years: int = Field(5, ge=1, le=30)


class SynthParams(BaseModel):
    """What one ``openscore synth`` run makes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: int = Field(gt=0, le=1_000_000_000)
    months: int = Field(ge=13, le=600)
    seed: int = Field(0, ge=0, lt=2**63)
    country: str = "CN"
    as_of: date = DEFAULT_AS_OF
    shares: Shares = Shares()
    world: WorldParams = WorldParams()

    @field_validator("country")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter ISO 3166-1 country code such as CN or US")
        return value

    @field_validator("as_of")
    @classmethod
    def _as_of_reachable(cls, value: date) -> date:
        if value < date(1960, 1, 1):
            raise ValueError("must be 1960-01-01 or later (histories reach back decades)")
        return value

    @property
    def window_start(self) -> date:
        """First day of the observation window: ``as_of`` minus ``months`` months."""
        return months_before(self.as_of, self.months)

    @model_validator(mode="after")
    def _window_after_1950(self) -> SynthParams:
        if self.window_start < EARLIEST_WINDOW_START:
            raise ValueError(
                f"--months {self.months} before --as-of {self.as_of} starts before "
                f"{EARLIEST_WINDOW_START}"
            )
        return self


class RunOptions(BaseModel):
    """How a run is executed; never changes the data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chunk_size: int = Field(16_384, ge=1, le=10_000_000)
    workers: int = Field(1, ge=1, le=256)


def months_before(day: date, months: int) -> date:
    """``day`` moved back by whole calendar months, clipped to the month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validation_message(exc: ValidationError) -> str:
    """One line naming each bad parameter as the CLI spells it."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        name = CLI_NAMES.get(loc, loc or "parameters")
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if loc and not isinstance(got, dict | BaseModel):
            parts.append(f"{name} {msg} (got {got!r})")
        else:
            parts.append(f"{name}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_params(**values: Any) -> SynthParams:
    """Build ``SynthParams`` from loose values, raising one clear ``InputError``."""
    try:
        return SynthParams.model_validate(values)
    except ValidationError as exc:
        raise InputError(validation_message(exc)) from None


def parse_run_options(**values: Any) -> RunOptions:
    try:
        return RunOptions.model_validate(values)
    except ValidationError as exc:
        raise InputError(validation_message(exc)) from None
