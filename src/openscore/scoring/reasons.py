"""Reason codes and dimension sub-scores: the rules both scorers share.

Both the one-person scorer (plain Python) and the compiled Ibis expression implement
these rules; the property test in ``tests/scoring`` holds them to identical answers.

- A term's *loss* is ``best − points`` (best = its most points over non-missing cells).
- Reasons: terms with loss > 0, largest loss first, ties by position in ``terms``, at
  most :data:`MAX_REASONS`.
- A term whose cell is missing (the person did not share the source, or nothing is on
  file) is a reason like any other -- it is where points could be gained -- but it never
  says the person did something wrong: its texts are :func:`missing_texts` (what is not on
  file, that it counts as average, how many points it could add).
- What helps: terms whose cell is known and earns more than 0 points (0 is the missing
  cell, i.e. the average sharer), most points first, ties by position, at most
  :data:`MAX_HELPS`.
- Sub-score of a dimension: ``round_half_up(100·(pts − min) / (max − min))``, 50 when the
  dimension has no range, and ``None`` ("no data") when every term of the dimension is
  on its missing cell. Integer arithmetic, so SQL and Python cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openscore.model.format import Scorecard, Term

MAX_REASONS = 4
MAX_HELPS = 3
NEUTRAL_SUBSCORE = 50


def missing_texts(card: Scorecard, term: Term) -> tuple[str, str]:
    """(text, improve) of a reason whose term is missing: what is not on file, that it
    counts as average (principle 2), and how many points having it could add."""
    described = {f.name: f.description for f in card.features}
    what = "; ".join(
        (described.get(f) or f.replace("_", " ")).strip().rstrip(".") for f in term.features
    )
    return (
        f"Not on file: {what}. You are scored as an average person who shares it",
        f"Could add up to {term.best} points once it is on file "
        "(share its source, or let it build up)",
    )


@dataclass(frozen=True, slots=True)
class Reason:
    """One key factor: which term, how many points it cost, and what would help."""

    code: str
    text: str
    improve: str
    points_lost: int
    #: the term's cell is the missing one: nothing on file, never the person's fault (a
    #: decline never cites it)
    missing: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "text": self.text,
            "improve": self.improve,
            "points_lost": self.points_lost,
            "missing": self.missing,
        }


@dataclass(frozen=True, slots=True)
class Help:
    """One factor that helps: a known value earning more than the average sharer's 0."""

    code: str
    text: str
    points: int

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "text": self.text, "points": self.points}


def help_text(card: Scorecard, term: Term) -> str:
    """What a term that earns points is about, in the feature's own words."""
    described = {f.name: f.description for f in card.features}
    return " ".join(
        (described.get(f) or f.replace("_", " ")).strip() for f in term.features
    ).strip()


def top_helps(
    card: Scorecard, points: Sequence[int], missing: Sequence[bool] | None = None
) -> list[Help]:
    """The known terms that earn the most points above the average sharer (0)."""
    gains = [
        (p, i) for i, p in enumerate(points) if p > 0 and not (missing is not None and missing[i])
    ]
    ranked = sorted(gains, key=lambda x: (-x[0], x[1]))
    return [
        Help(code=card.terms[i].name, text=help_text(card, card.terms[i]), points=int(p))
        for p, i in ranked[:MAX_HELPS]
    ]


def term_bests(card: Scorecard) -> list[int]:
    return [t.best for t in card.terms]


def top_reasons(
    card: Scorecard, points: Sequence[int], missing: Sequence[bool] | None = None
) -> list[Reason]:
    """The terms that lost the most points against their best cell.

    ``missing``: per term, whether the person's cell is the missing one (its texts then say
    so); None treats every term as known."""
    losses = [
        (best - p, i) for i, (best, p) in enumerate(zip(term_bests(card), points, strict=True))
    ]
    ranked = sorted((x for x in losses if x[0] > 0), key=lambda x: (-x[0], x[1]))
    out = []
    for loss, i in ranked[:MAX_REASONS]:
        t = card.terms[i]
        if missing is not None and missing[i]:
            text, improve = missing_texts(card, t)
        else:
            text, improve = t.reason, t.improve
        out.append(
            Reason(
                code=t.name,
                text=text,
                improve=improve,
                points_lost=int(loss),
                missing=bool(missing is not None and missing[i]),
            )
        )
    return out


def subscore(points: int, low: int, high: int) -> int:
    """0–100 position of ``points`` in ``[low, high]``, rounded half up (integers only)."""
    span = high - low
    if span <= 0:
        return NEUTRAL_SUBSCORE
    return (200 * (points - low) + span) // (2 * span)


def dimension_subscores(
    card: Scorecard, points: Sequence[int], missing: Sequence[bool] | None = None
) -> dict[str, int | None]:
    """0–100 per dimension; ``None`` (no data) where every term of it is missing."""
    out: dict[str, int | None] = {}
    for dim, rng in card.dimensions.items():
        idx = [i for i, t in enumerate(card.terms) if t.dimension == dim]
        if missing is not None and (not idx or all(missing[i] for i in idx)):
            out[dim] = None
            continue
        pts = sum(points[i] for i in idx)
        out[dim] = subscore(pts, rng.min_points, rng.max_points)
    return out
