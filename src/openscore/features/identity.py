"""Identity: a verified identity, and how long the address and phone number have lasted."""

from __future__ import annotations

import ibis.expr.types as ir

from openscore.features.frame import AsOf, months_since


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    # identity_verified, address_since and phone_since: features/profile.py, which reads
    # the profile facts once for identity and capacity
    return []


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    return {
        "identity_verified": t.identity_verified,
        "address_tenure_months": months_since(t.address_since, as_of),
        "phone_tenure_months": months_since(t.phone_since, as_of),
    }
