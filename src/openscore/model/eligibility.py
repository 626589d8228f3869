"""The minimum scoring rule: whose file is too thin to rank (``docs/model.md``).

Like FICO's minimum scoring criteria, a person gets a number only when there is enough
on file to rank them; otherwise their status is ``unscorable`` ("not enough data to
score") and no score, band or sub-score is computed, published or returned.

For a model of the ledger's features (every feature of the card is in the catalogue) a
person is scorable when **any** of ``history_features`` is known (by default: a credit
account, a rental or a bill payment on file), **or** ``activity_feature`` (months of the
last 12 with wallet payments) is at least ``min_activity``. For a tabular model (its own
columns), a row is scorable when any of the model's features is known: a row with
nothing in it is never given the intercept as a score.

The rule reads feature values only, so the one-person scorer and the compiled batch
expression apply it identically (``tests/scoring`` holds them to it). Both halves are
settings (``OPENSCORE_SCORABLE_HISTORY_FEATURES``, ``OPENSCORE_SCORABLE_MIN_ACTIVE_MONTHS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openscore.errors import InputError
from openscore.model.format import Scorecard, is_missing

SCORED = "scored"
UNSCORABLE = "unscorable"
STATUSES = (SCORED, UNSCORABLE)

#: what the portal and the API say to an unscorable person
NOT_ENOUGH_DATA = "Not enough data to score"


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """Who has enough on file to be scored (see the module docstring)."""

    history_features: tuple[str, ...] = (
        "credit_age_months",
        "rentals_on_time_24m",
        "bills_on_time_12m",
    )
    activity_feature: str = "active_months_12m"
    min_activity: int = 6

    @classmethod
    def from_settings(cls, settings: Any = None) -> ScoringRule:
        if settings is None:
            from openscore.config import get_settings

            settings = get_settings()
        rule = cls(
            tuple(settings.scorable_history_features),
            "active_months_12m",
            int(settings.scorable_min_active_months),
        )
        rule.check()
        return rule

    def check(self) -> None:
        """Every feature the rule names must be one the ledger's features compute."""
        from openscore.features import FEATURE_NAMES

        for name in (*self.history_features, self.activity_feature):
            if name not in FEATURE_NAMES:
                raise InputError(
                    f"{name!r} is not a feature openscore computes "
                    f"(one of {', '.join(FEATURE_NAMES)})",
                    field="scorable_history_features",
                )

    def event_mode(self, card: Scorecard) -> bool:
        """Whether the card scores the ledger's features (else: a tabular model)."""
        from openscore.features import FEATURE_NAMES

        return bool(card.features) and all(f.name in FEATURE_NAMES for f in card.features)

    def inputs(self, card: Scorecard) -> list[str]:
        """The feature columns the rule reads for this card."""
        if self.event_mode(card):
            return list(dict.fromkeys([*self.history_features, self.activity_feature]))
        return card.feature_names

    def scorable(self, card: Scorecard, features: Mapping[str, Any]) -> bool:
        """Whether a person (or row) with these feature values gets a score."""
        if not self.event_mode(card):
            return any(not is_missing(features.get(f)) for f in card.feature_names)
        if any(not is_missing(features.get(f)) for f in self.history_features):
            return True
        active = features.get(self.activity_feature)
        return active is not None and not is_missing(active) and float(active) >= self.min_activity

    def describe(self) -> str:
        """The rule in words, for the portal, the API and the docs."""
        return (
            "at least one credit account, rental or bill payment on file, or wallet "
            f"payments in at least {self.min_activity} of the last 12 months"
        )

    def what_would_help(self, shared: Sequence[str] = ()) -> list[str]:
        """What would make a person scorable, in plain words."""
        out = []
        if "credit" not in shared:
            out.append("Share your credit source, if you have a loan or a card.")
        else:
            out.append("A loan or card repaid through a lender who reports to openscore.")
        if "rentals" not in shared:
            out.append("Share your rentals source, if you rent bikes, rooms or cars.")
        if "wallet" not in shared:
            out.append(
                "Share your wallet source: a bill paid from it counts, and so do payments "
                f"in {self.min_activity} different months."
            )
        else:
            out.append(
                "Pay a bill (phone, power, rent) from your wallet, or keep using it: "
                f"payments in {self.min_activity} different months of the last 12 are enough."
            )
        return out
