"""Selective-disclosure JWTs (RFC 9901, SD-JWT) for score attestations, signed Ed25519.

A token is ``<issuer-signed JWT>~<disclosure>~...~``. The JWT's payload holds, for each
claim, only ``base64url(sha256(disclosure))`` in ``_sd`` (padded with decoy digests to a
fixed count, so that even the *number* of claims is hidden); each disclosure is
``base64url(json([salt, name, value]))`` with a 128-bit random salt. Dropping a
disclosure from the token (``present``) withholds that claim: its digest stays, and
without the salt the value cannot be guessed, even from a range as small as 350-950.

The JWS is made and checked by ``joserfc``; this module adds the SD-JWT layer and the
checks a verifier must make, each refused with its own message (:class:`Refused`):
only the published algorithm (``Ed25519``; never ``none`` nor an HMAC keyed with the
public key), only a key in the key set, canonical base64url (so that *any* changed byte
fails: base64's spare bits could otherwise hide an edit), ``iat`` not in the future,
``exp`` passed, audience, every disclosure's digest in the payload, no claim twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

#: The one signing algorithm openscore publishes (RFC 9864's fully specified name).
ALGORITHM = "Ed25519"
TOKEN_TYPE = "openscore-attestation+sd-jwt"
HASH_ALGORITHM = "sha-256"
#: Every token carries this many digests (real ones plus decoys).
DIGEST_SLOTS = 4
#: Clock skew a verifier allows on ``iat``/``nbf``.
LEEWAY_SECONDS = 60
#: Claims a disclosure may carry, and nothing else.
DISCLOSABLE = ("score_at_least", "band_at_least", "no_public_record", "score")
#: Payload names a disclosure must not shadow (RFC 9901 section 7.1).
_RESERVED = frozenset({"_sd", "_sd_alg", "...", "iss", "iat", "exp", "nbf", "aud", "jti", "sub"})

warnings.filterwarnings("ignore", message="EdDSA is deprecated", module="joserfc")


class Refused(Exception):
    """A token that does not verify; the message says why (shown to the verifier)."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str, what: str) -> bytes:
    """Strict base64url: no padding, no stray characters, no non-zero spare bits."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Refused(f"{what} is not base64url") from None
    if b64(raw) != text:
        raise Refused(f"{what} is not canonical base64url (was it altered?)")
    return raw


def digest(disclosure: str) -> str:
    return b64(hashlib.sha256(disclosure.encode("ascii")).digest())


def make_disclosure(name: str, value: Any) -> str:
    salt = b64(secrets.token_bytes(16))
    return b64(json.dumps([salt, name, value], separators=(",", ":")).encode("utf-8"))


def _timestamp(value: datetime) -> int:
    return int(value.timestamp())


def issue(
    claims: Mapping[str, Any],
    *,
    key: OKPKey,
    issuer: str,
    jti: str,
    issued_at: datetime,
    expires_at: datetime,
    audience: str | None = None,
    visible: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` (names from :data:`DISCLOSABLE`) as selectively disclosable.

    ``visible``: claims always shown (``as_of``, ``status``).
    """
    unknown = set(claims) - set(DISCLOSABLE)
    if unknown:
        raise ValueError(f"not disclosable: {sorted(unknown)}")
    if len(claims) > DIGEST_SLOTS:
        raise ValueError("too many claims")
    disclosures = [make_disclosure(name, value) for name, value in claims.items()]
    digests = [digest(d) for d in disclosures]
    digests += [b64(secrets.token_bytes(32)) for _ in range(DIGEST_SLOTS - len(digests))]
    payload: dict[str, Any] = dict(visible or {})
    payload.update(
        {
            "iss": issuer,
            "jti": jti,
            "iat": _timestamp(issued_at),
            "exp": _timestamp(expires_at),
            "_sd_alg": HASH_ALGORITHM,
            "_sd": sorted(digests),  # sorted: the order says nothing about which is which
        }
    )
    if audience is not None:
        payload["aud"] = audience
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    jwt = jws.serialize_compact(header, body, key, algorithms=[ALGORITHM])
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def present(token: str, keep: Iterable[str]) -> str:
    """The token with only the disclosures of the claims named in ``keep``."""
    jwt, disclosures = _split(token)
    wanted = set(keep)
    kept = [d for d in disclosures if _disclosed(d)[1] in wanted]
    return jwt + "~" + "".join(d + "~" for d in kept)


@dataclass(frozen=True, slots=True)
class Verified:
    """What a valid token proves: the disclosed claims and the always-visible ones."""

    jti: str
    kid: str
    issuer: str
    issued_at: datetime
    expires_at: datetime
    audience: str | None
    claims: dict[str, Any]
    visible: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": True,
            "id": self.jti,
            "issuer": self.issuer,
            "key": self.kid,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "audience": self.audience,
            "claims": self.claims,
            **{k: v for k, v in self.visible.items() if k not in ("claims",)},
        }


def _split(token: str) -> tuple[str, list[str]]:
    if not isinstance(token, str) or not token:
        raise Refused("empty token")
    token = token.strip()
    if not token.isascii():
        raise Refused("the token has characters that no SD-JWT contains")
    if "~" not in token:
        raise Refused("not an SD-JWT (no '~' separator)")
    if not token.endswith("~"):
        raise Refused("key-binding JWTs are not used by openscore: the token must end with '~'")
    jwt, *disclosures = token[:-1].split("~")
    if any(not d for d in disclosures):
        raise Refused("an empty disclosure")
    return jwt, disclosures


def _disclosed(disclosure: str) -> tuple[str, str, Any]:
    raw = unb64(disclosure, "a disclosure")
    try:
        item = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("a disclosure is not JSON") from None
    if not (
        isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item[:2])
    ):
        raise Refused("a disclosure is not [salt, name, value]")
    return item[0], item[1], item[2]


def _parts(jwt: str) -> tuple[dict[str, Any], bytes, bytes]:
    """The header (parsed), the payload and the signature, each strictly decoded once."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise Refused("the signed part is not a compact JWS (header.payload.signature)")
    raw_header = unb64(parts[0], "the header")
    payload = unb64(parts[1], "the payload")
    signature = unb64(parts[2], "the signature")
    try:
        header = json.loads(raw_header)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("the header is not JSON") from None
    if not isinstance(header, dict):
        raise Refused("the header is not a JSON object")
    return header, payload, signature


def _key_set(jwks: Mapping[str, Any]) -> KeySet:
    try:
        members = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
        # only Ed25519 public keys are ours: anything else is ignored, never trusted
        ours = [k for k in members if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"]
        return KeySet([OKPKey.import_key(k) for k in ours])
    except (JoseError, ValueError, TypeError, AttributeError):
        raise Refused("the key set cannot be read (is it a JWKS?)") from None


def verify(
    token: str,
    keys: KeySet | Mapping[str, Any],
    *,
    now: datetime | None = None,
    audience: str | None = None,
    revoked: Iterable[str] = (),
) -> Verified:
    """Check ``token`` against the published ``keys`` (a JWKS); :class:`Refused` says why.

    ``audience``: when given, the token must name it. ``revoked``: ids from the status list.
    """
    now = now or datetime.now(UTC)
    jwt, disclosures = _split(token)
    if not isinstance(keys, KeySet):
        keys = _key_set(keys)
    header, raw_payload, signature = _parts(jwt)
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise Refused(f"algorithm {alg!r} refused: openscore signs only with {ALGORITHM}")
    if header.get("typ") != TOKEN_TYPE:
        raise Refused(f"type {header.get('typ')!r} is not {TOKEN_TYPE!r}")
    kid = header.get("kid")
    key = next((k for k in keys if k.kid == kid), None) if isinstance(kid, str) else None
    if key is None or not isinstance(kid, str):
        raise Refused(f"signed by an unknown key {kid!r}: it is not in the published key set")
    if not isinstance(key, OKPKey) or key.curve_name != "Ed25519":
        raise Refused(f"key {kid!r} is not an Ed25519 key")
    public_key = key.public_key
    if not isinstance(public_key, Ed25519PublicKey):
        raise Refused(f"key {kid!r} is not an Ed25519 key")
    # The checks above are joserfc's deserialize_compact's and more (strict base64url,
    # the one algorithm, the key's curve), so the signature is checked on the key itself
    # instead of decoding the token a second time.
    try:
        public_key.verify(signature, jwt[: jwt.rindex(".")].encode("ascii"))
    except InvalidSignature:
        raise Refused("the signature does not match: the token was altered or forged") from None
    try:
        payload = json.loads(raw_payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise Refused("the payload is not a JSON object")
    if payload.get("_sd_alg") != HASH_ALGORITHM:
        raise Refused(f"digest algorithm {payload.get('_sd_alg')!r} is not {HASH_ALGORITHM}")
    for name in ("iat", "exp"):
        if not isinstance(payload.get(name), int) or isinstance(payload.get(name), bool):
            raise Refused(f"{name!r} is missing or not a number")
    stamp = now.timestamp()
    if payload["iat"] > stamp + LEEWAY_SECONDS:
        raise Refused("issued in the future (iat): refused")
    if payload["exp"] <= stamp:
        raise Refused(
            "expired on "
            + datetime.fromtimestamp(payload["exp"], UTC).isoformat(timespec="seconds")
        )
    token_aud = payload.get("aud")
    if audience is not None and token_aud != audience:
        raise Refused(f"made out to {token_aud!r}, not to {audience!r}")
    jti = payload.get("jti")
    if not isinstance(jti, str):
        raise Refused("no attestation id (jti)")
    if jti in set(revoked):
        raise Refused("revoked: the person withdrew it, or their score no longer supports it")
    digests = payload.get("_sd")
    if not isinstance(digests, list):
        raise Refused("no digests (_sd)")
    claims: dict[str, Any] = {}
    for disclosure in disclosures:
        if digest(disclosure) not in digests:
            raise Refused("a disclosure does not match any signed digest: it was altered")
        _, name, value = _disclosed(disclosure)
        if name in _RESERVED or name not in DISCLOSABLE:
            raise Refused(f"a disclosure names {name!r}, which is not a score claim")
        if name in claims:
            raise Refused(f"claim {name!r} is disclosed twice")
        claims[name] = value
    visible = {k: v for k, v in payload.items() if k not in _RESERVED}
    return Verified(
        jti=jti,
        kid=kid,
        issuer=str(payload.get("iss")),
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        audience=token_aud,
        claims=claims,
        visible=visible,
    )
