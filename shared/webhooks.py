"""How webhook deliveries are signed, for the sender (services/webhooks) and for receivers.

The signature is HMAC-SHA256, keyed by the alert's secret, over ``<timestamp>.<body>``: the
timestamp is signed so that a captured delivery cannot be replayed later, and the exact body
bytes are signed so that a receiver verifies before it parses. A receiver checks both headers:

    verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Newsflow-Signature"  # "sha256=<hex digest>"
TIMESTAMP_HEADER = "X-Newsflow-Timestamp"  # Unix seconds when this attempt was signed
DELIVERY_HEADER = "X-Newsflow-Delivery"  # the same on every attempt of one delivery: receivers de-duplicate on it
# A receiver refuses signatures older than this (clock skew plus transit).
MAX_AGE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    """Whether ``signature`` is ours for this body and the timestamp is recent."""
    if not timestamp.isdigit() or abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_S:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
