"""Verifying an openscore score attestation offline (SD-JWT, Ed25519).

``verify(token, jwks)`` checks what openscore's own verifier checks: only the ``Ed25519``
algorithm (``none``, HMACs and anything else refused), a key from the published set
(``GET /.well-known/jwks.json``), canonical base64url, not issued in the future, not
expired, the audience when given, not on the status list when given, and every disclosed
claim's digest in the signed payload. It answers the disclosed claims or raises
:class:`AttestationRefused` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "Ed25519"
TOKEN_TYPE = "openscore-attestation+sd-jwt"
CLAIMS = ("score_at_least", "band_at_least", "no_public_record", "score")
LEEWAY = 60


class AttestationRefused(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise AttestationRefused(f"{what} is not base64url") from None
    if _b64(raw) != text:
        raise AttestationRefused(f"{what} is not canonical base64url (was it altered?)")
    return raw


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AttestationRefused(f"{what} is not JSON") from None


def verify(
    token: str,
    jwks: Mapping[str, Any],
    *,
    audience: str | None = None,
    revoked: Iterable[str] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The attestation's disclosed ``claims`` with its id, dates and ``as_of``."""
    token = (token or "").strip()
    if not token.isascii() or "~" not in token or not token.endswith("~"):
        raise AttestationRefused("not an openscore SD-JWT (it must end with '~')")
    jwt, *disclosures = token[:-1].split("~")
    parts = jwt.split(".")
    if len(parts) != 3 or any(not d for d in disclosures):
        raise AttestationRefused("malformed token")
    header = _json(_unb64(parts[0], "the header"), "the header")
    payload_raw = _unb64(parts[1], "the payload")
    signature = _unb64(parts[2], "the signature")
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        alg = header.get("alg") if isinstance(header, dict) else None
        raise AttestationRefused(f"algorithm {alg!r} refused: openscore signs only with Ed25519")
    if header.get("typ") != TOKEN_TYPE:
        raise AttestationRefused(f"type {header.get('typ')!r} is not {TOKEN_TYPE!r}")
    key = next(
        (
            k
            for k in jwks.get("keys", [])
            if isinstance(k, dict)
            and k.get("kid") == header.get("kid")
            and k.get("kty") == "OKP"
            and k.get("crv") == "Ed25519"
        ),
        None,
    )
    if key is None:
        raise AttestationRefused(f"signed by an unknown key {header.get('kid')!r}")
    public = Ed25519PublicKey.from_public_bytes(_unb64(key["x"], "the key"))
    try:
        public.verify(signature, f"{parts[0]}.{parts[1]}".encode())
    except InvalidSignature:
        raise AttestationRefused("the signature does not match: altered or forged") from None
    payload = _json(payload_raw, "the payload")
    stamp = (now or datetime.now(UTC)).timestamp()
    if not isinstance(payload.get("iat"), int) or not isinstance(payload.get("exp"), int):
        raise AttestationRefused("'iat' or 'exp' is missing")
    if payload["iat"] > stamp + LEEWAY:
        raise AttestationRefused("issued in the future (iat)")
    if payload["exp"] <= stamp:
        raise AttestationRefused("expired")
    if audience is not None and payload.get("aud") != audience:
        raise AttestationRefused(f"made out to {payload.get('aud')!r}, not to {audience!r}")
    if payload.get("jti") in set(revoked):
        raise AttestationRefused("revoked")
    if payload.get("_sd_alg") != "sha-256":
        raise AttestationRefused("unknown digest algorithm")
    digests = payload.get("_sd") or []
    claims: dict[str, Any] = {}
    for disclosure in disclosures:
        if _b64(hashlib.sha256(disclosure.encode()).digest()) not in digests:
            raise AttestationRefused("a disclosure does not match any signed digest")
        item = _json(_unb64(disclosure, "a disclosure"), "a disclosure")
        if not (isinstance(item, list) and len(item) == 3) or item[1] not in CLAIMS:
            raise AttestationRefused("a disclosure is not a score claim")
        if item[1] in claims:
            raise AttestationRefused(f"claim {item[1]!r} is disclosed twice")
        claims[item[1]] = item[2]
    return {
        "id": payload.get("jti"),
        "issuer": payload.get("iss"),
        "as_of": payload.get("as_of"),
        "audience": payload.get("aud"),
        "issued_at": datetime.fromtimestamp(payload["iat"], UTC),
        "expires_at": datetime.fromtimestamp(payload["exp"], UTC),
        "claims": claims,
    }
