"""Where a manifest store goes in a WAV, MP3 or FLAC file that provsdk writes itself.

The data-hashed strategy writes the signed file: c2pa hands back raw JUMBF and this module
says how the output is put together around it, the way c2pa's own writer does it:

- WAV: every top-level chunk of the source but its old ``C2PA`` chunks, then a new ``C2PA``
  chunk last, with the RIFF size raised to match. The chunk's header and data are left out of
  the hash; its pad byte is hashed.
- MP3 and FLAC: an ID3v2.4 tag in front holding the frames of the source's own first tag but
  its old C2PA ``GEOB`` frames, then a new ``GEOB`` frame (MIME ``application/c2pa``) with the
  store; the rest of the file after it. Only the store inside the frame is left out of the hash.

A plan is made before c2pa is asked for anything, from the structure alone, so that a file this
writer does not handle (an ID3v2.2 tag, tag-wide unsynchronisation) goes to c2pa's own path with
the reason, never to a half-written output. Whether the store still fits (a RIFF size is 32 bits,
an ID3 size 28) is only known with the store's size: a source too close to the limit is refused
with that reason by :meth:`Plan.assemble`, before anything is copied, rather than written with a
size field that wraps around.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.id3 import skip_id3v2, syncsafe
from provsdk.audio.formats import AudioFormat

__all__ = ["Layout", "Piece", "Plan", "plan_layout"]

# A piece of the output: bytes to write, or a range of the source's bytes to copy.
Piece = bytes | range

_RIFF_MAX = 0xFFFFFFFF
_ID3_MAX = (1 << 28) - 1  # a syncsafe 28-bit size
# The GEOB frame's header fields before the store: text encoding ISO-8859-1, MIME type, file
# name and description, each NUL-terminated. c2pa's reader finds the store by the MIME type.
_GEOB_FIELDS = b"\x00application/c2pa\x00c2pa\x00c2pa manifest store\x00"


class Unfit(Exception):
    """The source's layout is one this writer does not reproduce; the message says why."""


@dataclass(frozen=True)
class Layout:
    """The output, in order: ``pieces``, of which ``excluded`` (indices) are not hashed and
    ``manifest`` (an index) is the store, to be overwritten by the signed one of equal size."""

    pieces: tuple[Piece, ...]
    excluded: frozenset[int]
    manifest: int

    def offsets(self) -> Iterator[tuple[int, Piece]]:
        """Each piece with its offset in the output."""
        at = 0
        for piece in self.pieces:
            yield at, piece
            at += len(piece)

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.pieces)

    def exclusion(self) -> tuple[int, int]:
        """The one (start, length) span of the output left out of the hash."""
        spans = [(at, len(p)) for i, (at, p) in enumerate(self.offsets()) if i in self.excluded]
        start = spans[0][0]
        end = spans[-1][0] + spans[-1][1]
        if sum(n for _, n in spans) != end - start:
            raise AssertionError("excluded pieces must be contiguous")
        return start, end - start

    def manifest_offset(self) -> int:
        return next(at for i, (at, _) in enumerate(self.offsets()) if i == self.manifest)


@dataclass(frozen=True)
class Plan:
    """What of the source is kept, and how the container around the store is made."""

    kind: AudioFormat
    kept: tuple[Piece, ...]  # WAV: the chunks after the RIFF header. ID3: the tag's frames
    rest: range | None = None  # ID3: the source after its first tag

    def assemble(self, store: bytes) -> Layout:
        """The output for the manifest ``store`` (the placeholder, then the signed store)."""
        if self.kind is AudioFormat.WAV:
            return self._riff(store)
        return self._id3(store)

    def _riff(self, store: bytes) -> Layout:
        body = sum(len(p) for p in self.kept)
        pad = b"\0" if len(store) & 1 else b""
        riff_size = 4 + body + 8 + len(store) + len(pad)
        if riff_size > _RIFF_MAX:
            raise Unfit("the signed WAV would exceed the 4 GiB a RIFF file can hold")
        head = b"RIFF" + struct.pack("<I", riff_size)
        chunk = b"C2PA" + struct.pack("<I", len(store))
        pieces = (head, range(8, 12), *self.kept, chunk, store, pad)
        first = 2 + len(self.kept)  # the chunk header, then the store
        return Layout(pieces, frozenset({first, first + 1}), first + 1)

    def _id3(self, store: bytes) -> Layout:
        geob = _GEOB_FIELDS + store
        frame = b"GEOB" + _syncsafe(len(geob)) + b"\0\0" + _GEOB_FIELDS
        size = sum(len(p) for p in self.kept) + len(frame) + len(store)
        if size > _ID3_MAX:
            raise Unfit("the ID3 tag would exceed the 256 MiB its size field can hold")
        head = b"ID3\x04\x00\x00" + _syncsafe(size)
        rest = () if self.rest is None else (self.rest,)
        pieces = (head, *self.kept, frame, store, *rest)
        at = 2 + len(self.kept)
        return Layout(pieces, frozenset({at}), at)


def _syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def plan_layout(fmt: AudioFormat, buf: Bytes) -> Plan:
    """The plan for a source already checked by ``probe``; :class:`Unfit` when this writer
    cannot reproduce its layout."""
    if fmt is AudioFormat.WAV:
        return _plan_riff(buf)
    if fmt in (AudioFormat.MP3, AudioFormat.FLAC):
        return _plan_id3(fmt, buf)
    raise Unfit(f"{fmt.extension.upper()} is bound by a BMFF hash, which needs c2pa's own path")


def _plan_riff(buf: Bytes) -> Plan:
    riff_end = buf.le32(4, "RIFF header") + 8
    kept: list[Piece] = []
    offset = 12
    while offset + 8 <= riff_end:
        size = buf.le32(offset + 4, "chunk size")
        end = offset + 8 + size
        if buf.take(offset, 4, "chunk id") != b"C2PA":
            kept.append(range(offset, end))
            if size & 1:
                # The pad byte when the source has it; a last odd chunk may lack it, and the
                # store's chunk after it must still start on an even offset.
                kept.append(range(end, end + 1) if end < riff_end else b"\0")
        offset = end + (size & 1)
    return Plan(AudioFormat.WAV, tuple(kept))


def _plan_id3(fmt: AudioFormat, buf: Bytes) -> Plan:
    if buf.size < 10 or buf.take(0, 3, "ID3 header") != b"ID3":
        return Plan(fmt, (), range(0, buf.size))
    header = buf.take(0, 10, "ID3v2 header")
    major, flags = header[3], header[5]
    if major not in (3, 4):
        raise Unfit(f"the source's ID3v2.{major} tag is not one this writer rewrites")
    if flags:
        raise Unfit("the source's ID3 tag uses unsynchronisation, an extended header or a footer")
    size = syncsafe(header[6:10])
    assert size is not None  # probe checked it
    end = 10 + size
    carriers: list[tuple[int, int]] = []
    skip_id3v2(buf, 0, carriers)
    old = {body - 10 for body, _ in carriers if body < end}  # frames of the first tag
    kept: list[Piece] = []
    offset = 10
    while offset + 10 <= end:
        frame_id = buf.take(offset, 4, "ID3 frame id")
        if frame_id[0] == 0:
            break  # padding: the new tag has none
        raw = buf.take(offset + 4, 4, "ID3 frame size")
        length = syncsafe(raw) if major == 4 else int.from_bytes(raw, "big")
        assert length is not None  # probe checked it
        frame_flags = buf.take(offset + 8, 2, "ID3 frame flags")
        if offset not in old:
            if major == 4:
                kept.append(range(offset, offset + 10 + length))
            elif frame_flags != b"\0\0":
                # v2.3 flag bits sit elsewhere than v2.4's and some change the frame's body.
                raise Unfit("the source's ID3v2.3 tag has frames with flags set")
            else:
                kept += [
                    frame_id + _syncsafe(length) + b"\0\0",
                    range(offset + 10, offset + 10 + length),
                ]
        offset += 10 + length
    return Plan(fmt, tuple(kept), range(end, buf.size))
