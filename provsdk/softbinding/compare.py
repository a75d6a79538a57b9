"""Aligned comparison of two fingerprints: the confirmation step of every content match.

The shorter fingerprint slides over the longer one; at each offset the score is the fraction
of equal bits over the overlap, and the best offset wins. Excerpts and trimmed files align at
their offset, where the 64-bit code of the whole track would not help. An overlap shorter than
:data:`MIN_OVERLAP_SECONDS` never counts, so a few seconds cannot match by chance. numpy is
imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["MATCH_THRESHOLD", "MIN_OVERLAP", "MIN_OVERLAP_SECONDS", "Alignment", "align"]

# Unrelated audio agrees on about half the bits; re-encodes of the same sound on far more.
MATCH_THRESHOLD = 0.75
MIN_OVERLAP_SECONDS = 10.0
MIN_OVERLAP = round(MIN_OVERLAP_SECONDS / ITEM_SECONDS)


@dataclass(frozen=True)
class Alignment:
    """The best way ``query`` lies over ``reference``."""

    score: float  # 0..1, 1 = identical; fraction of matching bits at the best offset
    offset: int  # sub-fingerprints: query[i] aligns with reference[i + offset]
    overlap: int  # sub-fingerprints compared

    @property
    def offset_seconds(self) -> float:
        return self.offset * ITEM_SECONDS

    @property
    def is_match(self) -> bool:
        return self.score >= MATCH_THRESHOLD and self.overlap >= MIN_OVERLAP


NO_ALIGNMENT = Alignment(score=0.0, offset=0, overlap=0)


def align(query: Fingerprint, reference: Fingerprint) -> Alignment:
    """The offset where ``query`` agrees best with ``reference`` and how well.

    Only offsets where the two overlap by at least :data:`MIN_OVERLAP` sub-fingerprints are
    tried; when none exists the answer has score 0 and overlap 0.
    """
    import numpy as np

    q = np.asarray(query.values, dtype=np.uint32)
    r = np.asarray(reference.values, dtype=np.uint32)
    if min(len(q), len(r)) < MIN_OVERLAP:
        return NO_ALIGNMENT
    offsets = np.arange(MIN_OVERLAP - len(q), len(r) - MIN_OVERLAP + 1)
    return _best(q, r, offsets)


def _best(q: NDArray[np.uint32], r: NDArray[np.uint32], offsets: NDArray[np.int64]) -> Alignment:
    import numpy as np

    n = len(q)
    first = int(offsets[0])
    span = int(offsets[-1]) - first + 1
    # The reference padded so every tried offset reads n values; the pads count as no overlap.
    pad_left = max(0, -first)
    pad_right = max(0, first + span - 1 + n - len(r))
    padded = np.concatenate([np.zeros(pad_left, np.uint32), r, np.zeros(pad_right, np.uint32)])
    valid = np.concatenate(
        [np.zeros(pad_left, bool), np.ones(len(r), bool), np.zeros(pad_right, bool)]
    )
    base = first + pad_left
    differing = np.zeros(span, np.int64)
    overlap = np.zeros(span, np.int64)
    for i in range(n):
        window = slice(base + i, base + i + span)
        mask = valid[window]
        differing += np.where(mask, np.bitwise_count(padded[window] ^ q[i]), 0)
        overlap += mask
    chosen = np.flatnonzero(overlap >= MIN_OVERLAP)
    if not len(chosen):
        return NO_ALIGNMENT
    scores = 1.0 - differing[chosen] / (32.0 * overlap[chosen])
    best = int(np.argmax(scores))
    at = int(chosen[best])
    return Alignment(score=float(scores[best]), offset=first + at, overlap=int(overlap[at]))
