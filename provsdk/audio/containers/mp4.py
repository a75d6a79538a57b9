"""MP4/M4A: the box tree, down to the audio track's handler, timing and sample tables.

The essence is the audio track's samples (see ``mp4_samples``). Before the tables are read,
layouts where players disagree on *which* samples make the audio ambiguous: a second 'moov'
(ffmpeg reads the first), fragments ('moof', whose runs point anywhere), several audio tracks
(ffmpeg plays the enabled one, other players the first), several 'mdat' boxes.
"""

from __future__ import annotations

import dataclasses

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.bmff import Box, boxes, children
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.containers.mp4_samples import Ambiguity, sample_ranges
from provsdk.audio.formats import AudioFormat

__all__ = ["C2PA_UUID", "check_mp4"]

# The 'uuid' box type c2pa embeds its manifest store in (C2PA specification, BMFF embedding).
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def check_mp4(buf: Bytes) -> AudioInfo:
    counter = [0]
    top = children(buf, (b"", 0, buf.size), counter)
    for required in (b"ftyp", b"moov", b"mdat"):
        if required not in top:
            raise buf.corrupt(f"corrupt MP4: no {required.decode()!r} box")
    stores = [
        (body, end - body)
        for _, body, end in top.get(b"uuid", [])
        if end - body >= 16 and buf.take(body, 16, "uuid") == C2PA_UUID
    ]
    in_moov = children(buf, top[b"moov"][0], counter)
    tracks = [trak for trak in in_moov.get(b"trak", []) if _is_audio(buf, trak, counter)]
    if not tracks:
        raise buf.corrupt("MP4 file has no audio track")
    info = dataclasses.replace(
        _audio_track(buf, tracks[0][1], tracks[0][2], counter),
        manifest=stores[0] if stores else None,
    )
    mdats = [(body, end) for _, body, end in top[b"mdat"] if end > body]
    try:
        if len(top[b"moov"]) > 1:
            raise Ambiguity(
                f"{len(top[b'moov'])} 'moov' boxes: players that read the first (ffmpeg) and "
                "the last describe different audio"
            )
        if b"moof" in top or b"mvex" in in_moov:
            raise Ambiguity(
                "a fragmented MP4: its fragments' runs can point at any bytes, so provsdk "
                "does not bind them"
            )
        if len(tracks) > 1:
            raise Ambiguity(
                f"{len(tracks)} audio tracks: players choose differently (ffmpeg the enabled "
                "one with the most channels, others the first)"
            )
        if len(mdats) != 1:
            raise Ambiguity(
                f"{len(mdats)} 'mdat' boxes with content: the audio must lie in one media data "
                "box for provsdk to bind it"
            )
        essence = sample_ranges(buf, tracks[0], mdats[0], counter)
    except Ambiguity as why:
        return info.ambiguous(str(why))
    return dataclasses.replace(info, essence=essence)


def _find(
    buf: Bytes, start: int, end: int, path: tuple[bytes, ...], counter: list[int]
) -> tuple[int, int] | None:
    for kind, body, box_end in boxes(buf, start, end, counter):
        if kind == path[0]:
            if len(path) == 1:
                return body, box_end
            if kind in _CONTAINERS:
                return _find(buf, body, box_end, path[1:], counter)
    return None


def _is_audio(buf: Bytes, trak: Box, counter: list[int]) -> bool:
    hdlr = _find(buf, trak[1], trak[2], (b"mdia", b"hdlr"), counter)
    return hdlr is not None and buf.take(hdlr[0] + 8, 4, "handler type") == b"soun"


def _audio_track(buf: Bytes, start: int, end: int, counter: list[int]) -> AudioInfo:
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
