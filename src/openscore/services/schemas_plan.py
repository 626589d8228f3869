"""Answer models of the plan (``GET /v1/me/plan``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openscore.services.schemas import Out


class PlanStepPublic(Out):
    feature: str
    #: what the feature is, in the person's words
    label: str
    #: ``action``: something done each month; ``time``: comes by itself as months pass
    kind: Literal["action", "time"]
    #: one month's step, in the person's words
    action: str
    before: float
    after: float
    before_shown: str
    after_shown: str
    #: months until this step is done (steps run side by side)
    months: int
    #: points this step earns on top of the steps listed before it (from the model in use)
    points: int
    #: the score once this step and those before it are done
    score_after: int


class PlanPublic(Out):
    status: Literal["plan", "unreachable"]
    score: int
    band: str
    #: the lowest score of the next band, and that band
    target: int
    target_band: str
    points_needed: int
    #: months until the target is reached (the longest step); 0 when unreachable
    months: int
    steps: list[PlanStepPublic] = Field(default_factory=list)
    #: the score the plan leads to (the score now when unreachable)
    score_after: int
    #: the longest plan considered, in months
    horizon_months: int
    model_id: str
