"""FLAC: optional ID3v2 tags (c2pa adds one), 'fLaC', the metadata blocks, then frame sync.

The essence runs from the first frame to the end of the file, which must be a whole frame, so
every byte a FLAC decoder can reach is hashed; ffmpeg plays neither metadata nor the ID3 tag.
But a file whose ID3 tag outgrows ffmpeg's probe buffer (a large manifest does that) is read as
MP3, or as ADTS when named ``.aac``, and then MPEG or ADTS frames hidden in a metadata block
play instead: metadata must hold none.
"""

from __future__ import annotations

import dataclasses

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.flac_frames import check_last_frame
from provsdk.audio.containers.id3 import skip_id3v2
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.containers.mpeg_frames import stray_frames
from provsdk.audio.formats import AudioFormat

MAX_BLOCKS = 10_000


def check_flac(buf: Bytes) -> AudioInfo:
    carriers: list[tuple[int, int]] = []
    offset = marker = skip_id3v2(buf, 0, carriers)
    if buf.take(offset, 4, "FLAC marker") != b"fLaC":
        raise buf.corrupt(f"corrupt FLAC: no 'fLaC' marker at offset {offset}")
    offset += 4
    streaminfo: tuple[AudioInfo, int, int, int] | None = None
    for index in range(MAX_BLOCKS):
        header = buf.be32(offset, "FLAC metadata block header")
        last, kind, length = header >> 31, (header >> 24) & 0x7F, header & 0xFFFFFF
        if index == 0 and (kind != 0 or length != 34):
            raise buf.corrupt("corrupt FLAC: the first metadata block is not STREAMINFO")
        if kind == 127:
            raise buf.corrupt(f"corrupt FLAC: invalid metadata block type at offset {offset}")
        buf.need(offset + 4, length, "FLAC metadata block")
        if kind == 0:
            streaminfo = _streaminfo(buf, offset + 4)
        offset += 4 + length
        if last:
            break
    else:
        raise buf.corrupt(f"hostile FLAC: more than {MAX_BLOCKS} metadata blocks")
    sync = buf.be16(offset, "first FLAC frame")
    if sync & 0xFFFE != 0xFFF8:
        raise buf.corrupt(f"corrupt FLAC: no audio frame after the metadata (offset {offset})")
    assert streaminfo is not None
    info, max_block, max_frame, total = streaminfo
    check_last_frame(buf, offset, max_frame, max_block, total)
    manifest = carriers[0] if carriers else None
    info = dataclasses.replace(info, essence=((offset, buf.size - offset),), manifest=manifest)
    stray = stray_frames(buf.take(marker, offset - marker, "FLAC metadata"))
    if stray is not None:
        return info.ambiguous(
            f"a FLAC metadata block holds MPEG or ADTS audio frames (offset {marker + stray}): "
            "a player that takes the file for MP3 or AAC would play them instead"
        )
    return info


def _streaminfo(buf: Bytes, offset: int) -> tuple[AudioInfo, int, int, int]:
    """(info, maximum block size, maximum frame size, total samples) from STREAMINFO."""
    max_block = buf.be16(offset + 2, "STREAMINFO")
    max_frame = int.from_bytes(buf.take(offset + 7, 3, "STREAMINFO"), "big")
    packed = int.from_bytes(buf.take(offset + 10, 8, "STREAMINFO"), "big")
    rate = packed >> 44
    channels = ((packed >> 41) & 7) + 1
    total = packed & 0xFFFFFFFFF
    if rate == 0:
        raise buf.corrupt("corrupt FLAC: STREAMINFO sample rate is 0")
    info = AudioInfo(AudioFormat.FLAC, rate, channels, total / rate if total else None)
    return info, max_block, max_frame, total
