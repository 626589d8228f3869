"""Actionable recourse: the least a person has to do to reach a target score.

A scorecard is additive and piecewise constant (bins × points), so the best plan is an
exact small optimisation, not a search (Ustun, Spangher and Liu, "Actionable Recourse in
Linear Classification", 2019). Only features with an :class:`Action` in the catalogue
move, each a month at a time by at most its step, in its own direction (and never
against the direction of risk the model declares for it); everything else (historical
facts, what a person is, what others' records say) stays as it is.

The plan minimises, in this order:

1. **months** until the target is reached. Steps run side by side, so a plan takes as
   long as its longest step. Features that grow with time (``kind="time"``) move by
   themselves: in a plan of ``T`` months they *are* ``T`` months further on, whether that
   helps or not;
2. **effort**: the number of monthly steps the person takes (time costs none).

For each horizon ``T`` (0, 1, … ``horizon``), each group of features tied together by
pair terms offers the bins it can reach within ``T`` months; choosing one option per group
so that the points reach the target at the least effort is a multiple-choice knapsack,
solved exactly by a dynamic programme over points (capped at the points needed). The
first ``T`` with a solution is the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from openscore.features.catalog import Action
from openscore.model.format import NumericBinning, Scorecard, Term, is_missing

#: The longest plan considered, in months.
HORIZON_MONTHS = 24


@dataclass(frozen=True, slots=True)
class Step:
    """One feature's change in a plan."""

    feature: str
    kind: str  # "action" | "time"
    before: float
    after: float
    months: int  # how many months it takes (monthly steps)
    effort: int  # monthly steps the person takes (0 for time)
    points: int  # points it earns (in plan order, so that the steps sum to the total)
    words: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The cheapest way to reach ``target`` (or ``reachable=False`` and no steps)."""

    target: int
    raw_now: int
    needed: int
    reachable: bool
    months: int = 0
    effort: int = 0
    steps: tuple[Step, ...] = ()
    values: dict[str, float] = field(default_factory=dict)  # the features that change

    @property
    def points(self) -> int:
        return sum(s.points for s in self.steps)


@dataclass(frozen=True, slots=True)
class _Option:
    """One group's choice: new values for its movable features, at a cost."""

    values: tuple[tuple[str, float, int, int], ...]  # (feature, value, months, effort)
    delta: int
    months: int
    effort: int


def _direction_allowed(card: Scorecard, name: str, action: Action) -> bool:
    """An action moves the value the way the model says lowers risk, or the model has no
    declared direction for it."""
    monotonic = card.feature(name).monotonic
    if monotonic == "ascending":  # more is riskier: only down
        return action.direction == "down"
    if monotonic == "descending":
        return action.direction == "up"
    return True


def movable(
    card: Scorecard, features: Mapping[str, Any], actions: Mapping[str, Action]
) -> dict[str, Action]:
    """The features a plan may move: numeric model inputs with an action, a known value
    and a direction the model agrees with."""
    numeric = {
        f
        for t in card.terms
        for f, b in zip(t.features, t.binnings, strict=True)
        if isinstance(b, NumericBinning)
    }
    out = {}
    for name, action in actions.items():
        if name not in numeric or is_missing(features.get(name)):
            continue
        if action.step <= 0 or not _direction_allowed(card, name, action):
            continue
        out[name] = action
    return out


def value_after(action: Action, start: float, steps: int) -> float:
    """The value after ``steps`` monthly steps from ``start``: never past the limit, and
    not moved at all when it is already there or beyond."""
    if action.direction == "up":
        if action.limit is None:
            return start + action.step * steps
        return start if start >= action.limit else min(start + action.step * steps, action.limit)
    if action.limit is None:
        return start - action.step * steps
    return start if start <= action.limit else max(start - action.step * steps, action.limit)


def _choices(
    card: Scorecard, name: str, action: Action, start: float, horizon: int
) -> list[tuple[float, int, int]]:
    """(value, months, effort) of each bin the feature can reach: the first month each
    of its term bins is reached (time features: only the value at ``horizon``)."""
    if action.kind == "time":
        return [(value_after(action, start, horizon), horizon, 0)]
    bins = [b for t in card.terms for f, b in zip(t.features, t.binnings, strict=True) if f == name]
    seen: dict[tuple[int, ...], tuple[float, int, int]] = {}
    for k in range(horizon + 1):
        v = value_after(action, start, k)
        key = tuple(b.index(v) for b in bins)
        if key not in seen:
            seen[key] = (v, k, k)
    return list(seen.values())


def _groups(card: Scorecard, names: Sequence[str]) -> list[tuple[list[str], list[Term]]]:
    """Movable features in groups tied by pair terms, each with the terms it touches."""
    parent = {n: n for n in card.feature_names}

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    for t in card.terms:
        if t.is_pair:
            a, b = root(t.features[0]), root(t.features[1])
            if a != b:
                parent[a] = b
    members: dict[str, list[str]] = {}
    for n in names:
        members.setdefault(root(n), []).append(n)
    out = []
    for r, group in members.items():
        terms = [t for t in card.terms if root(t.features[0]) == r]
        out.append((sorted(group), terms))
    return out


def _term_points(terms: Sequence[Term], values: Mapping[str, Any]) -> int:
    return sum(t.cell(t.index_of([values.get(f) for f in t.features])) for t in terms)


def _options(
    card: Scorecard,
    group: list[str],
    terms: list[Term],
    features: Mapping[str, Any],
    moves: Mapping[str, Action],
    horizon: int,
) -> list[_Option]:
    base = _term_points(terms, features)
    per_feature = [
        [
            (name, v, m, e)
            for v, m, e in _choices(card, name, moves[name], float(features[name]), horizon)
        ]
        for name in group
    ]
    out = []
    for combo in product(*per_feature):
        values = dict(features)
        values.update({name: v for name, v, _, _ in combo})
        out.append(
            _Option(
                values=tuple(combo),
                delta=_term_points(terms, values) - base,
                months=max((m for _, _, m, _ in combo), default=0),
                effort=sum(e for _, _, _, e in combo),
            )
        )
    return out


def _knapsack(groups: Sequence[Sequence[_Option]], needed: int) -> list[_Option] | None:
    """One option per group with points >= ``needed`` at the least effort (ties: the
    first found, groups and options in order), or None.

    Points are capped to keep the table small, but only where no later group can take
    them back below ``needed``: time moves whether it helps or not, so a group's every
    option may lose points, and a sum capped before such a loss would be understated."""
    # what the groups after each one can take away at most
    losses = [max(0, -min((o.delta for o in options), default=0)) for options in groups]
    after = [sum(losses[i + 1 :]) for i in range(len(groups))]
    # points reached (capped at ``needed`` plus what may still be lost) -> (effort, choices)
    best: dict[int, tuple[int, tuple[int, ...]]] = {0: (0, ())}
    for options, later in zip(groups, after, strict=True):
        nxt: dict[int, tuple[int, tuple[int, ...]]] = {}
        for points, (effort, chosen) in best.items():
            for i, o in enumerate(options):
                p = min(needed + later, points + o.delta)
                e = effort + o.effort
                if p not in nxt or e < nxt[p][0]:
                    nxt[p] = (e, (*chosen, i))
        best = nxt
    found = best.get(needed)
    if found is None:
        return None
    return [options[i] for options, i in zip(groups, found[1], strict=True)]


def plan(
    card: Scorecard,
    features: Mapping[str, Any],
    actions: Mapping[str, Action],
    target: int,
    *,
    horizon: int = HORIZON_MONTHS,
) -> Plan:
    """The plan that reaches ``target`` points (before clipping to the score range) in the
    fewest months, then with the least effort; ``reachable=False`` when no plan within
    ``horizon`` months can."""
    raw = card.intercept_points + _term_points(card.terms, features)
    needed = target - raw
    moves = movable(card, features, actions)
    groups = _groups(card, sorted(moves))
    if needed <= 0:
        return Plan(target=target, raw_now=raw, needed=needed, reachable=True)
    for months in range(horizon + 1):
        options = [_options(card, g, terms, features, moves, months) for g, terms in groups]
        chosen = _knapsack(options, needed)
        if chosen is not None:
            return _as_plan(card, features, moves, target, raw, needed, chosen)
    return Plan(target=target, raw_now=raw, needed=needed, reachable=False)


def _as_plan(
    card: Scorecard,
    features: Mapping[str, Any],
    moves: Mapping[str, Action],
    target: int,
    raw: int,
    needed: int,
    chosen: Sequence[_Option],
) -> Plan:
    changes = [
        (name, v, m, e)
        for option in chosen
        for name, v, m, e in option.values
        if v != float(features[name])
    ]
    # Steps in order of the months they take; each step's points are what it adds on top
    # of the steps before it, so that a pair term's points are not counted twice.
    changes.sort(key=lambda c: (c[2], c[0]))
    values = dict(features)
    steps = []
    total = _term_points(card.terms, values)
    for name, v, m, e in changes:
        values[name] = v
        now = _term_points(card.terms, values)
        steps.append(
            Step(
                feature=name,
                kind=moves[name].kind,
                before=float(features[name]),
                after=v,
                months=m,
                effort=e,
                points=now - total,
                words=moves[name].words,
            )
        )
        total = now
    # Time that passes without changing the score is not a step worth reading.
    shown = tuple(s for s in steps if s.points or s.kind != "time")
    return Plan(
        target=target,
        raw_now=raw,
        needed=needed,
        reachable=True,
        months=max((s.months for s in steps), default=0),
        effort=sum(s.effort for s in steps),
        steps=shown,
        values={s.feature: s.after for s in steps},
    )


__all__ = ["HORIZON_MONTHS", "Plan", "Step", "movable", "plan", "value_after"]
