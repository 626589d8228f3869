"""Identity: a verified identity, and how long the address and phone number have lasted."""

from __future__ import annotations

import ibis.expr.types as ir

from openscore.features.frame import AsOf, months_since


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    facts = ev.filter(ev.type == "profile_fact")
    ident = facts.filter(facts.fact == "identity")
    verified = ident.group_by("person_id").aggregate(
        identity_verified=ident.count(where=ident.verified).clip(upper=1)
    )
    contact = facts.filter(facts.fact.isin(("address", "phone")))
    since = contact.group_by("person_id").aggregate(
        address_since=contact.day.max(where=contact.fact == "address"),
        phone_since=contact.day.max(where=contact.fact == "phone"),
    )
    return [verified, since]


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    return {
        "identity_verified": t.identity_verified,
        "address_tenure_months": months_since(t.address_since, as_of),
        "phone_tenure_months": months_since(t.phone_since, as_of),
    }
