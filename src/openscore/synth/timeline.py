"""The observation window: what "before the observation date" means, in numbers.

The observation moment is ``as_of`` at 00:00 UTC. Every timestamp written is strictly
before it and every date (due, paid) is strictly before ``as_of``, so an event is "not
after as_of" whichever way a reader compares. The window starts ``months`` calendar
months earlier; monthly obligations fall due on a fixed day of each calendar month that
the window touches. Only due dates, rental due-backs and record expiries may lie after
``as_of``, and only where the schema allows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.eventfiles.columns import US_PER_DAY, day_number
from openscore.synth.params import SynthParams

#: Nothing is dated before this (1900-01-01 in days since 1970-01-01).
EARLIEST_DAY = -25567


@dataclass(frozen=True)
class Timeline:
    as_of_day: int  # days since 1970-01-01
    start_day: int  # first day of the window
    month_first: np.ndarray  # first day of each calendar month the window touches
    month_lo: np.ndarray  # part of each month inside the window: [lo, hi) in days
    month_hi: np.ndarray

    @classmethod
    def of(cls, params: SynthParams) -> Timeline:
        as_of = day_number(params.as_of)
        start = day_number(params.window_start)
        first = np.arange(
            np.datetime64(params.window_start, "M"),
            np.datetime64(params.as_of, "M") + 1,
            dtype="datetime64[M]",
        )
        first_days = first.astype("datetime64[D]").astype(np.int64)
        next_days = (first + 1).astype("datetime64[D]").astype(np.int64)
        lo = np.maximum(first_days, start)
        hi = np.minimum(next_days, as_of)
        keep = hi > lo
        return cls(as_of, start, first_days[keep], lo[keep], hi[keep])

    @property
    def n_months(self) -> int:
        return len(self.month_first)

    @property
    def as_of_us(self) -> int:
        return self.as_of_day * US_PER_DAY

    @property
    def start_us(self) -> int:
        return self.start_day * US_PER_DAY

    @property
    def month_fraction(self) -> np.ndarray:
        """How much of each calendar month lies in the window (0..1]."""
        return (self.month_hi - self.month_lo) / 30.4375

    @property
    def years(self) -> float:
        return (self.as_of_day - self.start_day) / 365.25
