"""The audio track's sample tables: which bytes of an MP4 a decoder reads, and in what order.

A player never reads the 'mdat' box as such: it reads the samples its track's tables point at,
chunk after chunk ('stco'/'co64' offsets, 'stsc' samples per chunk, 'stsz'/'stz2' sizes). The
essence is exactly those bytes, in decode order. Every layout two readers could read
differently raises :class:`Ambiguity`: samples outside the one 'mdat', chunks sharing bytes,
tables whose counts disagree, two tables of a kind, several sample descriptions, samples kept in
another file, an edit list that cuts the track into segments. Each table is read only after its
declared count is checked against the bytes its box holds, so no count makes us allocate or
loop beyond the file.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from itertools import pairwise

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.bmff import Box, boxes, children
from provsdk.audio.containers.info import Ranges

__all__ = ["Ambiguity", "sample_ranges"]

_U32 = next(code for code in "IL" if array(code).itemsize == 4)
_UNIT_RATE = 0x00010000  # 1.0 as the edit list's 16.16 fixed point
_EMPTY_EDIT = -1


class Ambiguity(Exception):
    """A layout decoders could read differently; the message says how, in a sentence."""


def sample_ranges(buf: Bytes, trak: Box, mdat: tuple[int, int], counter: list[int]) -> Ranges:
    """The audio track's sample bytes, as ranges in decode order, all inside ``mdat``
    (body offset, body end)."""
    inside = children(buf, trak, counter)
    _check_edits(buf, inside, counter)
    mdia = _only(buf, inside, b"mdia")
    minf = _only(buf, children(buf, mdia, counter), b"minf")
    in_minf = children(buf, minf, counter)
    _check_data_references(buf, in_minf, counter)
    tables = children(buf, _only(buf, in_minf, b"stbl"), counter)
    _check_descriptions(buf, _only(buf, tables, b"stsd"))
    constant, count, sizes = _sizes(buf, _only(buf, tables, b"stsz", b"stz2"))
    offsets = _offsets(buf, _only(buf, tables, b"stco", b"co64"))
    runs = _u32s(buf, _only(buf, tables, b"stsc"), 12, "sample-to-chunk table")
    timed = _u32s(buf, _only(buf, tables, b"stts"), 8, "time-to-sample table")
    if not offsets or not count:
        raise buf.corrupt("corrupt MP4: the audio track has no samples")
    placed = _placed(runs, len(offsets))
    if placed != count:
        raise Ambiguity(
            f"the sample-to-chunk table places {placed} samples, the size table lists {count}: "
            "decoders would disagree on where samples start"
        )
    timed_samples = sum(timed[0::2])
    if timed_samples != count:
        raise Ambiguity(
            f"the time-to-sample table times {timed_samples} samples, the size table lists "
            f"{count}: decoders would disagree on how many to play"
        )
    ranges = _chunks(runs, offsets, constant, sizes, mdat)
    _check_overlaps(ranges)
    return tuple((start, length) for start, length in ranges)


def _only(buf: Bytes, found: dict[bytes, list[Box]], *kinds: bytes) -> Box:
    """The one box of ``kinds`` (alternatives, such as 'stco' and 'co64') among ``found``."""
    matches = [box for kind in kinds for box in found.get(kind, [])]
    names = " or ".join(repr(kind.decode("latin-1")) for kind in kinds)
    if not matches:
        raise buf.corrupt(f"corrupt MP4: the audio track has no {names} box")
    if len(matches) > 1:
        raise Ambiguity(
            f"the audio track has {len(matches)} {names} boxes: decoders could use either"
        )
    return matches[0]


def _count(buf: Bytes, box: Box, at: int, bits: int, what: str) -> int:
    """The count at ``at`` of entries ``bits`` wide (4-bit sizes exist), checked against the
    bytes that follow it in ``box``."""
    count = buf.be32(at, what)
    room = (box[2] - at - 4) * 8 // bits
    if count > room:
        raise buf.corrupt(
            f"hostile MP4: the {what} declares {count} entries, its box holds at most {room}"
        )
    return count


def _u32s(buf: Bytes, box: Box, width: int, what: str) -> Sequence[int]:
    """The entries of a full box whose body is version, flags, count, then 32-bit fields."""
    count = _count(buf, box, box[1] + 4, width * 8, what)
    return _array(buf.take(box[1] + 8, count * width, what), _U32, 4)


def _array(raw: bytes, code: str, width: int) -> array[int]:
    values = array(code, raw)
    if sys.byteorder == "little" and width > 1:
        values.byteswap()
    return values


def _sizes(buf: Bytes, box: Box) -> tuple[int, int, Sequence[int] | None]:
    """(constant size or 0, sample count, per-sample sizes when not constant)."""
    kind, body, _ = box
    if kind == b"stsz":
        constant = buf.be32(body + 4, "sample size table")
        if constant:
            return constant, buf.be32(body + 8, "sample size table"), None
        count = _count(buf, box, body + 8, 32, "sample size table")
        return 0, count, _array(buf.take(body + 12, count * 4, "sample sizes"), _U32, 4)
    field = buf.u8(body + 7, "compact sample size table")
    if field not in (4, 8, 16):
        raise buf.corrupt(f"corrupt MP4: compact sample sizes of {field} bits")
    count = _count(buf, box, body + 8, field, "compact sample size table")
    raw = buf.take(body + 12, (count * field + 7) // 8, "compact sample sizes")
    if field == 16:
        return 0, count, _array(raw, "H", 2)
    if field == 8:
        return 0, count, raw
    nibbles = array("B", (half for b in raw for half in (b >> 4, b & 0x0F)))
    return 0, count, nibbles[:count]


def _offsets(buf: Bytes, box: Box) -> Sequence[int]:
    kind, body, _ = box
    width = 8 if kind == b"co64" else 4
    count = _count(buf, box, body + 4, width * 8, "chunk offset table")
    raw = buf.take(body + 8, count * width, "chunk offsets")
    return _array(raw, "Q" if width == 8 else _U32, width)


def _placed(runs: Sequence[int], chunks: int) -> int:
    """How many samples the sample-to-chunk runs place in ``chunks`` chunks."""
    entries = len(runs) // 3
    if not entries or runs[0] != 1:
        raise Ambiguity("the sample-to-chunk table does not start at the first chunk")
    placed = 0
    for entry in range(entries):
        first, per_chunk, description = runs[3 * entry : 3 * entry + 3]
        following = runs[3 * entry + 3] if entry + 1 < entries else chunks + 1
        if not first < following <= chunks + 1 or per_chunk == 0 or description != 1:
            raise Ambiguity(
                f"entry {entry + 1} of the sample-to-chunk table (chunk {first}, {per_chunk} "
                f"samples, description {description}) does not fit the {chunks} chunks"
            )
        placed += per_chunk * (following - first)
    return placed


def _chunks(
    runs: Sequence[int],
    offsets: Sequence[int],
    constant: int,
    sizes: Sequence[int] | None,
    mdat: tuple[int, int],
) -> list[list[int]]:
    """[offset, length] of the samples, chunk after chunk, adjacent chunks joined."""
    low, high = mdat
    ranges: list[list[int]] = []
    sample = 0
    entries = len(runs) // 3
    for entry in range(entries):
        first, per_chunk = runs[3 * entry], runs[3 * entry + 1]
        following = runs[3 * entry + 3] if entry + 1 < entries else len(offsets) + 1
        for chunk in range(first - 1, following - 1):
            start = offsets[chunk]
            if sizes is None:
                length = per_chunk * constant
            else:
                length = sum(sizes[sample : sample + per_chunk])
            sample += per_chunk
            if not length:
                continue
            if start < low or start + length > high:
                raise Ambiguity(
                    f"chunk {chunk + 1} of the audio track ({length} bytes at offset {start}) "
                    f"is not inside the 'mdat' box (offsets {low} to {high}): players read "
                    "audio there that provsdk does not hash"
                )
            if ranges and sum(ranges[-1]) == start:
                ranges[-1][1] += length
            else:
                ranges.append([start, length])
    return ranges


def _check_overlaps(ranges: list[list[int]]) -> None:
    ordered = sorted(ranges)
    for before, after in pairwise(ordered):
        if after[0] < sum(before):
            raise Ambiguity(
                f"two chunks of the audio track share the bytes at offset {after[0]}: "
                "decoders would play them twice"
            )


def _check_descriptions(buf: Bytes, stsd: Box) -> None:
    count = buf.be32(stsd[1] + 4, "sample description count")
    if count == 0:
        raise buf.corrupt("corrupt MP4: the audio track has no sample description")
    if count > 1:
        raise Ambiguity(
            f"the audio track has {count} sample descriptions: which codec decodes which "
            "samples depends on the player"
        )


def _check_edits(buf: Bytes, trak: dict[bytes, list[Box]], counter: list[int]) -> None:
    if b"edts" not in trak:
        return
    in_edts = children(buf, _only(buf, trak, b"edts"), counter)
    if b"elst" not in in_edts:
        return
    elst = _only(buf, in_edts, b"elst")
    version = buf.u8(elst[1], "edit list version")
    width = 20 if version == 1 else 12
    count = _count(buf, elst, elst[1] + 4, width * 8, "edit list")
    segments = 0
    for entry in range(count):
        at = elst[1] + 8 + entry * width
        time_at, rate_at = (at + 8, at + 16) if version == 1 else (at + 4, at + 8)
        raw = buf.take(time_at, rate_at - time_at, "edit list entry")
        if int.from_bytes(raw, "big", signed=True) == _EMPTY_EDIT:
            continue  # an empty edit delays the track; it plays no samples
        segments += 1
        rate = buf.be32(rate_at, "edit list rate")
        if rate != _UNIT_RATE or segments > 1:
            raise Ambiguity(
                "the audio track's edit list plays its samples in several segments or at "
                "another rate: players that honour it (ffmpeg) and players that ignore it "
                "play different audio"
            )


def _check_data_references(buf: Bytes, minf: dict[bytes, list[Box]], counter: list[int]) -> None:
    for dinf in minf.get(b"dinf", []):
        for dref in children(buf, dinf, counter).get(b"dref", []):
            for kind, body, _ in boxes(buf, dref[1] + 8, dref[2], counter):
                if not buf.be32(body, "data reference flags") & 1:
                    raise Ambiguity(
                        f"a data reference ({kind.decode('latin-1')!r}) keeps the samples in "
                        "another file: players that follow it play audio provsdk does not hash"
                    )
