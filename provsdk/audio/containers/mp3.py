"""MPEG audio: ID3v2 tags, then a chain of frames, each header telling where the next starts."""

from __future__ import annotations

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.id3 import skip_id3v2
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat

# kbit/s by [version is MPEG-1][layer 1..3][index]
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
# Junk or zero padding tolerated between the tag and the first frame.
_MAX_LEADING_GAP = 4096
_TRAILING_TAGS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN")


def _frame(header: bytes) -> tuple[int, int, int, int] | None:
    """(frame length, sample rate, channels, samples per frame), or None if not a header."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 3
    layer = 4 - ((header[1] >> 1) & 3)
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    channels = 1 if (header[3] >> 6) == 3 else 2
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, rate, channels, 384
    per_frame = 1152 if layer == 2 or mpeg1 else 576
    return per_frame // 8 * bitrate // rate + padding, rate, channels, per_frame


def check_mp3(buf: Bytes) -> AudioInfo:
    carriers: list[tuple[int, int]] = []
    start = skip_id3v2(buf, 0, carriers)
    offset = start
    while offset < min(buf.size, start + _MAX_LEADING_GAP) - 3:
        if _frame(buf.take(offset, 4, "MPEG frame header")) is not None:
            break
        offset += 1
    else:
        raise buf.corrupt("corrupt MP3: no MPEG audio frame after the ID3 tag")
    first = _frame(buf.take(offset, 4, "MPEG frame header"))
    assert first is not None
    _, rate, channels, per_frame = first
    frames, first_offset = 0, offset
    while offset < buf.size:
        if buf.size - offset < 4:
            if buf.take(offset, buf.size - offset, "tail").strip(b"\0"):
                raise buf.corrupt(f"truncated MP3: {buf.size - offset} stray bytes at the end")
            break
        head = buf.take(offset, 4, "MPEG frame header")
        frame = _frame(head)
        if frame is None:
            tail = buf.take(offset, 11, "trailing tag") if buf.size - offset >= 11 else head
            rest = buf.size - offset
            zero_padding = rest <= _MAX_LEADING_GAP and not buf.take(offset, rest, "tail").strip(
                b"\0"
            )
            if tail.startswith(_TRAILING_TAGS) or zero_padding:
                break
            raise buf.corrupt(f"corrupt MP3: broken MPEG frame at offset {offset}")
        length = frame[0]
        if offset + length > buf.size:
            raise buf.corrupt(
                f"truncated MP3: the frame at offset {offset} needs {length} bytes, "
                f"the file has {buf.size - offset} left"
            )
        frames += 1
        offset += length
    return AudioInfo(
        AudioFormat.MP3,
        rate,
        channels,
        frames * per_frame / rate,
        (first_offset, offset - first_offset),
        manifest=carriers[0] if carriers else None,
    )
