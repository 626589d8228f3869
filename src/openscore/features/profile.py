"""The profile facts (``profile_fact`` events), aggregated once per person for the two
dimensions that read them: identity (a verified identity, the address's and phone's
tenure) and fulfilment capacity (verified income and assets).

One filtered scan and one group-by instead of one per dimension and kind of fact: each
scan of the ledger for these few events reads the type and date of every event, which
at 1 M people was four scans and about 10 s of DuckDB's operator time for a few hundred
thousand rows (``docs/scale.md``). Every aggregate is the one its dimension took on its
own: a value is null, not 0, for a person with no fact of its kind (as when the person
was missing from that dimension's group and the join left it null).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features.frame import AsOf


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    facts = ev.filter(ev.type == "profile_fact")
    verified = facts.verified.fill_null(False)  # a fact not marked verified is not
    identity = facts.fact == "identity"
    income = (facts.fact == "income") & verified
    asset = facts.fact.isin(("vehicle", "property")) & verified
    per_person = facts.group_by("person_id").aggregate(
        __identities=facts.count(where=identity),
        __verified=facts.count(where=identity & verified),
        address_since=facts.day.max(where=facts.fact == "address"),
        phone_since=facts.day.max(where=facts.fact == "phone"),
        # latest by day; the larger amount breaks a tie so every engine picks the same
        verified_income=facts.amount.argmax(facts.day * 1e12 + facts.amount, where=income),
        __assets=facts.count(where=asset),
        __asset_kinds=facts.fact.nunique(where=asset),
    )
    t = per_person
    return [
        t.select(
            "person_id",
            "address_since",
            "phone_since",
            "verified_income",
            identity_verified=ibis.ifelse(
                t.__identities > 0, t.__verified.clip(upper=1), ibis.null("int64")
            ),
            verified_assets=ibis.ifelse(t.__assets > 0, t.__asset_kinds, ibis.null("int64")),
        )
    ]


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    """None of its own: identity's and capacity's features read its aggregates."""
    return {}
