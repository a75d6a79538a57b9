"""MP4/M4A: the box tree, down to the audio track's handler, timing and sample description."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat

MAX_BOXES = 100_000
# The 'uuid' box type c2pa embeds its manifest store in (C2PA specification, BMFF embedding).
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def _boxes(
    buf: Bytes, start: int, end: int, counter: list[int]
) -> Iterator[tuple[bytes, int, int]]:
    """(type, body offset, body end) of each box between start and end."""
    offset = start
    while offset + 8 <= end:
        counter[0] += 1
        if counter[0] > MAX_BOXES:
            raise buf.corrupt(f"hostile MP4: more than {MAX_BOXES} boxes")
        size = buf.be32(offset, "box size")
        kind = buf.take(offset + 4, 4, "box type")
        header = 8
        if size == 1:
            size, header = buf.be64(offset + 8, "box large size"), 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise buf.corrupt(
                f"truncated or corrupt MP4: box {kind!r} at offset {offset} declares {size} "
                f"bytes, {end - offset} remain"
            )
        yield kind, offset + header, offset + size
        offset += size
    if offset != end and buf.take(offset, end - offset, "box tail").strip(b"\0"):
        raise buf.corrupt(f"truncated or corrupt MP4: stray bytes at offset {offset}")


def check_mp4(buf: Bytes) -> AudioInfo:
    counter = [0]
    boxes = list(_boxes(buf, 0, buf.size, counter))
    top = {kind: (body, end) for kind, body, end in boxes}
    mdats = [(body, end - body) for kind, body, end in boxes if kind == b"mdat"]
    stores = [
        (body, end - body)
        for kind, body, end in boxes
        if kind == b"uuid" and end - body >= 16 and buf.take(body, 16, "uuid") == C2PA_UUID
    ]
    for required in (b"ftyp", b"moov", b"mdat"):
        if required not in top:
            raise buf.corrupt(f"corrupt MP4: no {required.decode()!r} box")
    body, end = top[b"moov"]
    for kind, trak_body, trak_end in _boxes(buf, body, end, counter):
        if kind == b"trak":
            info = _audio_track(buf, trak_body, trak_end, counter)
            if info is not None:
                # One media data box is the rule for audio; with several, no single range.
                return dataclasses.replace(
                    info,
                    essence=mdats[0] if len(mdats) == 1 else None,
                    manifest=stores[0] if stores else None,
                )
    raise buf.corrupt("MP4 file has no audio track")


def _find(
    buf: Bytes, start: int, end: int, path: tuple[bytes, ...], counter: list[int]
) -> tuple[int, int] | None:
    for kind, body, box_end in _boxes(buf, start, end, counter):
        if kind == path[0]:
            if len(path) == 1:
                return body, box_end
            if kind in _CONTAINERS:
                return _find(buf, body, box_end, path[1:], counter)
    return None


def _audio_track(buf: Bytes, start: int, end: int, counter: list[int]) -> AudioInfo | None:
    hdlr = _find(buf, start, end, (b"mdia", b"hdlr"), counter)
    if hdlr is None or buf.take(hdlr[0] + 8, 4, "handler type") != b"soun":
        return None
    mdhd = _find(buf, start, end, (b"mdia", b"mdhd"), counter)
    if mdhd is None:
        raise buf.corrupt("corrupt MP4: audio track without a media header")
    version = buf.u8(mdhd[0], "mdhd version")
    if version == 1:
        timescale, duration = buf.be32(mdhd[0] + 20, "mdhd"), buf.be64(mdhd[0] + 24, "mdhd")
    else:
        timescale, duration = buf.be32(mdhd[0] + 12, "mdhd"), buf.be32(mdhd[0] + 16, "mdhd")
    if timescale == 0:
        raise buf.corrupt("corrupt MP4: audio track timescale is 0")
    channels: int | None = None
    rate = timescale
    stsd = _find(buf, start, end, (b"mdia", b"minf", b"stbl", b"stsd"), counter)
    if stsd is not None and stsd[1] - stsd[0] >= 8 + 36:
        entry = stsd[0] + 8  # after version/flags and the entry count
        channels = buf.be16(entry + 24, "sample entry channels")
        rate = buf.be32(entry + 32, "sample entry rate") >> 16 or timescale
    return AudioInfo(AudioFormat.M4A, rate, channels, duration / timescale)
