"""What-if: rescore a person's current data with some values changed, or without some
sources; nothing is stored or published."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openscore import online, registry
from openscore.errors import InputError
from openscore.features import FEATURES_BY_NAME
from openscore.scoring import what_if
from openscore.services.context import Context
from openscore.services.schemas import WhatIfPublic
from openscore.services.scores import computed_public, ensure_model


def simulate(
    state: Context,
    person_id: str,
    *,
    overrides: Mapping[str, Any],
    without_sources: Sequence[str],
) -> WhatIfPublic:
    """Rescore the person's current data with some values changed; nothing is stored or
    published."""
    ensure_model(state)
    card = online.current_model(state.settings)
    used = set(card.feature_names)
    changed = dict(overrides)
    for name in changed:
        if name not in used:
            raise InputError(
                "the model in service does not use this feature", field=f"overrides.{name}"
            )
    for source in without_sources:
        for name in card.feature_names:
            spec = FEATURES_BY_NAME.get(name)
            if spec is not None and spec.source.value == source:
                changed.setdefault(name, None)
    with state.read() as conn:
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    # A dropped source also leaves the features the model does not score but the minimum
    # scoring rule reads (e.g. a bill on file): without them the person may be unscorable.
    for name, spec in FEATURES_BY_NAME.items():
        if spec.source.value in without_sources and name not in used:
            features[name] = None
    result = what_if(card, features, changed)
    return WhatIfPublic(
        before=computed_public(result.before),
        after=computed_public(result.after),
        change=result.change,
        contribution_changes=result.contribution_changes,
        dimension_changes=result.dimension_changes,
        overrides=changed,
    )
