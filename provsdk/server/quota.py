"""What each API key holds on the server, and the bounds on it.

Two bounds per key: generations not yet finished (they hold a worker or a place in its queue)
and seconds of audio kept on disk (a generation holds its seconds from the moment it is
accepted, since its audio will be stored, until it fails, is deleted or expires). Without them
one key could fill the queue or the disk for everybody.

The ledger keeps the job ids it has charged, so releasing a job twice (it finished, then
expired) gives nothing back twice. It has no lock of its own: :class:`Generations` calls it
under the lock that also guards its job table, so checking a bound and reserving against it
is one step that concurrent requests cannot interleave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from provsdk.server.errors import ApiError

__all__ = ["Ledger"]


def _millis(seconds: float) -> int:
    # Whole milliseconds, rounded up: sums of floats drift, and a drifted total could let one
    # more generation in (or keep one out) after many adds and subtracts.
    return math.ceil(seconds * 1000)


@dataclass
class _Holdings:
    running: set[str] = field(default_factory=set)  # queued or running job ids
    # job id -> (monotonic time it was accepted, milliseconds), in the order accepted
    stored: dict[str, tuple[float, int]] = field(default_factory=dict)
    stored_ms: int = 0


class Ledger:
    """Per-key usage against ``max_outstanding`` generations and ``max_stored_seconds``."""

    def __init__(
        self, *, max_outstanding: int, max_stored_seconds: int, keep_seconds: float, latency: float
    ) -> None:
        self.max_outstanding = max_outstanding
        self.max_stored_ms = max_stored_seconds * 1000
        self._keep = keep_seconds
        # A guess at how long a place in the queue takes to free: there is no better one, as
        # the caller's own jobs may be anywhere in the queue.
        self._outstanding_wait = 1 + math.ceil(latency)
        self._owners: dict[str, _Holdings] = {}

    def reserve(self, owner: str, job_id: str, duration: float, now: float) -> None:
        """Charge a new generation to ``owner``, or raise 429 if it would pass a bound."""
        holdings = self._owners.setdefault(owner, _Holdings())
        if len(holdings.running) >= self.max_outstanding:
            raise ApiError(
                429,
                "rate_limited",
                f"this API key already has {len(holdings.running)} generations queued or "
                f"running (its limit is {self.max_outstanding}); retry once one has finished",
                {"Retry-After": str(self._outstanding_wait)},
            )
        wanted = _millis(duration)
        if holdings.stored_ms + wanted > self.max_stored_ms:
            wait = self._storage_wait(holdings, wanted, now)
            raise ApiError(
                429,
                "rate_limited",
                f"this API key has {holdings.stored_ms / 1000:g} s of audio on the server and "
                f"{wanted / 1000:g} s more would pass its limit of {self.max_stored_ms / 1000:g} "
                f"s; delete generations it no longer needs, or retry in {wait} s",
                {"Retry-After": str(wait)},
            )
        holdings.running.add(job_id)
        holdings.stored[job_id] = (now, wanted)
        holdings.stored_ms += wanted

    def finished(self, owner: str, job_id: str, *, kept_audio: bool) -> None:
        """The job has ended; it keeps its seconds only if it left audio on the server."""
        holdings = self._owners.get(owner)
        if holdings is None:
            return
        holdings.running.discard(job_id)
        if not kept_audio:
            self._unstore(holdings, job_id)
        self._drop_if_idle(owner, holdings)

    def release(self, owner: str, job_id: str) -> None:
        """The job is gone (deleted or expired), whatever state it was in."""
        holdings = self._owners.get(owner)
        if holdings is None:
            return
        holdings.running.discard(job_id)
        self._unstore(holdings, job_id)
        self._drop_if_idle(owner, holdings)

    @staticmethod
    def _unstore(holdings: _Holdings, job_id: str) -> None:
        charged = holdings.stored.pop(job_id, None)
        if charged is not None:
            holdings.stored_ms -= charged[1]

    def _drop_if_idle(self, owner: str, holdings: _Holdings) -> None:
        # Keys come and go; a table entry per key ever seen would only grow.
        if not holdings.running and not holdings.stored:
            del self._owners[owner]

    def _storage_wait(self, holdings: _Holdings, wanted: int, now: float) -> int:
        # Seconds until enough of the oldest generations expire for ``wanted`` to fit; one
        # deleted sooner frees its seconds sooner.
        freed = 0
        for accepted, millis in holdings.stored.values():
            freed += millis
            if holdings.stored_ms - freed + wanted <= self.max_stored_ms:
                return max(1, math.ceil(accepted + self._keep - now))
        return max(1, math.ceil(self._keep))
