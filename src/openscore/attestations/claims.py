"""What a person may attest about their score, and whether their score supports it now.

Four claims (names as they appear in a token):

* ``score_at_least: N`` — "my score is at least N as of DATE";
* ``band_at_least: B`` — "my band is B or better" (bands from :mod:`openscore.domain.bands`);
* ``no_public_record: true`` — "no live public record" (unexpired, not set aside by a dispute);
* ``score: N`` — the exact score.

The command line spells them ``min-score:650``, ``band-at-least:very_good``,
``no-public-record`` and ``exact-score``; :func:`parse_claim` reads that spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openscore.domain import BAND_NAMES, SCORE_MAX, SCORE_MIN
from openscore.domain.bands import BANDS
from openscore.errors import InputError

CLAIM_NAMES = ("score_at_least", "band_at_least", "no_public_record", "score")
_BAND_LOW = {b.name: b.low for b in BANDS}


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """What the person asked to attest (``None`` = not asked)."""

    min_score: int | None = None
    band_at_least: str | None = None
    no_public_record: bool = False
    exact_score: bool = False

    def is_empty(self) -> bool:
        return (
            self.min_score is None
            and self.band_at_least is None
            and not self.no_public_record
            and not self.exact_score
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """The facts a claim is checked against: the current published score and records."""

    score: int | None  # None: not enough data to score
    band: str | None
    live_public_records: int


def check_request(request: ClaimRequest) -> None:
    """:class:`InputError` naming the field when the request itself is malformed."""
    if request.is_empty():
        raise InputError("choose at least one claim", field="claims")
    if request.min_score is not None:
        if isinstance(request.min_score, bool) or not SCORE_MIN <= request.min_score <= SCORE_MAX:
            raise InputError(f"must lie in {SCORE_MIN}-{SCORE_MAX}", field="min_score")
    if request.band_at_least is not None and request.band_at_least not in BAND_NAMES:
        raise InputError(f"must be one of {', '.join(BAND_NAMES)}", field="band_at_least")


def unsupported(request: ClaimRequest, standing: Standing) -> list[tuple[str, str]]:
    """``(field, reason)`` for each claim the standing does not support (empty: all hold)."""
    out = []
    if standing.score is None:
        for field, asked in (
            ("min_score", request.min_score is not None),
            ("band_at_least", request.band_at_least is not None),
            ("exact_score", request.exact_score),
        ):
            if asked:
                out.append((field, "there is not enough data to score you yet"))
        if request.no_public_record and standing.live_public_records:
            out.append(
                (
                    "no_public_record",
                    f"{standing.live_public_records} live public record(s) are on file",
                )
            )
        return out
    if request.min_score is not None and standing.score < request.min_score:
        out.append(
            ("min_score", f"the current score {standing.score} is below {request.min_score}")
        )
    if request.band_at_least is not None and standing.score < _BAND_LOW[request.band_at_least]:
        out.append(
            (
                "band_at_least",
                f"the current band {standing.band} is below {request.band_at_least}",
            )
        )
    if request.no_public_record and standing.live_public_records:
        out.append(
            (
                "no_public_record",
                f"{standing.live_public_records} live public record(s) are on file",
            )
        )
    return out


def claims_for(request: ClaimRequest, standing: Standing) -> dict[str, Any]:
    """The claim values to sign (the request must be supported)."""
    claims: dict[str, Any] = {}
    if request.min_score is not None:
        claims["score_at_least"] = request.min_score
    if request.band_at_least is not None:
        claims["band_at_least"] = request.band_at_least
    if request.no_public_record:
        claims["no_public_record"] = True
    if request.exact_score:
        claims["score"] = standing.score
    return claims


def still_supported(
    claims: dict[str, Any], score: int | None, live_public_records: int | None
) -> str | None:
    """Why stored ``claims`` no longer hold for a new ``score`` (``None``: they hold).

    ``score=None``: the person is no longer scorable, so no claim about a score holds.
    ``live_public_records=None``: unknown here, the record claim is not re-checked.
    """
    about_score = {"score_at_least", "band_at_least", "score"} & claims.keys()
    if score is None:
        return "not enough data to score any more" if about_score else None
    if "score_at_least" in claims and score < int(claims["score_at_least"]):
        return f"the score fell below {claims['score_at_least']}"
    band = claims.get("band_at_least")
    if band is not None and score < _BAND_LOW[band]:
        return f"the band fell below {band}"
    if "score" in claims and score != int(claims["score"]):
        return "the score changed"
    if claims.get("no_public_record") and live_public_records:
        return "a public record is on file"
    return None


def parse_claim(text: str) -> dict[str, Any]:
    """One ``--claim`` of the command line as request fields; :class:`InputError` if bad."""
    name, _, value = text.strip().partition(":")
    if name == "min-score":
        try:
            return {"min_score": int(value)}
        except ValueError:
            raise InputError(f"min-score needs a number, got {value!r}", field="claim") from None
    if name == "band-at-least":
        if value not in BAND_NAMES:
            raise InputError(
                f"band-at-least needs one of {', '.join(BAND_NAMES)}, got {value!r}",
                field="claim",
            )
        return {"band_at_least": value}
    if name == "no-public-record" and not value:
        return {"no_public_record": True}
    if name == "exact-score" and not value:
        return {"exact_score": True}
    raise InputError(
        f"unknown claim {text!r}: use min-score:N, band-at-least:BAND, no-public-record "
        "or exact-score",
        field="claim",
    )
