"""What-if: rescore a person's current data with some values changed, or without some
sources; nothing is stored or published."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openscore import online, registry
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.errors import InputError
from openscore.features import FEATURES_BY_NAME
from openscore.model.format import Scorecard
from openscore.scoring import what_if
from openscore.scoring.whatif import range_if_shared
from openscore.services.context import Context
from openscore.services.schemas import ShareRangePublic, WhatIfPublic
from openscore.services.scores import computed_public, ensure_model


def simulate(
    state: Context,
    person_id: str,
    *,
    overrides: Mapping[str, Any],
    without_sources: Sequence[str],
    share_sources: Sequence[str] = (),
) -> WhatIfPublic:
    """Rescore the person's current data with some values changed; nothing is stored or
    published. ``share_sources`` (sources not shared now) add what sharing each could do:
    a range, since nothing of a source is on file before it is shared."""
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
        shared = {s.value for s in registry.current_consents(conn, person_id)}
    for i, source in enumerate(share_sources):
        if source in shared:
            raise InputError(
                f"you already share {source}: untick it under the sources you keep instead",
                field=f"share_sources[{i}]",
            )
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    # A dropped source also leaves the features the model does not score but the minimum
    # scoring rule reads (e.g. a bill on file): without them the person may be unscorable.
    for name, spec in FEATURES_BY_NAME.items():
        if spec.source.value in without_sources and name not in used:
            features[name] = None
    if_shared = [share_range(card, features, source) for source in dict.fromkeys(share_sources)]
    result = what_if(card, features, changed)
    return WhatIfPublic(
        before=computed_public(result.before),
        after=computed_public(result.after),
        change=result.change,
        contribution_changes=result.contribution_changes,
        dimension_changes=result.dimension_changes,
        overrides=changed,
        if_shared=if_shared,
    )


def share_range(card: Scorecard, features: Mapping[str, Any], source: str) -> ShareRangePublic:
    """The scores sharing ``source`` could give (its features are missing now)."""
    names = {
        n
        for n in card.feature_names
        if (spec := FEATURES_BY_NAME.get(n)) and spec.source.value == source
    }
    found = range_if_shared(card, features, names)
    return ShareRangePublic(
        source=source,
        lowest=found.lowest,
        average=found.average,
        highest=found.highest,
        features=sorted(names),
    )


def unshared_sources(state: Context, person_id: str) -> list[str]:
    """The consentable sources the person does not share now."""
    with state.read() as conn:
        shared = registry.current_consents(conn, person_id)
    return [s.value for s in CONSENTABLE_SOURCES if s not in shared]
