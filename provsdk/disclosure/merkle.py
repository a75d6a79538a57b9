"""Merkle commitment to a track-level training list, with inclusion proofs.

A provider publishes only ``count`` and ``root`` (a :class:`Commitment`) in its signed
disclosure. Later it can hand one rightsholder an :class:`InclusionProof` that one track is on
the list, without publishing the rest of it.

The tree is the one of RFC 6962 section 2.1 (kept unchanged in RFC 9162 section 2.1) over
SHA-256::

    leaf hash     = SHA-256(0x00 || entry)
    interior node = SHA-256(0x01 || left || right)
    MTH({})       = SHA-256("")
    MTH(D[n])     = node(MTH(D[0:k]), MTH(D[k:n]))  with k the largest power of two < n

so a proof is the standard audit path, checked with the algorithm of RFC 9162
section 2.1.3.2. The 0x00/0x01 prefixes keep a leaf from ever being passed off as an interior
node (second-preimage attacks on the tree).

Entries are track identifiers as text. Each is canonicalised as
``unicodedata.normalize("NFC", text.strip())`` and encoded as UTF-8, so the same identifier
typed in a different Unicode form, or with stray spaces, gives the same leaf. Because a proof
must point at exactly one position, two entries that are equal after canonicalisation are an
error. An entry must also be writable as one line of a list file (see :func:`read_entries`):
it may not be empty, contain a line break, or start with ``#``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provsdk.small_files import open_regular

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "Commitment",
    "EntryNotFoundError",
    "InclusionProof",
    "TrainingList",
    "canonical_entry",
    "commitment_of",
    "read_entries",
    "verify_inclusion",
]

ALGORITHM = "rfc6962-sha256"

_HASH_LEN = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_EMPTY_ROOT = hashlib.sha256(b"").digest()
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")

# Entries are canonicalised and hashed this many at a time. A power of two, so that every full
# chunk is a perfect subtree of the RFC 6962 tree (commitment_of relies on it). Large enough
# that the per-chunk Python overhead vanishes, small enough that a chunk's objects stay cheap.
_CHUNK = 1 << 16

_sha256 = hashlib.sha256


class EntryNotFoundError(LookupError):
    """The entry is not on the training list, so there is nothing to prove."""


# --- entries -----------------------------------------------------------------------------------


def _check_canonical(entry: bytes, text: str) -> None:
    if not entry:
        raise ValueError("empty entry: a track identifier cannot be blank")
    if b"\n" in entry or b"\r" in entry:
        raise ValueError(f"entry {text!r} contains a line break")
    if entry.startswith(b"#"):
        raise ValueError(f"entry {text!r} starts with '#', which a list file reads as a comment")


def canonical_entry(text: str) -> bytes:
    """The bytes a track identifier is hashed as: NFC of the stripped text, in UTF-8.

    Raises ValueError for text that cannot be one line of a list file: empty after stripping,
    containing a line break, or starting with ``#``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a track identifier is text, not {type(text).__name__}")
    entry = unicodedata.normalize("NFC", text.strip()).encode("utf-8")
    _check_canonical(entry, text)
    return entry


def _canonical_any(item: bytes | str) -> bytes:
    # Bytes are read as UTF-8 text and canonicalised too: a proof carries its entry as text and
    # the verifier canonicalises that text, so a leaf hashed from non-canonical bytes could
    # never be proved.
    text = item if isinstance(item, str) else item.decode("utf-8")
    return unicodedata.normalize("NFC", text.strip()).encode("utf-8")


def _canonical_chunk(items: list[bytes | str], start: int) -> list[bytes]:
    """Canonical bytes of ``items``, the entries at positions ``start``, ``start + 1``, ..."""
    try:
        # The fast path: one comprehension, and the per-entry checks done in bulk below.
        out = [_canonical_any(item) for item in items]
    except (AttributeError, UnicodeDecodeError):
        out = []  # fall through to the slow path, which names the offending position
    else:
        # Joined with line feeds, a chunk of valid entries has exactly len - 1 of them, no
        # carriage return, and a "#" only where no entry starts.
        joined = b"\n".join(out)
        if (
            all(out)
            and joined.count(b"\n") == len(out) - 1
            and b"\r" not in joined
            and not joined.startswith(b"#")
            and b"\n#" not in joined
        ):
            return out
    for offset, item in enumerate(items):
        where = f"entry at index {start + offset}"
        try:
            text = item if isinstance(item, str) else item.decode("utf-8")
        except AttributeError:
            raise TypeError(f"{where} is a {type(item).__name__}, not str or bytes") from None
        except UnicodeDecodeError as exc:
            raise ValueError(f"{where} is not valid UTF-8: {exc}") from None
        try:
            canonical_entry(text)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    raise AssertionError("unreachable: the fast path rejected a chunk the slow path accepts")


def read_entries(path: str | Path) -> list[bytes]:
    """The canonical entries of a list file, one track identifier a line, in file order.

    The file is read line by line (never whole). Blank lines and lines whose first non-blank
    character is ``#`` are skipped; a UTF-8 byte-order mark at the start is ignored. Raises
    ValueError, naming the line, for a line that is not UTF-8 or an entry that repeats an
    earlier one after canonicalisation.
    """
    p = Path(path)
    entries: list[bytes] = []
    first_line: dict[bytes, int] = {}
    # Read line by line, however long the list; but only from a regular file (a FIFO blocks).
    with os.fdopen(open_regular(p, "training list"), "rb") as stream:
        for lineno, raw in enumerate(stream, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{p.name}, line {lineno}: not valid UTF-8 ({exc})") from None
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                continue
            try:
                entry = canonical_entry(stripped)
            except ValueError as exc:
                raise ValueError(f"{p.name}, line {lineno}: {exc}") from None
            earlier = first_line.setdefault(entry, lineno)
            if earlier != lineno:
                raise ValueError(
                    f"{p.name}, line {lineno}: duplicate entry {stripped!r} "
                    f"(same as line {earlier} after canonicalisation)"
                )
            entries.append(entry)
    return entries


# --- hashing -----------------------------------------------------------------------------------


def _leaf_hash(entry: bytes) -> bytes:
    return _sha256(_LEAF_PREFIX + entry).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE_PREFIX + left + right).digest()


def _leaf_chunks(entries: Iterable[bytes | str]) -> Iterator[tuple[bytes, int]]:
    """The leaf hashes of ``entries``, concatenated, ``_CHUNK`` entries (or the rest) at a time.

    Levels are kept as one ``bytes`` of 32-byte hashes rather than a list of hash objects: a
    million leaves are then 32 MB instead of over 100 MB of small objects.
    """
    iterator = iter(entries)
    start = 0
    chunk_size = _CHUNK
    while True:
        items = list(itertools.islice(iterator, chunk_size))
        if not items:
            return
        canon = _canonical_chunk(items, start)
        leaves = b"".join([_sha256(_LEAF_PREFIX + entry).digest() for entry in canon])
        yield leaves, len(items)
        start += len(items)
        if len(items) < chunk_size:
            return


def _parent_level(level: bytes, count: int) -> bytes:
    """The level above ``level`` (``count`` hashes): pairs hashed left to right.

    A last node without a partner moves up unchanged. Building level by level this way gives
    exactly the tree of RFC 6962's split at the largest power of two (the lone right-hand
    node is the root of the smaller right subtree at every split it takes part in).
    """
    pair = 2 * _HASH_LEN
    parents = [
        _sha256(_NODE_PREFIX + level[i : i + pair]).digest()
        for i in range(0, count // 2 * pair, pair)
    ]
    if count % 2:
        parents.append(level[-_HASH_LEN:])
    return b"".join(parents)


def _subtree_root(level: bytes, count: int) -> bytes:
    """MTH of ``count`` leaf hashes (``count`` >= 1) without keeping the levels."""
    while count > 1:
        level = _parent_level(level, count)
        count = (count + 1) // 2
    return level


# --- duplicate detection and lookup ------------------------------------------------------------


class _LeafIndex:
    """Finds leaves by hash in a concatenation of 32-byte leaf hashes.

    It sorts the first eight bytes of each hash (16 bytes a leaf with the sort order) instead
    of keeping a dict of a million hash objects; equal prefixes are then settled by comparing
    the full hashes, so the answers are exact.
    """

    def __init__(self, leaves: bytes | bytearray, count: int) -> None:
        # numpy only when a list is indexed: reading or checking a disclosure never needs it.
        import numpy as np

        self._leaves = leaves
        keys: npt.NDArray[np.uint64] = np.frombuffer(leaves, dtype=np.uint64, count=4 * count)
        keys = keys[::4]  # the first 8 bytes of each 32-byte hash
        # Stable, so that leaves sharing a prefix stay in list order (first occurrence first).
        self._order: npt.NDArray[np.intp] = np.argsort(keys, kind="stable")
        self._sorted: npt.NDArray[np.uint64] = keys[self._order]

    def _hash_at(self, index: int) -> bytes:
        return bytes(self._leaves[index * _HASH_LEN : (index + 1) * _HASH_LEN])

    def find(self, leaf: bytes) -> int | None:
        """The list position of the leaf hash ``leaf``, or None."""
        import numpy as np

        key = np.frombuffer(leaf, dtype=np.uint64, count=1)[0]
        low = int(np.searchsorted(self._sorted, key, side="left"))
        high = int(np.searchsorted(self._sorted, key, side="right"))
        for j in range(low, high):
            index = int(self._order[j])
            if self._hash_at(index) == leaf:
                return index
        return None

    def first_duplicate(self) -> tuple[int, int] | None:
        """``(earlier, later)`` for the smallest ``later`` whose leaf repeats an earlier one."""
        import numpy as np

        same_as_next = np.flatnonzero(self._sorted[1:] == self._sorted[:-1])
        if same_as_next.size == 0:
            return None
        # Group the positions that share a prefix; a group is almost always one true duplicate,
        # but two different hashes may share eight bytes, so compare whole hashes within it.
        groups: dict[int, list[int]] = {}
        for j in same_as_next.tolist():
            group = groups.setdefault(int(self._sorted[j]), [int(self._order[j])])
            group.append(int(self._order[j + 1]))
        best: tuple[int, int] | None = None
        for positions in groups.values():
            seen: dict[bytes, int] = {}
            for index in positions:  # ascending, thanks to the stable sort
                earlier = seen.setdefault(self._hash_at(index), index)
                if earlier != index:
                    if best is None or index < best[1]:
                        best = (earlier, index)
                    break
        return best


def _reject_duplicates(leaves: bytes | bytearray, count: int) -> _LeafIndex:
    index = _LeafIndex(leaves, count)
    duplicate = index.first_duplicate()
    if duplicate is not None:
        earlier, later = duplicate
        raise ValueError(
            f"duplicate entry at index {later}: the same as the entry at index {earlier} "
            "after canonicalisation (a proof must point at exactly one position)"
        )
    return index


# --- commitments and proofs --------------------------------------------------------------------


def _hex_digest(value: Any, name: str) -> str:
    if not isinstance(value, str) or _HEX_DIGEST.fullmatch(value) is None:
        raise ValueError(f"{name} must be a SHA-256 digest as 64 hex digits, got {value!r:.80}")
    return value.lower()


def _int_field(value: Any, name: str, minimum: int) -> int:
    # bool is an int subclass; True as a count is a type error, not a 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _fields(data: Any, kind: str, names: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"a {kind} must be a mapping, got {type(data).__name__}")
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"{kind} is missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in data if key not in names)
    if unknown:
        raise ValueError(f"{kind} has unknown fields: {', '.join(unknown)}")
    return data


def _algorithm_field(value: Any) -> str:
    if value != ALGORITHM:
        raise ValueError(f"unsupported algorithm {value!r:.80}; expected {ALGORITHM!r}")
    return ALGORITHM


def _path_length(index: int, count: int) -> int:
    """How many hashes the audit path of leaf ``index`` in a tree of ``count`` leaves has."""
    length = 0
    while count > 1:
        if index ^ 1 < count:  # a last node without a partner moves up with no path entry
            length += 1
        index >>= 1
        count = (count + 1) // 2
    return length


@dataclass(frozen=True)
class Commitment:
    """What a disclosure publishes about the training list: its size and Merkle root."""

    count: int
    root: str  # lowercase hex of the 32-byte tree head
    algorithm: str = ALGORITHM

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the keys of ``provsdk.models.disclosure.TrainingListCommitment``."""
        return {"count": self.count, "root": self.root, "algorithm": self.algorithm}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Commitment:
        """Parse and validate :meth:`to_dict` output; ValueError says what is wrong."""
        fields = _fields(data, "commitment", ("count", "root", "algorithm"))
        algorithm = _algorithm_field(fields["algorithm"])
        count = _int_field(fields["count"], "count", 0)
        root = _hex_digest(fields["root"], "root")
        if count == 0 and root != _EMPTY_ROOT.hex():
            raise ValueError("root of an empty list must be SHA-256 of the empty string")
        return cls(count=count, root=root, algorithm=algorithm)


@dataclass(frozen=True)
class InclusionProof:
    """Evidence that ``entry`` is leaf ``index`` of the ``count``-entry list with ``root``.

    ``path`` is the RFC 6962 audit path: sibling hashes from the leaf up to the root.
    """

    entry: str  # canonical text of the track identifier
    index: int
    count: int
    path: tuple[str, ...]  # lowercase hex, leaf-to-root order
    root: str
    algorithm: str = ALGORITHM

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the path as a list)."""
        return {
            "entry": self.entry,
            "index": self.index,
            "count": self.count,
            "path": list(self.path),
            "root": self.root,
            "algorithm": self.algorithm,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        """Parse and validate :meth:`to_dict` output; ValueError says what is wrong.

        Besides types and hex, it checks that the path has exactly the length the tree shape
        gives for ``index`` and ``count``, so a proof cannot smuggle in extra hashes.
        """
        fields = _fields(
            data, "inclusion proof", ("entry", "index", "count", "path", "root", "algorithm")
        )
        algorithm = _algorithm_field(fields["algorithm"])
        entry = fields["entry"]
        if not isinstance(entry, str):
            raise ValueError(f"entry must be text, got {type(entry).__name__}")
        canonical_entry(entry)  # raises ValueError for an entry no list can hold
        count = _int_field(fields["count"], "count", 1)
        index = _int_field(fields["index"], "index", 0)
        if index >= count:
            raise ValueError(f"index {index} is out of range for a list of {count}")
        raw_path = fields["path"]
        if not isinstance(raw_path, list | tuple):
            raise ValueError(f"path must be a list of hex digests, got {type(raw_path).__name__}")
        expected = _path_length(index, count)
        if len(raw_path) != expected:
            raise ValueError(
                f"path has {len(raw_path)} hashes; leaf {index} of {count} needs {expected}"
            )
        path = tuple(_hex_digest(h, f"path[{i}]") for i, h in enumerate(raw_path))
        root = _hex_digest(fields["root"], "root")
        return cls(entry=entry, index=index, count=count, path=path, root=root, algorithm=algorithm)


class TrainingList:
    """A training list held in full: its commitment, lookups and inclusion proofs.

    Every level of the tree is kept (about 64 bytes a leaf), so a proof costs O(log n).
    """

    def __init__(self, entries: Iterable[bytes | str]) -> None:
        """Build the tree. ``str`` entries are canonicalised; ``bytes`` are read as UTF-8 text
        and canonicalised the same way. Raises ValueError for duplicates or invalid entries."""
        leaves = bytearray()
        count = 0
        for chunk, n in _leaf_chunks(entries):
            leaves += chunk
            count += n
        level = bytes(leaves)
        del leaves
        self._count = count
        self._index = _reject_duplicates(level, count)
        self._levels: list[tuple[bytes, int]] = [(level, count)]
        while count > 1:
            level = _parent_level(level, count)
            count = (count + 1) // 2
            self._levels.append((level, count))
        self._root = level if self._count else _EMPTY_ROOT

    @classmethod
    def from_file(cls, path: str | Path) -> TrainingList:
        """The list in a file as :func:`read_entries` reads it."""
        return cls(read_entries(path))

    def __len__(self) -> int:
        return self._count

    def commitment(self) -> Commitment:
        """The commitment to publish: the number of entries and the tree root."""
        return Commitment(count=self._count, root=self._root.hex())

    def index_of(self, entry: str | bytes) -> int | None:
        """Position of ``entry`` (canonicalised) in the list; None if it is not listed.

        Text that cannot be an entry at all (blank, say) is simply not listed.
        """
        if not self._count:
            return None
        try:
            canonical = _canonical_any(entry)
            _check_canonical(canonical, repr(entry))
        except (AttributeError, UnicodeDecodeError, ValueError):
            if not isinstance(entry, str | bytes):
                raise TypeError(f"an entry is str or bytes, not {type(entry).__name__}") from None
            return None
        return self._index.find(_leaf_hash(canonical))

    def prove(self, entry: str | bytes) -> InclusionProof:
        """The inclusion proof of ``entry``; EntryNotFoundError if it is not listed."""
        index = self.index_of(entry)
        if index is None:
            raise EntryNotFoundError(f"{entry!r:.200} is not on the training list")
        path: list[str] = []
        position = index
        for level, count in self._levels[:-1]:
            sibling = position ^ 1
            if sibling < count:  # else: the node moves up unchanged, adding nothing
                path.append(level[sibling * _HASH_LEN : (sibling + 1) * _HASH_LEN].hex())
            position >>= 1
        return InclusionProof(
            entry=_canonical_any(entry).decode("utf-8"),
            index=index,
            count=self._count,
            path=tuple(path),
            root=self._root.hex(),
        )


def commitment_of(entries: Iterable[bytes | str]) -> Commitment:
    """The commitment :meth:`TrainingList.commitment` gives, without keeping the tree.

    Entries are streamed in chunks of ``_CHUNK``; each full chunk is reduced to the root of its
    perfect subtree at once, and those roots are merged like a binary counter. Memory is one
    chunk plus 32 bytes a leaf, which are needed to reject duplicates exactly as
    :class:`TrainingList` does.
    """
    # Perfect subtrees (size, root), sizes strictly decreasing from the left, as in the RFC 6962
    # tree: n = sum of their sizes + the last, partial chunk.
    stack: list[tuple[int, bytes]] = []
    all_leaves = bytearray()
    count = 0
    tail: bytes | None = None
    for leaves, n in _leaf_chunks(entries):
        all_leaves += leaves
        count += n
        root = _subtree_root(leaves, n)
        if n < _CHUNK:
            tail = root  # _leaf_chunks stops after a short chunk: this is the last one
            break
        size = n
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            root = _node_hash(left, root)
            size *= 2
        stack.append((size, root))
    _reject_duplicates(all_leaves, count)
    if count == 0:
        return Commitment(count=0, root=_EMPTY_ROOT.hex())
    # RFC 6962 splits at the largest power of two, so the root folds the subtrees from the right.
    head = tail if tail is not None else stack.pop()[1]
    for _, left in reversed(stack):
        head = _node_hash(left, head)
    return Commitment(count=count, root=head.hex())


def verify_inclusion(proof: InclusionProof, commitment: Commitment) -> bool:
    """Whether ``proof`` shows its entry is in the list ``commitment`` commits to.

    Pure and total: any mismatch or malformed field gives False, never an exception. The entry
    is canonicalised before hashing, so ``" Café"`` in NFD proves the same as ``"Café"``.
    The path is checked with the RFC 9162 section 2.1.3.2 algorithm, which also rejects a path
    of the wrong length for ``index`` and ``count``.
    """
    try:
        return _verify(proof, commitment)
    except (TypeError, ValueError, AttributeError, UnicodeError, OverflowError):
        return False


def _digest_bytes(value: object) -> bytes | None:
    if not isinstance(value, str) or _HEX_DIGEST.fullmatch(value) is None:
        return None
    return bytes.fromhex(value)


def _verify(proof: InclusionProof, commitment: Commitment) -> bool:
    if proof.algorithm != ALGORITHM or commitment.algorithm != ALGORITHM:
        return False
    count, index = proof.count, proof.index
    for number in (count, index, commitment.count):
        if isinstance(number, bool) or not isinstance(number, int):
            return False
    if count != commitment.count or not 0 <= index < count:
        return False
    root = _digest_bytes(proof.root)
    if root is None or root != _digest_bytes(commitment.root):
        return False
    if not isinstance(proof.path, tuple | list) or len(proof.path) != _path_length(index, count):
        return False
    node = _leaf_hash(canonical_entry(proof.entry))
    # RFC 9162 section 2.1.3.2: fn walks the leaf's position up, sn the last position.
    fn, sn = index, count - 1
    for element in proof.path:
        sibling = _digest_bytes(element)
        if sibling is None or sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = _node_hash(sibling, node)
            if not fn & 1:
                # A right-edge node without a partner: skip the levels it moves up unchanged.
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = _node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root
