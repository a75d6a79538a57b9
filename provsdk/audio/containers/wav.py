"""RIFF/WAVE structure: the RIFF size, the top-level chunk walk, 'fmt ' and 'data'."""

from __future__ import annotations

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat

# A real WAV has a handful of chunks; tens of thousands only come from a hostile file.
MAX_CHUNKS = 10_000


def check_wav(buf: Bytes) -> AudioInfo:
    riff_end = buf.le32(4, "RIFF header") + 8
    if riff_end > buf.size:
        raise buf.corrupt(
            f"truncated or corrupt WAV: the RIFF header declares {riff_end} bytes, "
            f"the file has {buf.size}"
        )
    offset, chunks = 12, 0
    fmt: tuple[int, int, int] | None = None  # channels, sample rate, block align
    data_size: int | None = None
    data_offset = 0
    manifest: tuple[int, int] | None = None
    while offset + 8 <= riff_end:
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise buf.corrupt(f"hostile WAV: more than {MAX_CHUNKS} chunks")
        chunk_id = buf.take(offset, 4, "chunk id")
        size = buf.le32(offset + 4, "chunk size")
        body = offset + 8
        if body + size > riff_end:
            name = chunk_id.decode("latin-1")
            raise buf.corrupt(
                f"truncated or corrupt WAV: chunk {name!r} at offset {offset} declares "
                f"{size} bytes, only {riff_end - body} remain"
            )
        if chunk_id == b"fmt ":
            if size < 16:
                raise buf.corrupt(f"corrupt WAV: 'fmt ' chunk is {size} bytes, needs 16")
            channels = buf.le16(body + 2, "fmt channels")
            rate = buf.le32(body + 4, "fmt sample rate")
            align = buf.le16(body + 12, "fmt block align")
            if channels == 0 or rate == 0 or align == 0:
                raise buf.corrupt(
                    f"corrupt WAV: 'fmt ' says {channels} channels, {rate} Hz, block align {align}"
                )
            fmt = (channels, rate, align)
        elif chunk_id == b"data":
            if fmt is None:
                raise buf.corrupt("corrupt WAV: 'data' chunk before the 'fmt ' chunk")
            data_size, data_offset = size, body
        elif chunk_id == b"C2PA":
            manifest = (body, size)
        offset = body + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise buf.corrupt("corrupt WAV: no 'fmt ' chunk")
    if not data_size:
        raise buf.corrupt("WAV contains no audio samples (missing or empty 'data' chunk)")
    channels, rate, align = fmt
    duration = (data_size // align) / rate
    return AudioInfo(
        AudioFormat.WAV, rate, channels, duration, (data_offset, data_size), manifest=manifest
    )
