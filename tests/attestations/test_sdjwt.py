"""SD-JWT attestations: what verifies, and every way a token must fail (with its reason)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.attestations import KeyStore, Refused, issue, present, sdjwt, verify

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CLAIMS = {
    "score_at_least": 650,
    "band_at_least": "very_good",
    "no_public_record": True,
    "score": 712,
}


@pytest.fixture()
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys")


def _token(store: KeyStore, claims=CLAIMS, **kw) -> str:
    options = {
        "issuer": "openscore",
        "jti": "a" * 32,
        "issued_at": NOW,
        "expires_at": NOW + timedelta(days=30),
    }
    options.update(kw)
    return issue(claims, key=store.current(NOW).key, **options)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_verifies_and_discloses_what_it_carries(store: KeyStore) -> None:
    token = _token(store, visible={"as_of": "2026-12-01"})
    verified = verify(token, store.jwks(NOW), now=NOW)
    assert verified.claims == CLAIMS
    assert verified.visible == {"as_of": "2026-12-01"}
    assert verified.jti == "a" * 32


def test_the_jwks_holds_no_private_member(store: KeyStore) -> None:
    jwks = store.jwks(NOW)
    (key,) = jwks["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert key["alg"] == "Ed25519" and key["crv"] == "Ed25519"
    # and the file on disk that does hold it is private to its owner
    (path,) = store.root.glob("*.json")
    assert path.stat().st_mode & 0o077 == 0


def test_a_presentation_reveals_only_the_kept_claims(store: KeyStore) -> None:
    token = _token(store)
    shown = present(token, ["score_at_least"])
    verified = verify(shown, store.jwks(NOW), now=NOW)
    assert verified.claims == {"score_at_least": 650}
    # the exact score is nowhere in what was shown: not in the payload, not in a disclosure
    jwt, *disclosures = shown.rstrip("~").split("~")
    payload = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert set(payload) == {"_sd", "_sd_alg", "iss", "jti", "iat", "exp"}
    assert 712 not in payload.values()
    assert [json.loads(base64.urlsafe_b64decode(d + "=="))[1:] for d in disclosures] == [
        ["score_at_least", 650]
    ]


def test_undisclosed_claims_cannot_be_recovered_by_guessing(store: KeyStore) -> None:
    """Every score 350-950 hashed as a disclosure (with any salt we can think of, here
    the empty one and the token's own visible salts) matches no digest: the salt is
    128 random bits the verifier never sees."""
    shown = present(_token(store), ["score_at_least"])
    jwt, kept = shown.rstrip("~").split("~")
    payload = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    digests = set(payload["_sd"])
    assert len(digests) == sdjwt.DIGEST_SLOTS  # padded: the count hides how many claims
    kept_salt = json.loads(base64.urlsafe_b64decode(kept + "=="))[0]
    for salt in ("", kept_salt):
        for score in range(350, 951):
            guess = _b64(json.dumps([salt, "score", score], separators=(",", ":")).encode())
            assert sdjwt.digest(guess) not in digests


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_changing_any_byte_fails(tmp_path_factory: pytest.TempPathFactory, data) -> None:
    store = KeyStore(tmp_path_factory.mktemp("k") / "keys")
    token = _token(store, claims={"score_at_least": 650, "score": 712})
    jwks = store.jwks(NOW)
    position = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != token[position]]))
    tampered = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(Refused):
        verify(tampered, jwks, now=NOW)


def test_every_position_of_one_token_fails_when_changed(store: KeyStore) -> None:
    token = _token(store, claims={"score_at_least": 650})
    jwks = store.jwks(NOW)
    for position, char in enumerate(token):
        tampered = token[:position] + ("B" if char != "B" else "C") + token[position + 1 :]
        with pytest.raises(Refused):
            verify(tampered, jwks, now=NOW)


def test_expired_and_future_and_audience(store: KeyStore) -> None:
    token = _token(store, audience="landlord.example")
    jwks = store.jwks(NOW)
    with pytest.raises(Refused, match="expired"):
        verify(token, jwks, now=NOW + timedelta(days=31))
    with pytest.raises(Refused, match="future"):
        verify(token, jwks, now=NOW - timedelta(hours=1))
    with pytest.raises(Refused, match="made out to 'landlord.example'"):
        verify(token, jwks, now=NOW, audience="carshare.example")
    assert verify(token, jwks, now=NOW, audience="landlord.example").audience == (
        "landlord.example"
    )
    with pytest.raises(Refused, match="revoked"):
        verify(token, jwks, now=NOW, revoked=["a" * 32])


def test_an_unknown_key_is_refused(store: KeyStore, tmp_path: Path) -> None:
    other = KeyStore(tmp_path / "other")
    token = _token(other)
    with pytest.raises(Refused, match="unknown key"):
        verify(token, store.jwks(NOW), now=NOW)


def _forged(token: str, header: dict, signature: bytes) -> str:
    jwt, rest = token.split("~", 1)
    _, payload, _ = jwt.split(".")
    head = _b64(json.dumps(header).encode())
    return f"{head}.{payload}.{_b64(signature)}~{rest}"


def test_alg_none_and_hs256_with_the_public_key_are_refused(store: KeyStore) -> None:
    token = _token(store)
    jwks = store.jwks(NOW)
    kid = jwks["keys"][0]["kid"]
    with pytest.raises(Refused, match="algorithm 'none' refused"):
        verify(_forged(token, {"alg": "none", "kid": kid}, b""), jwks, now=NOW)
    # the classic confusion: an HMAC keyed with the (public) verification key
    jwt = token.split("~", 1)[0]
    header = {"alg": "HS256", "typ": sdjwt.TOKEN_TYPE, "kid": kid}
    head = _b64(json.dumps(header).encode())
    signing_input = f"{head}.{jwt.split('.')[1]}".encode()
    public = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
    for secret in (public, json.dumps(jwks["keys"][0]).encode()):
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        with pytest.raises(Refused, match="algorithm 'HS256' refused"):
            verify(_forged(token, header, mac), jwks, now=NOW)
    with pytest.raises(Refused, match="algorithm 'EdDSA' refused"):
        verify(_forged(token, {**header, "alg": "EdDSA"}, b"x" * 64), jwks, now=NOW)


def test_rotation_keeps_old_tokens_verifying(store: KeyStore) -> None:
    old = _token(store)
    new_key = store.rotate(NOW + timedelta(days=1))
    assert store.current(NOW + timedelta(days=2)).kid == new_key.kid
    jwks = store.jwks(NOW + timedelta(days=2))
    assert len(jwks["keys"]) == 2
    assert verify(old, jwks, now=NOW + timedelta(days=2)).claims == CLAIMS
    # once every token of the old key has expired, it leaves the set
    later = NOW + timedelta(days=1) + timedelta(days=366)
    assert [k["kid"] for k in store.jwks(later)["keys"]] == [new_key.kid]


def test_malformed_tokens_say_why(store: KeyStore) -> None:
    jwks = store.jwks(NOW)
    token = _token(store)
    for bad, why in [
        ("", "empty"),
        ("abc", "no '~'"),
        (token.rstrip("~"), "must end with"),
        ("a.b~", "not base64url|not a compact"),
        (token + "~", "empty disclosure"),
        (token + token.split("~")[1] + "~", "disclosed twice"),
        ("é" + token, "characters"),
    ]:
        with pytest.raises(Refused, match=why):
            verify(bad, jwks, now=NOW)
