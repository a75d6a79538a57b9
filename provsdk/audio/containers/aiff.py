"""AIFF and AIFF-C: the FORM size, the chunk walk, 'COMM' and 'SSND'.

An AIFF file carries no C2PA manifest: its manifest is a sidecar whose data hash covers every
byte of the file. So nothing here is left ambiguous for a later check to weigh, as wav.py does:
a FORM that declares more than the file holds, anything but zero padding after it, a second
'COMM' or 'SSND' chunk (readers disagree on which they play), or sample data shorter than the
frames 'COMM' declares, is a corrupt file.
"""

from __future__ import annotations

import math
import struct

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat

__all__ = ["check_aiff"]

# A real AIFF has a handful of chunks; tens of thousands only come from a hostile file.
MAX_CHUNKS = 10_000
# Sample rates outside this range are not audio a studio ships, whatever the header says.
_MIN_RATE, _MAX_RATE = 1.0, 10_000_000.0
# Bytes per sample of the uncompressed AIFF-C codings, None where the sample size decides
# (NONE, twos, sowt and raw store samples of COMM's sampleSize bits, rounded up to bytes).
_UNCOMPRESSED: dict[bytes, int | None] = {
    b"NONE": None,
    b"twos": None,
    b"sowt": None,
    b"raw ": None,
    b"in24": 3,
    b"42ni": 3,
    b"in32": 4,
    b"23ni": 4,
    b"fl32": 4,
    b"FL32": 4,
    b"fl64": 8,
    b"FL64": 8,
    b"ulaw": 1,
    b"ULAW": 1,
    b"alaw": 1,
    b"ALAW": 1,
}


def check_aiff(buf: Bytes) -> AudioInfo:
    form_end = buf.be32(4, "FORM header") + 8
    if form_end > buf.size:
        raise buf.corrupt(
            f"truncated or corrupt AIFF: the FORM header declares {form_end} bytes, "
            f"the file has {buf.size}"
        )
    form = buf.take(8, 4, "FORM type")
    if form not in (b"AIFF", b"AIFC"):
        raise buf.corrupt(f"corrupt AIFF: FORM type {form!r} is neither 'AIFF' nor 'AIFC'")
    comm: tuple[int, int] | None = None  # offset, size of the chunk body
    ssnd: tuple[int, int] | None = None
    offset, chunks = 12, 0
    while offset + 8 <= form_end:
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise buf.corrupt(f"hostile AIFF: more than {MAX_CHUNKS} chunks")
        chunk_id = buf.take(offset, 4, "chunk id")
        size = buf.be32(offset + 4, "chunk size")
        name = chunk_id.decode("latin-1")
        if not all(0x20 <= c < 0x7F for c in chunk_id):
            raise buf.corrupt(f"corrupt AIFF: no chunk starts at offset {offset} ({name!r})")
        body = offset + 8
        if body + size > form_end:
            raise buf.corrupt(
                f"truncated or corrupt AIFF: chunk {name!r} at offset {offset} declares "
                f"{size} bytes, only {form_end - body} remain"
            )
        if chunk_id in (b"COMM", b"SSND"):
            if (comm if chunk_id == b"COMM" else ssnd) is not None:
                raise buf.corrupt(f"corrupt AIFF: two {name} chunks (offset {offset})")
            if chunk_id == b"COMM":
                comm = (body, size)
            else:
                ssnd = (body, size)
        offset = body + size + (size & 1)  # chunks are padded to an even length
    if offset < form_end:
        raise buf.corrupt(f"corrupt AIFF: {form_end - offset} stray bytes end the FORM chunk")
    # Some writers leave the pad byte of an odd-sized last chunk out of the FORM size: it is
    # zero padding after the FORM chunk, as any other is.
    if not buf.zeros(form_end, buf.size):
        raise buf.corrupt(
            f"corrupt AIFF: {buf.size - form_end} bytes that are not padding follow the "
            f"FORM chunk (offset {form_end})"
        )
    if comm is None:
        raise buf.corrupt("corrupt AIFF: no COMM chunk")
    if ssnd is None:
        raise buf.corrupt("corrupt AIFF: no SSND chunk")
    channels, frames, rate, sample_bytes = _comm(buf, *comm, aifc=form == b"AIFC")
    _ssnd(buf, *ssnd, None if sample_bytes is None else frames * channels * sample_bytes)
    # The sidecar's data hash covers the whole file and excludes nothing, so the whole file is
    # what the signature vouches for: the essence is every byte.
    return AudioInfo(
        AudioFormat.AIFF,
        round(rate),
        channels,
        # Compressed codings count frames their own way (IMA4 packs 64 samples in one).
        frames / rate if sample_bytes is not None else None,
        essence=((0, buf.size),),
    )


def _comm(buf: Bytes, body: int, size: int, aifc: bool) -> tuple[int, int, float, int | None]:
    """(channels, sample frames, sample rate, bytes per sample or None when compressed)."""
    needed = 22 if aifc else 18
    if size < needed:
        raise buf.corrupt(f"corrupt AIFF: COMM chunk is {size} bytes, needs {needed}")
    channels, frames, bits = struct.unpack(">hIh", buf.take(body, 8, "COMM"))
    rate = extended_to_float(buf.take(body + 8, 10, "COMM sample rate"))
    if not _MIN_RATE <= rate <= _MAX_RATE:  # also false for NaN
        raise buf.corrupt(f"corrupt AIFF: COMM sample rate is {rate} Hz")
    if channels < 1 or not 1 <= bits <= 64:
        raise buf.corrupt(f"corrupt AIFF: COMM says {channels} channels of {bits}-bit samples")
    if not frames:
        raise buf.corrupt("AIFF contains no audio samples (COMM declares 0 sample frames)")
    coding = buf.take(body + 18, 4, "COMM compression type") if aifc else b"NONE"
    if coding not in _UNCOMPRESSED:
        return channels, frames, rate, None
    return channels, frames, rate, _UNCOMPRESSED[coding] or (bits + 7) // 8


def _ssnd(buf: Bytes, body: int, size: int, needed: int | None) -> None:
    if size < 8:
        raise buf.corrupt(f"corrupt AIFF: SSND chunk is {size} bytes, needs 8")
    start = buf.be32(body, "SSND offset")
    if start > size - 8:
        raise buf.corrupt(f"corrupt AIFF: SSND data offset {start} lies past the chunk's end")
    held = size - 8 - start
    if needed is not None and held < needed:
        raise buf.corrupt(
            f"truncated or corrupt AIFF: SSND holds {held} bytes of samples, "
            f"COMM declares frames that need {needed}"
        )


def extended_to_float(raw: bytes) -> float:
    """An 80-bit IEEE 754 extended value (sign, 15-bit exponent, 64-bit mantissa with an
    explicit integer bit) as a float: NaN for NaN, +/-inf for infinities and for values beyond
    a float's range, 0.0 for zero and the denormals below it."""
    exponent = int.from_bytes(raw[:2], "big")
    mantissa = int.from_bytes(raw[2:10], "big")
    sign = -1.0 if exponent & 0x8000 else 1.0
    exponent &= 0x7FFF
    if exponent == 0x7FFF:
        return math.nan if mantissa & ((1 << 63) - 1) else sign * math.inf
    # value = mantissa * 2^(exponent - 16383 - 63). Denormals use exponent 1 - 16383.
    power = max(exponent, 1) - 16383 - 63
    if power + 64 >= 1024:  # at or beyond the largest float
        return sign * math.inf
    return sign * math.ldexp(float(mantissa), power)
