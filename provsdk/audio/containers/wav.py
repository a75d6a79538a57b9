"""RIFF/WAVE structure: the RIFF size, the top-level chunk walk, 'fmt ' and 'data'.

Readers disagree when a file gives them a choice: ffmpeg takes the first 'fmt ' but the last
'data', other readers the first of each, and ffmpeg walks on past the end the RIFF header
declares, playing a 'data' chunk it finds there. So a second 'fmt ' or 'data' chunk, or
anything but zero padding after the RIFF chunk, makes the audio ambiguous.
"""

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
    data: tuple[int, int] | None = None  # offset, size
    seen = {b"fmt ": 0, b"data": 0}
    manifest: tuple[int, int] | None = None
    stores = 0
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
        if chunk_id in seen:
            seen[chunk_id] += 1
        if chunk_id == b"fmt " and fmt is None:
            fmt = _fmt(buf, body, size)
        elif chunk_id == b"data" and data is None:
            if fmt is None:
                raise buf.corrupt("corrupt WAV: 'data' chunk before the 'fmt ' chunk")
            data = (body, size)
        elif chunk_id == b"C2PA":
            stores += 1
            if manifest is None:  # c2pa reads the first
                manifest = (body, size)
        offset = body + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise buf.corrupt("corrupt WAV: no 'fmt ' chunk")
    if data is None or not data[1]:
        raise buf.corrupt("WAV contains no audio samples (missing or empty 'data' chunk)")
    channels, rate, align = fmt
    info = AudioInfo(
        AudioFormat.WAV,
        rate,
        channels,
        (data[1] // align) / rate,
        (data,),
        manifest=manifest,
        # One store per file: with two, c2pa reads the first and other tools another, so what
        # is checked and what is read could differ.
        manifest_problem=f"{stores} C2PA chunks: a file carries one manifest store"
        if stores > 1
        else None,
    )
    problem = _ambiguity(buf, riff_end, seen)
    return info.ambiguous(problem) if problem else info


def _fmt(buf: Bytes, body: int, size: int) -> tuple[int, int, int]:
    if size < 16:
        raise buf.corrupt(f"corrupt WAV: 'fmt ' chunk is {size} bytes, needs 16")
    channels = buf.le16(body + 2, "fmt channels")
    rate = buf.le32(body + 4, "fmt sample rate")
    align = buf.le16(body + 12, "fmt block align")
    if channels == 0 or rate == 0 or align == 0:
        raise buf.corrupt(
            f"corrupt WAV: 'fmt ' says {channels} channels, {rate} Hz, block align {align}"
        )
    return channels, rate, align


def _ambiguity(buf: Bytes, riff_end: int, seen: dict[bytes, int]) -> str | None:
    for chunk_id, count in seen.items():
        if count > 1:
            return (
                f"{count} {chunk_id.decode()!r} chunks: decoders and provsdk could "
                "choose different ones and play different audio"
            )
    if not buf.zeros(riff_end, buf.size):
        return (
            f"{buf.size - riff_end} bytes follow the end of the RIFF chunk (offset {riff_end}): "
            "decoders that read on, as ffmpeg does, could play a 'data' chunk there"
        )
    return None
