"""Checking that a webhook POST came from openscore.

``Openscore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``::

    from openscore_client.webhooks import verify_signature
    if not verify_signature(SECRET, request.body, request.headers["Openscore-Signature"]):
        return 400
    event = json.loads(request.body)   # deduplicate on event["id"]: delivery is at least once
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Openscore-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """True if a ``v1`` signature matches ``body`` and ``t`` is within ``tolerance`` s."""
    try:
        parts = [p.split("=", 1) for p in header.split(",")]
        stamp = int(next(v for k, v in parts if k == "t"))
        candidates = [v for k, v in parts if k == "v1"]
    except (ValueError, StopIteration):
        return False
    if abs((now if now is not None else time.time()) - stamp) > tolerance:
        return False
    expected = sign(secret, body, stamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)
