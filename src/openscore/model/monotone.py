"""A declared feature's whole effect in its direction, when pair tables may bend.

A feature with a declared direction of risk must move a person's points the declared way
whatever their other values. Its main table does so on its own; a pair table over it is
a correction that may bend the other way by as much as the main table moves the right
way at the same edge (the *room*), shared between the feature's pairs: then the sum of
the main table and the worst line of every pair still moves the declared way at every
edge (``training.monotone_violations`` checks exactly that).

:func:`keep_room` is the exact guarantee on integer points. Training applies it after the
export, and again after the scale is calibrated: that rescale rounds each table on its
own, which can move a step of a pair and its main table by a point each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from openscore.model.format import NumericBinning, Term

_DECLARED = ("ascending", "descending")


def room_at(core: np.ndarray, edges: np.ndarray, at: np.ndarray, rising: bool) -> np.ndarray:
    """How far a monotone table (``core``: its value bins, with ``edges``) moves the
    declared way -- up if ``rising``, else down -- exactly at each edge of ``at`` (0 where
    such an edge falls inside one of its bins)."""
    above = np.searchsorted(edges, at, side="right")
    below = np.searchsorted(edges, at, side="left")
    step = np.asarray(core, dtype=float)[above] - np.asarray(core, dtype=float)[below]
    room: np.ndarray = np.maximum(step if rising else -step, 0)
    return room


def along(line: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """``line`` shaped to broadcast along ``axis`` of an ``ndim``-dimensional table."""
    shape = [1] * ndim
    shape[axis] = len(line)
    return np.asarray(line).reshape(shape)


def slack_guarantee(pair: np.ndarray, axis_rooms: list[tuple[int, np.ndarray, bool]]) -> np.ndarray:
    """A pair table of integer points (our layout: missing last on each axis) whose every
    line along a declared axis bends against the direction by at most the room at each
    edge.

    ``axis_rooms``: (axis, whole points of room at each of the pair's edges on it, risk
    ascending). Ascending risk means points fall as the value grows, so a line may rise by
    at most the room: ``pair - cumulative room`` is made non-increasing by a running min
    (descending: ``pair + cumulative room`` non-decreasing, a running max). A line already
    within its room is unchanged; a running min or max along one axis keeps the order
    along the other.
    """
    out = np.array(pair, dtype=np.int64)
    inner = tuple(slice(0, n - 1) for n in out.shape)
    core = out[inner]
    offset = np.zeros_like(core)
    for axis, room, ascending in axis_rooms:
        line = np.concatenate([[0], np.cumsum(np.asarray(room, dtype=np.int64))])
        offset = offset + (-1 if ascending else 1) * along(line, axis, core.ndim)
    q = core + offset
    for axis, _, ascending in axis_rooms:
        q = (np.minimum if ascending else np.maximum).accumulate(q, axis=axis)
    out[inner] = q - offset
    return out


def keep_room(terms: Sequence[Term], directions: Mapping[str, str]) -> tuple[Term, ...]:
    """``terms`` with every pair over a declared feature within the room its main table
    leaves it (shared equally between the feature's pairs, in whole points)."""
    mains = {t.features[0]: t for t in terms if not t.is_pair}
    pairs_of: dict[str, int] = {}
    for t in terms:
        if t.is_pair:
            for f in t.features:
                pairs_of[f] = pairs_of.get(f, 0) + 1
    out = []
    for t in terms:
        rooms = []
        for axis, f in enumerate(t.features if t.is_pair else ()):
            b = t.binnings[axis]
            direction = directions.get(f, "none")
            if direction not in _DECLARED or not isinstance(b, NumericBinning):
                continue
            edges = np.asarray(b.edges, dtype=float)
            room = np.zeros(len(edges), dtype=np.int64)
            main = mains.get(f)
            if main is not None and isinstance(main.binnings[0], NumericBinning):
                mb = main.binnings[0]
                core = np.asarray(main.points[: mb.missing_index], dtype=float)
                # points fall as risk rises: the main table falls (ascending) or rises
                rising = direction != "ascending"
                raw = room_at(core, np.asarray(mb.edges, dtype=float), edges, rising)
                room = raw.astype(np.int64) // pairs_of[f]
            rooms.append((axis, room, direction == "ascending"))
        if rooms:
            pts = slack_guarantee(np.asarray(t.points, dtype=np.int64), rooms)
            if not np.array_equal(pts, np.asarray(t.points)):
                t = replace(t, points=tuple(tuple(int(v) for v in row) for row in pts))
        out.append(t)
    return tuple(out)
