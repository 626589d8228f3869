"""Score bands (Sesame's public ones) and the fixed score range.

The one place the range is written: settings, the scorecard file, the DP city map, the API
schemas, the registry's check and the pages all read ``SCORE_MIN``/``SCORE_MAX`` from here
(``tests/domain/test_score_range.py`` fails on a second literal).
"""

from __future__ import annotations

from dataclasses import dataclass

SCORE_MIN = 350
SCORE_MAX = 950


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: int  # inclusive
    high: int  # inclusive


BANDS: tuple[Band, ...] = (
    Band("poor", SCORE_MIN, 549),
    Band("fair", 550, 599),
    Band("good", 600, 649),
    Band("very_good", 650, 699),
    Band("excellent", 700, SCORE_MAX),
)

BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)


def band_of(score: int) -> str:
    """The band a score in the range falls in."""
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise ValueError(f"score {score} is outside {SCORE_MIN}-{SCORE_MAX}")
    for band in BANDS:
        if band.low <= score <= band.high:
            return band.name
    raise AssertionError("bands cover the range")  # pragma: no cover


def clip_score(points: float) -> int:
    """Clip a sum of points to the score range (integers)."""
    return int(max(SCORE_MIN, min(SCORE_MAX, round(points))))
