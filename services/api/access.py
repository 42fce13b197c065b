"""Who may call: an API key checked against hashes in the settings, and a rate per caller."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status


def key_hash(key: str) -> str:
    """What the settings store for a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_accepted(presented: str | None, hashes: list[str]) -> bool:
    if not hashes:
        return True
    if not presented:
        return False
    digest = key_hash(presented)
    # Compare with every hash in constant time, so the time taken tells nothing about a near miss.
    return any([hmac.compare_digest(digest, known.lower()) for known in hashes])


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per caller: ``burst`` requests at once, refilled at ``per_minute``.

    In-process: with several API replicas, each allows the rate (run one replica per key's quota,
    or put the limit in the proxy in front)."""

    # Above this many callers, those whose bucket has refilled (idle ones) are forgotten.
    max_callers = 10_000

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, _Bucket] = {}
        self.lock = threading.Lock()

    def wait_needed(self, caller: str) -> float:
        """0 if the caller may go on now (and the request is counted), else the seconds until it may."""
        now = self.clock()
        with self.lock:
            if len(self.buckets) > self.max_callers:
                self._forget_idle(now)
            bucket = self.buckets.setdefault(caller, _Bucket(float(self.burst), now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        refilled = now - self.burst / self.rate
        self.buckets = {caller: bucket for caller, bucket in self.buckets.items() if bucket.at > refilled}


def caller_of(request: Request) -> str:
    """A key's callers share its quota; without a key, each client address has its own."""
    key = request.headers.get("x-api-key")
    if key:
        return "key:" + key_hash(key)
    return "addr:" + (request.client.host if request.client else "unknown")


def check_rate(request: Request) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.wait_needed(caller_of(request))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="rate limit exceeded",
            headers={"Retry-After": str(math.ceil(wait))},
        )
