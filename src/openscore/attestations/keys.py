"""The attestation signing keys: Ed25519, under ``DATA_DIR/keys/attestations``, rotated.

Each key is one file ``<kid>.json`` (mode 0600) holding its private JWK and its dates;
``kid`` is the key's RFC 7638 thumbprint. The newest key that is not retired signs; a key
stays in the published set (:meth:`KeyStore.jwks`, served at ``/.well-known/jwks.json``)
after a rotation until ``retired_at``, which is set to the rotation time plus the longest
an attestation can live, so that no token it signed stops verifying early. Private keys
never leave this directory: :meth:`jwks` exports public members only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from openscore.config import Settings

#: The longest an attestation may be valid; a rotated key is published this long after.
MAX_LIFETIME = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    key: OKPKey
    created_at: datetime
    retired_at: datetime | None


def keys_dir(settings: Settings) -> Path:
    return settings.data_dir / "keys" / "attestations"


class KeyStore:
    """The key files of one data directory (cheap to build; reads the directory)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyStore:
        return cls(keys_dir(settings))

    def _load(self) -> list[SigningKey]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*.json")):
            data = json.loads(path.read_text("utf-8"))
            key = OKPKey.import_key(data["jwk"])
            retired = data.get("retired_at")
            out.append(
                SigningKey(
                    kid=data["kid"],
                    key=key,
                    created_at=datetime.fromisoformat(data["created_at"]),
                    retired_at=datetime.fromisoformat(retired) if retired else None,
                )
            )
        out.sort(key=lambda k: (k.created_at, k.kid))
        return out

    def _write(self, signing: SigningKey) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "kid": signing.kid,
            "created_at": signing.created_at.isoformat(),
            "retired_at": signing.retired_at.isoformat() if signing.retired_at else None,
            "jwk": signing.key.as_dict(private=True),
        }
        path = self.root / f"{signing.kid}.json"
        tmp = self.root / f".{signing.kid}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)

    def _new(self, now: datetime) -> SigningKey:
        key = OKPKey.generate_key("Ed25519", auto_kid=False)
        kid = key.thumbprint()
        key = OKPKey.import_key(key.as_dict(private=True), {"kid": kid, "use": "sig"})
        signing = SigningKey(kid, key, now, None)
        self._write(signing)
        return signing

    def live(self, now: datetime | None = None) -> list[SigningKey]:
        """Keys still published (not retired), oldest first."""
        now = now or datetime.now(UTC)
        return [k for k in self._load() if k.retired_at is None or k.retired_at > now]

    def current(self, now: datetime | None = None) -> SigningKey:
        """The key that signs now: the newest not being retired (made on first use)."""
        now = now or datetime.now(UTC)
        signing = [k for k in self._load() if k.retired_at is None]
        return signing[-1] if signing else self._new(now)

    def rotate(self, now: datetime | None = None) -> SigningKey:
        """A new signing key; the old ones are published until no token of theirs lives."""
        now = now or datetime.now(UTC)
        for old in self._load():
            if old.retired_at is None:
                self._write(SigningKey(old.kid, old.key, old.created_at, now + MAX_LIFETIME))
        return self._new(now)

    def jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """The public key set (RFC 7517): what verifiers need, and nothing private."""
        if not self.live(now):
            self.current(now)
        keys = []
        for signing in self.live(now):
            public = signing.key.as_dict(private=False)
            public.update({"kid": signing.kid, "use": "sig", "alg": "Ed25519"})
            keys.append(public)
        return {"keys": keys}
