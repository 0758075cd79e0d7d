"""Webhook signing: an HMAC-SHA256 over the exact body bytes, and the headers it travels in.

Receivers check a send with ``verify``; the idempotency key lets them drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Tracker-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (for receivers, in constant time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))
