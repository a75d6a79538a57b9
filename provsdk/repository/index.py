"""How a repository finds candidates without a scan: pure functions over codes and fingerprints.

Two indexes, because each misses what the other finds:

* **Bands of the 64-bit Audio-Code.** The code is cut into ``BANDS`` bands of ``BAND_BITS``
  bits, each stored in an indexed column. Two codes within Hamming distance
  ``BANDS - 1`` = 3 agree exactly on at least one band (pigeonhole: three flipped bits touch at
  most three bands), so looking up the query's four bands finds every such code in four index
  seeks. Codes further apart are still found when their differences bunch into fewer bands,
  which re-encodes mostly do; what shares a band by chance (about one code in 16,384 per
  band, so ~60 of 1,000,000) is dropped when its distance is over ``CODE_RADIUS``. With 16-bit
  bands the chance hits stay in the tens at a million entries; 8 bands of 8 bits would reach
  distance 7 but hand back ~30,000 chance hits per lookup.
* **Sampled sub-fingerprints.** An excerpt's code has little to do with the whole track's, so
  Chromaprint values are indexed too: the top ``32 - KEY_SHIFT`` bits of each value (the low
  bits are the first to flip in a re-encode), keeping one key in ``SAMPLE_ONE_IN`` chosen by
  the key's own hash. Because the choice depends on the value and not its position, a track
  and any excerpt of it keep the same keys where their sound agrees. Each hit votes for
  (entry, reference position - query position); the true match piles its votes on one offset,
  chance hits scatter.

Neither index decides anything: every candidate is confirmed by aligning the fingerprints
(``provsdk.softbinding.compare.align``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "BANDS",
    "BAND_BITS",
    "CODE_CANDIDATES",
    "CODE_RADIUS",
    "MAX_OCCURRENCES",
    "MAX_POSTINGS",
    "MIN_VOTES",
    "QUERY_WINDOW",
    "VOTE_CANDIDATES",
    "bands",
    "from_signed",
    "query_keys",
    "sampled_keys",
    "to_signed",
    "vote",
]

BANDS = 4
BAND_BITS = 16
_BAND_MASK = (1 << BAND_BITS) - 1
# Random 64-bit codes are 32 bits apart on average; 16 or fewer happens about once in 10^4.
CODE_RADIUS = 16
# How many candidates each index may hand to the (costlier) alignment.
CODE_CANDIDATES = 8
VOTE_CANDIDATES = 8
KEY_SHIFT = 4
SAMPLE_ONE_IN = 4
# A value repeated through a track (silence, a drone) is stored this often at most.
MAX_OCCURRENCES = 4
# A key held by more entries than this is noise (or a flood), not evidence: it is skipped.
MAX_POSTINGS = 256
# One shared key is chance; an offset needs at least this many votes to name a candidate.
MIN_VOTES = 2
# The query's first values used for voting: about 8 minutes, so a long query stays bounded.
QUERY_WINDOW = 4096


def to_signed(code: int) -> int:
    """An unsigned 64-bit code as the signed integer SQLite stores."""
    return code - (1 << 64) if code >= 1 << 63 else code


def from_signed(stored: int) -> int:
    return stored + (1 << 64) if stored < 0 else stored


def bands(code: int) -> tuple[int, ...]:
    return tuple((code >> (BAND_BITS * i)) & _BAND_MASK for i in range(BANDS))


def _key(value: int) -> int | None:
    key = value >> KEY_SHIFT
    # Fibonacci hashing: the top two bits of the product pick one key in four, by content.
    return key if ((key * 0x9E3779B1) & 0xFFFFFFFF) >> 30 == 0 else None


def sampled_keys(values: Sequence[int]) -> list[tuple[int, int]]:
    """The (key, position) pairs a registered fingerprint is indexed under."""
    seen: Counter[int] = Counter()
    kept = []
    for position, value in enumerate(values):
        key = _key(value)
        if key is not None and seen[key] < MAX_OCCURRENCES:
            seen[key] += 1
            kept.append((key, position))
    return kept


def query_keys(values: Sequence[int]) -> dict[int, list[int]]:
    """The keys a query looks up, each with its positions in the query."""
    positions: dict[int, list[int]] = defaultdict(list)
    for position, value in enumerate(values[:QUERY_WINDOW]):
        key = _key(value)
        if key is not None and len(positions[key]) < MAX_OCCURRENCES:
            positions[key].append(position)
    return dict(positions)


def vote(
    positions: Mapping[int, Sequence[int]], postings: Iterable[tuple[int, int, int]]
) -> list[int]:
    """The entries whose postings agree on one offset, most votes first.

    ``postings`` are (key, entry, reference position). Votes at neighbouring offsets count
    together: a re-encode can shift a value by one position.
    """
    votes: Counter[tuple[int, int]] = Counter()
    for key, entry, reference in postings:
        for position in positions.get(key, ()):
            votes[entry, reference - position] += 1
    best: dict[int, int] = {}
    for (entry, offset), count in votes.items():
        near = count + votes.get((entry, offset - 1), 0) + votes.get((entry, offset + 1), 0)
        if near > best.get(entry, 0):
            best[entry] = near
    # Ties go to the earlier entry (published first), as in the code index.
    ranked = sorted((e for e, n in best.items() if n >= MIN_VOTES), key=lambda e: (-best[e], e))
    return ranked[:VOTE_CANDIDATES]
