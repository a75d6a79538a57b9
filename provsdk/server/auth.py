"""Bearer API keys, checked in constant time, the account each speaks for, and a token-bucket
rate limit per key."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from provsdk.server.errors import ApiError

__all__ = ["Caller", "KeyCheck", "RateLimiter"]


@dataclass(frozen=True)
class Caller:
    """Who is asking: a digest of their key, so the key itself is never kept beside their work,
    and the account the key speaks for (None: an anonymous key, or no authentication)."""

    id: str
    account: str | None = None


class KeyCheck:
    """Accepts exactly the configured keys; with none configured, nobody (fail closed).

    ``keys`` maps each key to its account's name, or to None for an anonymous key.
    """

    def __init__(self, keys: Mapping[str, str | None], *, insecure_no_auth: bool = False) -> None:
        self._keys = tuple((k.encode(), keys[k]) for k in sorted(keys))
        self._open = insecure_no_auth

    def caller(self, token: str | None) -> Caller:
        if self._open:
            return Caller("anonymous")
        if not token:
            raise ApiError(
                401,
                "unauthorized",
                "missing API key: send Authorization: Bearer <key>",
                {"WWW-Authenticate": "Bearer"},
            )
        given = token.encode()
        # Compare with every key, without stopping at a match, so timing says nothing about
        # which key (or how much of one) matched.
        matched = False
        account: str | None = None
        for key, name in self._keys:
            same = hmac.compare_digest(given, key)
            matched |= same
            account = name if same else account
        if not matched:
            raise ApiError(401, "unauthorized", "unknown API key", {"WWW-Authenticate": "Bearer"})
        return Caller(hashlib.sha256(given).hexdigest()[:32], account)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """``rate`` requests per second per caller, with bursts of up to one second's worth.

    Used from the event loop only, so it needs no lock.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._buckets: dict[str, _Bucket] = {}

    def check(self, caller: Caller) -> None:
        now = time.monotonic()
        bucket = self._buckets.setdefault(caller.id, _Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        # Retry-After is whole seconds (RFC 9110); round up so a client that waits it succeeds.
        wait = max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
        raise ApiError(
            429,
            "rate_limited",
            f"over {self.rate:g} requests per second for this API key; retry in {wait} s",
            {"Retry-After": str(wait)},
        )
