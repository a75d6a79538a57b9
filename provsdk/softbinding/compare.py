"""Aligned comparison of two fingerprints: the confirmation step of every content match.

The shorter fingerprint slides over the longer one; at each offset the score is the fraction
of equal bits over the overlap, and the best offset wins, so excerpts and trimmed files align
at their offset where the 64-bit code of the whole track would not help.

Two rules keep chance out of the score:

- Only *informative* positions count: those where the query or the reference changes from
  one sub-fingerprint to the next. Silence and a held tone give the same value over and over;
  two such stretches agree on every bit whatever they are, so a silent lead-out would
  otherwise make any silent query "match" it perfectly.
- An overlap of fewer than :data:`MIN_OVERLAP` informative positions (10 s) never counts, so
  a few seconds cannot match by luck.

Short pairs are compared at every offset; when that would cost too much (an hour against an
hour), offsets are first proposed by sub-fingerprints that agree exactly, and only those are
scored. numpy is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["MATCH_THRESHOLD", "MIN_OVERLAP", "MIN_OVERLAP_SECONDS", "Alignment", "align"]

# Tuned on bench/softbinding.py (docs/soft-binding.md gives the figures): unrelated tracks of
# the corpus peak well below it, the hardest kept transformation (MP3 64k mono) well above.
MATCH_THRESHOLD = 0.85
MIN_OVERLAP_SECONDS = 10.0
MIN_OVERLAP = round(MIN_OVERLAP_SECONDS / ITEM_SECONDS)
# Offset-by-position cells compared in one numpy step, and the most a full scan may cost
# before offsets are proposed instead (about 20 ms of work).
_CHUNK_CELLS = 1 << 20
_FULL_SCAN_CELLS = 8 << 20
# Offsets the coarse search keeps, and how far around each it scores.
_PROPOSALS = 24
_NEIGHBOURS = 2


@dataclass(frozen=True)
class Alignment:
    """The best way ``query`` lies over ``reference``."""

    score: float  # 0..1, 1 = identical; fraction of matching bits at the best offset
    offset: int  # sub-fingerprints: query[i] aligns with reference[i + offset]
    overlap: int  # informative sub-fingerprints compared

    @property
    def offset_seconds(self) -> float:
        """Where in the reference the query starts, in seconds (negative: before it)."""
        return self.offset * ITEM_SECONDS

    @property
    def is_match(self) -> bool:
        """Whether the alignment confirms a match: enough overlap, score at the threshold."""
        return self.overlap >= MIN_OVERLAP and self.score >= MATCH_THRESHOLD


NO_ALIGNMENT = Alignment(score=0.0, offset=0, overlap=0)


def align(query: Fingerprint, reference: Fingerprint) -> Alignment:
    """The offset where ``query`` agrees best with ``reference``, and how well.

    Only offsets with at least :data:`MIN_OVERLAP` informative positions in common are
    considered; when there is none the answer has score 0 and overlap 0.
    """
    import numpy as np

    q = np.asarray(query.values, dtype=np.uint32)
    r = np.asarray(reference.values, dtype=np.uint32)
    if min(len(q), len(r)) < MIN_OVERLAP:
        return NO_ALIGNMENT
    lowest, highest = MIN_OVERLAP - len(q), len(r) - MIN_OVERLAP
    if len(q) * (highest - lowest + 1) <= _FULL_SCAN_CELLS:
        offsets = np.arange(lowest, highest + 1, dtype=np.int64)
    else:
        offsets = _proposed_offsets(q, r, lowest, highest)
    return _best(q, r, offsets)


def _informative(values: NDArray[np.uint32]) -> NDArray[np.bool_]:
    import numpy as np

    changed = np.empty(len(values), dtype=bool)
    changed[1:] = values[1:] != values[:-1]
    changed[0] = changed[1] if len(values) > 1 else False
    return changed


def _popcount(values: NDArray[np.uint32]) -> NDArray[np.uint8]:
    import numpy as np

    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(values)
    table = _POPCOUNT16 if _POPCOUNT16 is not None else _popcount_table()
    return table[values & 0xFFFF] + table[values >> 16]  # type: ignore[no-any-return]


_POPCOUNT16: NDArray[np.uint8] | None = None


def _popcount_table() -> NDArray[np.uint8]:
    import numpy as np

    global _POPCOUNT16
    bits = np.unpackbits(np.arange(1 << 16, dtype=">u2").view(np.uint8)).reshape(-1, 16)
    _POPCOUNT16 = bits.sum(axis=1, dtype=np.uint8)
    return _POPCOUNT16


def _proposed_offsets(
    q: NDArray[np.uint32], r: NDArray[np.uint32], lowest: int, highest: int
) -> NDArray[np.int64]:
    """Offsets where informative sub-fingerprints agree exactly, the most voted first, with
    their neighbours (a re-encode shifts the frames by a fraction of a hop)."""
    import numpy as np

    q_at = np.flatnonzero(_informative(q))
    r_at = np.flatnonzero(_informative(r))
    order = np.argsort(r[r_at], kind="stable")
    r_sorted, r_pos = r[r_at][order], r_at[order]
    left = np.searchsorted(r_sorted, q[q_at], side="left")
    right = np.searchsorted(r_sorted, q[q_at], side="right")
    hits = right - left
    # A value repeated all over the reference votes for everything: leave it out.
    keep = (hits > 0) & (hits <= 8)
    if not keep.any():
        return np.zeros(0, dtype=np.int64)
    starts, counts, q_pos = left[keep], hits[keep], q_at[keep]
    flat = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    votes = r_pos[flat] - np.repeat(q_pos, counts)
    votes = votes[(votes >= lowest) & (votes <= highest)] - lowest
    if not len(votes):
        return np.zeros(0, dtype=np.int64)
    tally = np.bincount(votes)
    top = np.argsort(tally)[::-1][:_PROPOSALS]
    top = top[tally[top] > 0] + lowest
    around = (top[:, None] + np.arange(-_NEIGHBOURS, _NEIGHBOURS + 1)[None, :]).ravel()
    return np.unique(np.clip(around, lowest, highest)).astype(np.int64)


def _best(q: NDArray[np.uint32], r: NDArray[np.uint32], offsets: NDArray[np.int64]) -> Alignment:
    """The best of ``offsets``, each scored over the informative positions it overlaps."""
    import numpy as np

    if not len(offsets):
        return NO_ALIGNMENT
    n = len(q)
    # The reference padded by n on each side, so every offset reads n values; pads are never
    # informative and never valid.
    padded = np.concatenate([np.zeros(n, np.uint32), r, np.zeros(n, np.uint32)])
    valid = np.concatenate([np.zeros(n, bool), np.ones(len(r), bool), np.zeros(n, bool)])
    moving = np.concatenate([np.zeros(n, bool), _informative(r), np.zeros(n, bool)])
    q_moving = _informative(q)
    positions = np.arange(n)
    scores = np.zeros(len(offsets))
    counted = np.zeros(len(offsets), dtype=np.int64)
    rows = max(1, _CHUNK_CELLS // n)
    for first in range(0, len(offsets), rows):
        chunk = offsets[first : first + rows]
        at = (chunk + n)[:, None] + positions[None, :]
        weight = valid[at] & (moving[at] | q_moving[None, :])
        differing = np.where(weight, _popcount(padded[at] ^ q[None, :]), 0).sum(axis=1)
        compared = weight.sum(axis=1)
        counted[first : first + rows] = compared
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[first : first + rows] = np.where(
                compared > 0, 1.0 - differing / (32.0 * np.maximum(compared, 1)), 0.0
            )
    scores[counted < MIN_OVERLAP] = 0.0
    best = int(np.argmax(scores))
    if scores[best] <= 0.0:
        return NO_ALIGNMENT
    return Alignment(
        score=float(scores[best]), offset=int(offsets[best]), overlap=int(counted[best])
    )
