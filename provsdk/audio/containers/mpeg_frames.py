"""MPEG audio and ADTS frame headers, and finding frames where no audio should be.

A demuxer that resyncs (ffmpeg's MP3 and ADTS readers do) plays any run of linked frames it
meets, whatever box, block or tag they sit in, and which demuxer reads a file can depend on its
name: ffmpeg takes a FLAC file whose ID3v2 tag outgrows its probe buffer for MP3, or for ADTS
when it is named ``.aac``. Bytes provsdk leaves out of the audio digest must therefore hold no
such run, or a player could play audio the digest never saw.
"""

from __future__ import annotations

import re

__all__ = ["mpeg_frame", "stray_frames"]

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
_ADTS_HEADER = 7
# Past this many plausible headers in one range we stop looking and call it stray: honest
# pictures and tags hold a few hundred per megabyte, a hostile range could hold millions.
MAX_CANDIDATES = 100_000


def _sync_pattern() -> re.Pattern[bytes]:
    """0xFF followed by a second byte that can open an MPEG or ADTS header, and a third that
    names a usable bitrate and sample rate, so the scan skips everything else at C speed."""

    def klass(values: list[int]) -> bytes:
        return b"[" + b"".join(re.escape(bytes([v])) for v in values) + b"]"

    mpeg_second = [b for b in range(0xE0, 0x100) if (b >> 3) & 3 != 1 and (b >> 1) & 3 != 0]
    mpeg_third = [b for b in range(256) if b >> 4 not in (0, 15) and (b >> 2) & 3 != 3]
    adts_second = [b for b in range(256) if b & 0xF6 == 0xF0]
    adts_third = [b for b in range(256) if (b >> 2) & 0x0F <= 12]
    mpeg = klass(mpeg_second) + klass(mpeg_third)
    adts = klass(adts_second) + klass(adts_third)
    # A lookahead, so that overlapping candidates (0xFF 0xFF 0xFB...) are all seen.
    return re.compile(b"\\xff(?=" + mpeg + b"|" + adts + b")")


_SYNC = _sync_pattern()


def mpeg_frame(header: bytes) -> tuple[int, int, int, int] | None:
    """(frame length, sample rate, channels, samples per frame), or None if not a header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
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


def _adts_length(header: bytes) -> int | None:
    """The length of the ADTS frame whose header opens ``header``, or None."""
    if len(header) < _ADTS_HEADER or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None
    if (header[2] >> 2) & 0x0F > 12:  # sampling frequency index
        return None
    length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
    return length if length >= _ADTS_HEADER else None


def _same_stream(first: bytes, second: bytes) -> bool:
    # What ffmpeg's MP3 reader compares before trusting a second header: version, layer and
    # sample rate; the bitrate may change from frame to frame.
    return first[1] & 0xFE == second[1] & 0xFE and first[2] & 0x0C == second[2] & 0x0C


def stray_frames(data: bytes) -> int | None:
    """The offset in ``data`` of two linked MPEG audio or ADTS frames, or None.

    Two, because a resyncing reader trusts a header only when the next frame starts where it
    says; a lone sync pattern turns up in any compressed picture and is played by nobody.
    """
    for seen, match in enumerate(_SYNC.finditer(data)):
        at = match.start()
        if seen >= MAX_CANDIDATES:
            return at
        head = data[at : at + 4]
        frame = mpeg_frame(head)
        if frame is not None:
            after = data[at + frame[0] : at + frame[0] + 4]
            if mpeg_frame(after) is not None and _same_stream(head, after):
                return at
        length = _adts_length(data[at : at + _ADTS_HEADER])
        if length is not None and _adts_length(data[at + length : at + length + _ADTS_HEADER]):
            return at
    return None
