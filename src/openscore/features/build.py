"""Assembling the feature table: one row per person, every feature of every dimension.

Each dimension's module aggregates the events it reads; people who have no such event
do not appear in its result. Here they are put together, and the rule that makes
sharing less safe is applied: a person who does not share a feature's source gets a
missing value (scored neutral); one who shares it but has no such event gets the
feature's ``fill`` (e.g. zero late payments).

The relationships feature needs other people's scores, so it is not computed here but
passed in as ``graph`` (``features/graph.py``, run by ``jobs/graph.py``): without it
everyone's is missing (nothing known is neutral); with it, a person who shares ``social``
gets their value (0 if they have no trusted connection) and anyone else stays missing —
so revoking ``social`` makes it missing at once, whatever the graph table says.

Batch scoring computes the feature table once (``shared_flags=True`` keeps the per-source
sharing flags), scores stage 1 from it, and fills in the graph features afterwards with
:func:`with_graph`, which applies the same rule as passing ``graph`` here (on DuckDB the
table is held in memory as Arrow and :func:`with_graph_arrays` does the same there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from openscore.domain.sources import CONSENTABLE_SOURCES, Source
from openscore.features import behaviour, capacity, credit_history, identity, profile
from openscore.features.catalog import FEATURES
from openscore.features.frame import AsOf, as_of_view, day_of
from openscore.features.graph import GRAPH_FEATURES, HISTORY_SOURCES, GraphParams, may_vouch

#: each module gives per-person aggregates and the features computed from them (``profile``:
#: the profile facts' aggregates, read by identity's and capacity's features)
DIMENSION_MODULES = (credit_history, capacity, behaviour, identity, profile)


def build_features(
    events: ir.Table,
    as_of: date,
    people: ir.Table | None = None,
    graph: ir.Table | None = None,
    *,
    shared_flags: bool = False,
    vouchers: GraphParams | None = None,
    latest: datetime | None = None,
) -> ir.Table:
    """Features as of ``as_of`` for everyone in the ledger (and in ``people`` if given).

    ``graph``: ``person_id`` and the graph features (``network_trust``) of the last graph
    run; None leaves them missing for everyone. ``shared_flags`` adds a boolean
    ``has_<source>`` column per consentable source after the features (what
    :func:`with_graph` needs). ``vouchers`` adds a boolean ``vouches`` column last: the
    person may vouch for others in the trust propagation with these parameters
    (``features/graph.py::voucher_facts``, taken here in the pass that computes the
    sharing flags rather than by two more scans of the events). ``latest``: the latest
    event's time, where the ledger's statistics tell it (``as_of_view``).
    """
    a = AsOf(as_of)
    ev = as_of_view(events, a, latest)
    # per source the time of the person's earliest event: whether they share it, and (for
    # the voucher rule) the start of their own history, in one aggregate (cheaper than a
    # count per source and a minimum beside them: ``docs/scale.md``)
    first = ev.group_by("person_id").aggregate(
        **{
            _first(s.value): ev.occurred_at.min(where=ev.source == s.value)
            for s in CONSENTABLE_SOURCES
        }
    )
    per_person: dict[str, ir.Value] = {
        f"has_{s.value}": first[_first(s.value)].notnull() for s in CONSENTABLE_SOURCES
    }
    if vouchers is not None:
        # the day (``day_of``) of the earliest own event: a day for each of the 105 M rows
        # of a 1 M-person ledger cost 11 of the score job's 84 CPU s there; ``least``
        # skips the sources a person has no event of (null where they have none)
        own = ibis.least(*(first[_first(s)] for s in HISTORY_SOURCES))
        per_person[_FIRST_OWN_DAY] = day_of(own)
    flags = first.select("person_id", **per_person)
    if people is not None:
        base = people.select("person_id").distinct()
        base = base.left_join(flags.view(), "person_id").select(~ibis.selectors.endswith("_right"))
    else:
        base = flags
    out = base
    for module in DIMENSION_MODULES:
        for agg in module.aggregates(ev, a):
            out = out.left_join(agg.view(), "person_id").select(~ibis.selectors.endswith("_right"))
    if graph is not None:
        g = graph.select("person_id", *[graph[f].cast("float64") for f in GRAPH_FEATURES])
        out = out.left_join(g, "person_id").select(~ibis.selectors.endswith("_right"))
    derived: dict[str, ir.Value] = {}
    for module in DIMENSION_MODULES:
        derived.update(module.features(out, a))
    for name in GRAPH_FEATURES:
        derived[name] = out[name] if graph is not None else ibis.null("float64")
    columns: dict[str, ir.Value] = {}
    for spec in FEATURES:
        value = derived[spec.name].cast("float64")
        if spec.name in GRAPH_FEATURES and graph is None:
            pass  # no graph run: unknown, so missing for everyone (neutral)
        elif spec.source == Source.PUBLIC_RECORDS:
            value = value.fill_null(0.0)  # held on a legal basis for everyone: none is 0
        elif spec.fill is not None:
            value = _shared_or_missing(value, out[f"has_{spec.source.value}"], spec.fill)
        columns[spec.name] = value
    if shared_flags:
        for s in CONSENTABLE_SOURCES:
            columns[f"has_{s.value}"] = out[f"has_{s.value}"].fill_null(False)
    if vouchers is not None:
        # a verified identity (``verified_identity``): profile's aggregate of the identity
        # facts is 1 exactly when one of them is verified (no third scan of the events)
        verified = (out.identity_verified == 1).fill_null(False)
        columns["vouches"] = may_vouch(verified, out[_FIRST_OWN_DAY], a, vouchers)
    return out.select("person_id", **columns)


#: the per-person aggregate behind ``vouches`` (not in the result)
_FIRST_OWN_DAY = "__first_own_day"


def _first(source: str) -> str:
    return f"__first_{source}"


def with_graph(features: ir.Table, graph: ir.Table) -> ir.Table:
    """A feature table made with ``shared_flags=True`` and no graph, with the graph
    features of ``graph`` filled in exactly as ``build_features(..., graph=graph)`` does.

    Returns ``person_id`` and the features in catalogue order (the flags are dropped).
    """
    g = graph.select(
        "person_id", *[graph[f].cast("float64").name(f"__g_{f}") for f in GRAPH_FEATURES]
    )
    out = features.left_join(g, "person_id").select(~ibis.selectors.endswith("_right"))
    columns: dict[str, ir.Value] = {}
    for spec in FEATURES:
        if spec.name not in GRAPH_FEATURES:
            columns[spec.name] = out[spec.name]
            continue
        value = out[f"__g_{spec.name}"]
        if spec.fill is not None:
            value = _shared_or_missing(value, out[f"has_{spec.source.value}"], spec.fill)
        columns[spec.name] = value
    return out.select("person_id", **columns)


def with_graph_arrays(features: pa.Table, graph: Mapping[str, npt.ArrayLike]) -> pa.Table:
    """:func:`with_graph` on an Arrow table in memory (the DuckDB batch job's).

    ``features``: a feature table made with ``shared_flags=True`` and no graph, as Arrow;
    ``graph``: each graph feature per row of ``features``, NaN where the graph table has
    no row for the person. The same rule as :func:`with_graph`: a person who does not
    share the feature's source gets a missing value, one who shares it but has no row
    the feature's ``fill``. Returns ``person_id`` and the features in catalogue order.
    """
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"person_id": features["person_id"]}
    for spec in FEATURES:
        if spec.name not in GRAPH_FEATURES:
            columns[spec.name] = features[spec.name]
            continue
        value = np.asarray(graph[spec.name], dtype=np.float64)
        absent = np.isnan(value)
        if spec.fill is not None:
            value = np.where(absent, float(spec.fill), value)
            shares = features[f"has_{spec.source.value}"].fill_null(False)
            absent = ~np.asarray(shares.to_numpy(), dtype=np.bool_)
        columns[spec.name] = pa.array(value, pa.float64(), mask=absent)
    return pa.table(columns)


def _shared_or_missing(
    value: ir.FloatingValue, shares: ir.BooleanValue, fill: float
) -> ir.FloatingValue:
    """Principle 2's rule: a source not shared is missing; shared with no event, ``fill``."""
    return ibis.cases(
        (shares.fill_null(False), value.fill_null(float(fill))), else_=ibis.null("float64")
    )
