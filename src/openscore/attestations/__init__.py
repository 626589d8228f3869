"""Score attestations a person can show anyone: SD-JWTs signed by openscore (Ed25519),
checkable offline against the published key set, revealing only the claims chosen.

:mod:`.sdjwt` makes and checks tokens, :mod:`.keys` keeps the signing keys,
:mod:`.claims` says what may be claimed and whether a score supports it. Issuing for a
person (reading their score, recording the inquiry) is :mod:`openscore.services.attestations`.
"""

from __future__ import annotations

from openscore.attestations.claims import ClaimRequest, Standing, parse_claim
from openscore.attestations.keys import KeyStore
from openscore.attestations.sdjwt import ALGORITHM, Refused, Verified, issue, present, verify

__all__ = [
    "ALGORITHM",
    "ClaimRequest",
    "KeyStore",
    "Refused",
    "Standing",
    "Verified",
    "issue",
    "parse_claim",
    "present",
    "verify",
]
