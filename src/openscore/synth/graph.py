"""The friend graph, made block by block so that memory does not grow with N.

People are numbered city by city and, within a block, sorted by a noisy copy of their
latent risk (``world.py``), so *closeness in generation order* means same city and
similar risk. Each person starts ``k`` friendships, ``k`` Lomax-distributed (a Pareto
shifted to start at 0, tail index ``degree_tail``: a few people have hundreds of
friends); each goes to the person ``1 + Exponential(25 + k)`` places away (either
direction, less than one block) -- of two such candidates, the one closer in risk key.
Friendships are mutual and undirected: duplicates collapse into one edge dated by its
earliest start, self-loops cannot occur. The mean degree, counted over everyone before
consent, is ``mean_degree``.

An edge joins people at most one block apart, so the edges touching a chunk's people
are all started by people of the chunk or of the blocks just before and after it --
which are regenerated from their own random streams, identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.eventfiles.columns import US_PER_DAY
from openscore.synth.streams import BLOCK, Streams
from openscore.synth.timeline import EARLIEST_DAY, Timeline
from openscore.synth.world import People, World

#: Edges lost to duplicates and to the edges of the population (measured; see tests).
_DUPLICATE_LOSS = 1.17
_MAX_STARTED = 1000


@dataclass(frozen=True)
class Edges:
    """Undirected edges as generation indexes (``a < b``) and start times (µs)."""

    a: np.ndarray
    b: np.ndarray
    start_us: np.ndarray


def _lomax_scale(world: World) -> float:
    """The Lomax scale whose floored mean gives the target mean degree."""
    tail = world.params.world.degree_tail
    mean_started = world.params.world.mean_degree / 2 * _DUPLICATE_LOSS + 0.5
    return mean_started * (tail - 1)


def started(world: World, people: People) -> Edges:
    """The friendships started by ``people`` (whole blocks), with duplicates.

    Each friendship is offered to two candidates at independent distances on the same
    side; the one whose risk key is closer takes it. Candidates outside ``people`` only
    occur for friendships that start in an edge block and point away from the chunk,
    which ``edges_touching`` drops whichever candidate they pick.
    """
    streams = Streams(world.params.seed, people.first_block, people.n_blocks)
    sizes = people.block_sizes
    index = people.index
    base = int(index[0]) if len(index) else 0
    u = streams.uniform("graph.degree", sizes)
    tail = world.params.world.degree_tail
    k = np.floor(_lomax_scale(world) * ((1.0 - u) ** (-1.0 / tail) - 1.0))
    k = np.minimum(k, _MAX_STARTED).astype(np.int64)
    owner = np.repeat(np.arange(len(index)), k)
    counts = np.bincount(people.block[owner] - people.first_block, minlength=len(sizes))
    scale = 25.0 + k[owner]
    sign = np.where(streams.uniform("graph.direction", counts) < 0.5, -1, 1)
    src = index[owner]
    targets = []
    for name in ("graph.distance", "graph.distance2"):
        distance = 1 + np.floor(streams.exponential(name, counts) * scale)
        targets.append(src + sign * np.minimum(distance, BLOCK - 1).astype(np.int64))
    gaps = []
    key = people.homophily_key
    for dst in targets:
        inside = (dst >= base) & (dst < base + len(index))
        gap = np.full(len(dst), np.inf)
        gap[inside] = np.abs(key[dst[inside] - base] - key[owner[inside]])
        gaps.append(gap)
    dst = np.where(gaps[1] < gaps[0], targets[1], targets[0])
    start_us = since_times(world, 4.0 * streams.exponential("graph.since", counts))
    keep = (dst >= 0) & (dst < world.n_people)
    a, b = np.minimum(src, dst)[keep], np.maximum(src, dst)[keep]
    return Edges(a, b, start_us[keep])


def since_times(world: World, years: np.ndarray) -> np.ndarray:
    """Start times ``years`` before ``as_of`` (never before 1900)."""
    tl = Timeline.of(world.params)
    back = np.floor(years * 365.25 * US_PER_DAY).astype(np.int64)
    return np.maximum(tl.as_of_us - 1 - back, EARLIEST_DAY * US_PER_DAY)


def edges_touching(world: World, people: People, lo: int, hi: int) -> Edges:
    """Deduplicated edges with an end among generation indexes ``[lo, hi)``.

    ``people`` must hold the blocks of ``[lo, hi)`` plus one block on each side (where
    they exist).
    """
    e = started(world, people)
    touching = ((e.a >= lo) & (e.a < hi)) | ((e.b >= lo) & (e.b < hi))
    a, b, t = e.a[touching], e.b[touching], e.start_us[touching]
    order = np.lexsort((t, b, a))
    a, b, t = a[order], b[order], t[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return Edges(a[first], b[first], t[first])


def neighbourhood(
    world: World, people_ext: People, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the people ``[lo, hi)``: (person index, friend index, start µs) of every
    friendship in person order, and each person's degree."""
    e = edges_touching(world, people_ext, lo, hi)
    person = np.concatenate([e.a, e.b])
    friend = np.concatenate([e.b, e.a])
    since = np.concatenate([e.start_us, e.start_us])
    mine = (person >= lo) & (person < hi)
    person, friend, since = person[mine], friend[mine], since[mine]
    order = np.lexsort((friend, person))
    degree = np.bincount(person - lo, minlength=hi - lo)
    return person[order], friend[order], since[order], degree
