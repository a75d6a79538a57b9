"""When to try a request again, and after how long: pure rules, no I/O."""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import math
from dataclasses import dataclass

from provsdk.errors import (
    ConfigurationError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. ``attempts`` counts the first try."""

    attempts: int = 4
    backoff: float = 0.5  # ceiling of the first wait, seconds
    factor: float = 2.0
    max_backoff: float = 20.0
    # The longest Retry-After waited on; a server asking for longer is not retried at all:
    # waiting a part of what it asked would only be refused again.
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("a retry policy needs at least one attempt")
        if min(self.backoff, self.max_backoff, self.max_retry_after) < 0 or self.factor < 1:
            raise ConfigurationError("retry waits must be >= 0 and the factor >= 1")

    def backoff_ceiling(self, attempt: int) -> float:
        """The longest wait after try number ``attempt`` (1-based), before jitter."""
        # The exponent is bounded so a large attempt number cannot overflow a float.
        return min(self.max_backoff, self.backoff * self.factor ** min(attempt - 1, 64))


class Failure(enum.Enum):
    """How an attempt failed when no HTTP answer arrived."""

    UNSENT = "unsent"  # never reached the server: safe to send again
    LOST = "lost"  # the connection broke after the request may have been sent
    TIMEOUT = "timeout"  # no (complete) answer in time, after the request may have been sent


@dataclass(frozen=True)
class Outcome:
    """One attempt, reduced to what the retry rules look at."""

    status: int | None = None
    retry_after: float | None = None  # seconds, already parsed
    failure: Failure | None = None


def retryable(outcome: Outcome, idempotent: bool) -> bool:
    if outcome.failure is Failure.UNSENT:
        return True
    if outcome.status == 429:
        return True  # refused before any work was done: safe to send again, even a POST
    if not idempotent:
        return False
    if outcome.failure is not None:
        return True
    return (outcome.status or 0) >= 500


def retry_delay(
    outcome: Outcome, *, attempt: int, idempotent: bool, policy: RetryPolicy, draw: float
) -> float | None:
    """Seconds to wait before trying again after ``outcome`` of try ``attempt``, or None.

    ``draw`` is a uniform random number in [0, 1), for full jitter. The number of tries is not
    decided here: the retry loop stops after ``policy.attempts``.
    """
    if not retryable(outcome, idempotent) or asks_too_long(outcome, policy):
        return None
    if outcome.retry_after is not None:
        return outcome.retry_after
    return draw * policy.backoff_ceiling(attempt)


def asks_too_long(outcome: Outcome, policy: RetryPolicy) -> bool:
    """Whether the server asked to wait longer than ``policy`` ever waits."""
    return outcome.retry_after is not None and outcome.retry_after > policy.max_retry_after


def describe_wait(seconds: float) -> str:
    """``seconds`` for a person: ``45 s``, ``10800 s (3 h)``, ``200000 s (about 2 days)``."""
    exact = f"{math.ceil(seconds)} s"
    if seconds < 120:
        return exact
    if seconds < 2 * 3600:
        unit, size = "min", 60
    elif seconds < 2 * 86400:
        unit, size = "h", 3600
    else:
        unit, size = "days", 86400
    amount = seconds / size
    about = "" if amount.is_integer() else "about "
    return f"{exact} ({about}{round(amount)} {unit})"


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """A ``Retry-After`` value in seconds (delta-seconds or an HTTP-date), or None if unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        # RFC 9110 says whole seconds; some servers send fractions, which are as clear.
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
