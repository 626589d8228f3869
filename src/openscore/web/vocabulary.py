"""The words the pages use for openscore's identifiers (sources, bands, scopes, statuses).

The domain keeps the identifiers and the long sentences (``SOURCE_DESCRIPTIONS``,
``DIMENSION_LABELS``, the feature catalogue); this module only names them for people.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openscore.domain.dimensions import DIMENSION_LABELS, DIMENSION_WEIGHTS
from openscore.domain.sources import Source

SOURCE_NAMES: dict[str, str] = {
    Source.WALLET.value: "Wallet payments",
    Source.CREDIT.value: "Loans and cards",
    Source.RENTALS.value: "Deposit-free rentals",
    Source.PROFILE.value: "Profile facts",
    Source.SOCIAL.value: "Connections",
    Source.PUBLIC_RECORDS.value: "Public records",
}

DIMENSIONS: dict[str, str] = {d.value: label for d, label in DIMENSION_LABELS.items()}
WEIGHTS: dict[str, float] = {d.value: w for d, w in DIMENSION_WEIGHTS.items()}

SCOPES: dict[str, str] = {
    "decision": "Only the decision (approved or not, and the terms)",
    "band": "The decision and your band",
    "score": "The decision, your score, its five dimensions and reasons",
}

OUTCOMES: dict[str, str] = {"approve": "Approved", "decline": "Declined"}

STATUSES: dict[str, str] = {
    "open": "Open: being looked at",
    "resolved": "Resolved: the record was corrected",
    "rejected": "Rejected: the record stands",
    "requested": "Waiting for a person to review",
    "upheld": "Reviewed: the decision stands",
    "overturned": "Reviewed: the decision was overturned",
}


def band_name(band: str | None) -> str:
    return (band or "").replace("_", " ")


def words(identifier: Any) -> str:
    """``deposit-free_rentals`` -> ``deposit free rentals`` (for slugs and keys)."""
    return str(identifier).replace("_", " ").replace("-", " ")


def when(value: datetime | date | str | None) -> str:
    """A date-time the way people read it, always saying it is UTC."""
    if value is None:
        return "–"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        return f"{value:%d %b %Y, %H:%M} UTC"
    return f"{value:%d %b %Y}"


def day(value: datetime | date | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    return f"{value:%d %b %Y}"


def plain(value: Any) -> str:
    """A value from a JSON document, in words (lists joined, booleans as yes/no)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{words(k)}: {plain(v)}" for k, v in value.items()) or "none"
    return str(value)
