"""The people of a world: where they live, who they are, and the truth behind them.

Mechanisms (parameters in ``WorldParams``; numbers in docs/synthetic-data.md):

* People are numbered in *generation order*, city after city (most populous first), so
  that a block of consecutive people is a neighbourhood: the friend graph links people
  who are close in this order (see ``graph.py``). Within a block, each city's people are
  sorted by a noisy copy of their latent risk -- ascending in even blocks, descending in
  odd ones so that neighbours across a block boundary stay alike. The public
  ``person_id`` is a keyed permutation of the generation index, so ids carry no city.
* Income is log-normal: the median grows with city size, education and a mid-life age
  hump; the person's income shock ``u`` is the rest.
* Latent risk ``z`` is standard normal, correlated with the negated income shock.
  The true probability of default is ``sigmoid(a + b z)``, with ``a`` solved so that the
  expected bad rate is ``bad_rate``; ``defaulted`` is drawn from it.
* E-literacy (how much of life runs through the wallet) falls with age and rises with
  city size, education and income -- but, given those, is independent of risk: low
  e-literacy makes a thin file, not a bad one.
* Each person consents to each source independently with the run's probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.geo.cities import BAND_NAMES, Cities
from openscore.synth.params import SynthParams
from openscore.synth.streams import BLOCK, Streams

EDUCATION_LEVELS = ("primary", "secondary", "vocational", "bachelor", "postgraduate")
_EDUCATION_CUTS = np.array([-1.3, -0.2, 0.5, 1.6])
SEXES = ("female", "male")
SHARED_SOURCES: tuple[str, ...] = tuple(s.value for s in CONSENTABLE_SOURCES)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def default_intercept(bad_rate: float, slope: float) -> float:
    """The ``a`` of ``sigmoid(a + slope z)`` whose mean over ``z ~ N(0, 1)`` is
    ``bad_rate`` (Gauss-Hermite quadrature, then bisection): exact, whatever N."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    lo, hi = -30.0, 30.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if float(weights @ sigmoid(mid + slope * nodes)) < bad_rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class IdPermutation:
    """A keyed bijection of ``[0, n)`` (a 4-round Feistel network with cycle walking).

    It turns generation indexes into person numbers without a table, so memory does
    not grow with N and any block can be numbered on its own.
    """

    _MUL = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        bits = max(2, int(np.ceil(np.log2(max(n, 2)))))
        self.half = (bits + 1) // 2
        self.mask = np.uint64((1 << self.half) - 1)
        keys = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(7,))))
        self.keys = keys.integers(0, 2**63, size=4, dtype=np.uint64)

    def _round(self, right: np.ndarray, key: np.uint64) -> np.ndarray:
        x = (right ^ key) * self._MUL
        x ^= x >> np.uint64(29)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(32)
        return x & self.mask

    def _encrypt(self, x: np.ndarray) -> np.ndarray:
        shift = np.uint64(self.half)
        left, right = x >> shift, x & self.mask
        for key in self.keys:
            left, right = right, left ^ self._round(right, key)
        return (left << shift) | right

    def __call__(self, index: np.ndarray) -> np.ndarray:
        x = self._encrypt(np.asarray(index, dtype=np.uint64))
        out_of_range = x >= np.uint64(self.n)
        while out_of_range.any():
            x[out_of_range] = self._encrypt(x[out_of_range])
            out_of_range = x >= np.uint64(self.n)
        return x.astype(np.int64)


@dataclass(frozen=True)
class World:
    """What is fixed for a whole run: the cities, how many people each holds, the
    default intercept and the id permutation. Small and picklable."""

    params: SynthParams
    cities: Cities
    city_end: np.ndarray  # cumulative people per city (generation order)
    intercept: float
    id_digits: int
    permutation: IdPermutation = field(repr=False)

    @classmethod
    def build(cls, params: SynthParams, cities: Cities) -> World:
        gen = Streams(params.seed, first_block=0, n_blocks=1).generator("world.city_counts", 0)
        counts = gen.multinomial(params.people, cities.weights)
        return cls(
            params=params,
            cities=cities,
            city_end=np.cumsum(counts),
            intercept=default_intercept(params.world.bad_rate, params.world.risk_slope),
            id_digits=max(7, len(str(params.people))),
            permutation=IdPermutation(params.people, params.seed),
        )

    @property
    def n_people(self) -> int:
        return self.params.people

    @property
    def n_blocks(self) -> int:
        return -(-self.n_people // BLOCK)

    def block_sizes(self, first_block: int, n_blocks: int) -> np.ndarray:
        starts = np.arange(first_block, first_block + n_blocks, dtype=np.int64) * BLOCK
        return np.minimum(starts + BLOCK, self.n_people) - starts


@dataclass
class People:
    """The people of a run of consecutive blocks (arrays aligned, generation order)."""

    first_block: int
    n_blocks: int
    block_sizes: np.ndarray
    index: np.ndarray  # generation index
    number: np.ndarray  # person number (1-based, permuted): person_id = p + digits
    city: np.ndarray
    band: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    education: np.ndarray
    income: np.ndarray
    income_shock: np.ndarray
    e_literacy: np.ndarray
    risk: np.ndarray
    true_pd: np.ndarray
    defaulted: np.ndarray
    homophily_key: np.ndarray  # noisy latent risk: friends are chosen close in it
    shares: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.index)

    @property
    def block(self) -> np.ndarray:
        return self.index // BLOCK

    def take(self, sel: np.ndarray | slice, first_block: int, n_blocks: int) -> People:
        """The people of a sub-run of whole blocks."""
        cut = {
            name: getattr(self, name)[sel]
            for name in (
                "index number city band age sex education income income_shock e_literacy "
                "risk true_pd defaulted homophily_key"
            ).split()
        }
        offset = first_block - self.first_block
        return People(
            first_block=first_block,
            n_blocks=n_blocks,
            block_sizes=self.block_sizes[offset : offset + n_blocks],
            shares={k: v[sel] for k, v in self.shares.items()},
            **cut,
        )


def make_people(world: World, streams: Streams) -> People:
    """Draw the people of ``streams``' blocks."""
    wp = world.params.world
    first, nb = streams.first_block, streams.n_blocks
    sizes = world.block_sizes(first, nb)
    index = np.arange(first * BLOCK, first * BLOCK + int(sizes.sum()), dtype=np.int64)
    city = np.searchsorted(world.city_end, index, side="right").astype(np.int32)
    band = world.cities.band[city].astype(np.float64)

    age = np.minimum(18.0 + 10.0 * streams.gamma("person.age", sizes, np.full(len(index), 2.2)), 85)
    age = np.floor(age)
    sex = (streams.uniform("person.sex", sizes) < 0.49).astype(np.int8)
    edu_latent = streams.normal("person.education", sizes) + 0.25 * band - 0.025 * (age - 40)
    education = np.searchsorted(_EDUCATION_CUTS, edu_latent).astype(np.int8)
    shock = streams.normal("person.income", sizes)
    log_income = (
        np.log(wp.median_income)
        + 0.22 * band
        + 0.20 * (education - 2)
        - 0.0007 * (age - 45) ** 2
        + 0.55 * shock
    )
    income = np.round(np.exp(log_income), -1)
    rho = wp.risk_income_corr
    risk = -rho * shock + np.sqrt(1 - rho**2) * streams.normal("person.risk", sizes)
    e_lit = sigmoid(
        0.9
        - 0.05 * (age - 35)
        + 0.45 * (band - 1.0)
        + 0.15 * (education - 2)
        + 0.35 * shock
        + 0.9 * streams.normal("person.e_literacy", sizes)
    )
    true_pd = sigmoid(world.intercept + wp.risk_slope * risk)
    defaulted = streams.uniform("person.default", sizes) < true_pd
    shares = {
        source: streams.uniform(f"person.shares.{source}", sizes)
        < getattr(world.params.shares, source)
        for source in SHARED_SOURCES
    }
    h = wp.risk_homophily
    key = h * risk + np.sqrt(1 - h**2) * streams.normal("person.homophily", sizes)
    block = index // BLOCK
    direction = np.where(block % 2 == 0, 1.0, -1.0)
    order = np.lexsort((key * direction, city, block))
    return People(
        first_block=first,
        n_blocks=nb,
        block_sizes=sizes,
        index=index,
        number=world.permutation(index) + 1,
        city=city,
        band=band.astype(np.int8),
        age=age[order].astype(np.int16),
        sex=sex[order],
        education=education[order],
        income=income[order],
        income_shock=shock[order],
        e_literacy=e_lit[order],
        risk=risk[order],
        true_pd=true_pd[order],
        defaulted=defaulted[order],
        homophily_key=key[order],
        shares={k: v[order] for k, v in shares.items()},
    )


PEOPLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("city", pa.string()),
        ("city_id", pa.int64()),
        ("country", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("city_population", pa.int64()),
        ("city_size_band", pa.string()),
        ("age", pa.int16()),
        ("sex", pa.string()),
        ("education", pa.string()),
        ("income", pa.float64()),
        ("e_literacy", pa.float64()),
        ("latent_risk", pa.float64()),
        ("true_pd", pa.float64()),
        ("defaulted", pa.bool_()),
        ("degree", pa.int32()),
        *[(f"shares_{s}", pa.bool_()) for s in SHARED_SOURCES],
    ]
)

OUTCOMES_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("as_of", pa.date32()),
        ("defaulted_12m", pa.int8()),
        ("horizon_months", pa.int8()),
    ]
)


def people_table(world: World, people: People, person_ids: pa.Array, degree: np.ndarray):
    """``people.parquet`` rows: the ground truth, never a scoring input."""
    c = world.cities
    city = people.city
    cols = {
        "person_id": person_ids,
        "city": pa.array(c.name, pa.string()).take(pa.array(city)),
        "city_id": pa.array(c.city_id[city], pa.int64()),
        "country": pa.array(np.full(len(city), c.country), pa.string()),
        "latitude": pa.array(c.latitude[city]),
        "longitude": pa.array(c.longitude[city]),
        "city_population": pa.array(c.population[city], pa.int64()),
        "city_size_band": pa.array(BAND_NAMES, pa.string()).take(pa.array(c.band[city])),
        "age": pa.array(people.age, pa.int16()),
        "sex": pa.array(SEXES, pa.string()).take(pa.array(people.sex)),
        "education": pa.array(EDUCATION_LEVELS, pa.string()).take(pa.array(people.education)),
        "income": pa.array(people.income),
        "e_literacy": pa.array(np.round(people.e_literacy, 6)),
        "latent_risk": pa.array(np.round(people.risk, 6)),
        "true_pd": pa.array(np.round(people.true_pd, 8)),
        "defaulted": pa.array(people.defaulted),
        "degree": pa.array(degree.astype(np.int32)),
        **{f"shares_{s}": pa.array(people.shares[s]) for s in SHARED_SOURCES},
    }
    return pa.Table.from_pydict(cols, schema=PEOPLE_SCHEMA)
