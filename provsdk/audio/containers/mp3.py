"""MPEG audio: ID3v2 tags, then a chain of frames, each header telling where the next starts.

The essence is that chain. What is left out of it must hold nothing a decoder plays: the
leading gap and the trailing tags are checked for stray frames, and the chain must end where the
tags found from the end of the file begin (or in zero padding up to them), since ffmpeg resyncs
past a tag, or a magic word that only looks like one, and plays the frames after it.
"""

from __future__ import annotations

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.id3 import skip_id3v2
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.containers.mp3_tags import TAG_MAGICS, Tag, trailing_tags
from provsdk.audio.containers.mpeg_frames import mpeg_frame, stray_frames
from provsdk.audio.formats import AudioFormat

# Junk or zero padding tolerated between the tag and the first frame.
_MAX_LEADING_GAP = 4096


def check_mp3(buf: Bytes) -> AudioInfo:
    carriers: list[tuple[int, int]] = []
    start = skip_id3v2(buf, 0, carriers)
    offset = start
    while offset < min(buf.size, start + _MAX_LEADING_GAP) - 3:
        if mpeg_frame(buf.take(offset, 4, "MPEG frame header")) is not None:
            break
        offset += 1
    else:
        raise buf.corrupt("corrupt MP3: no MPEG audio frame after the ID3 tag")
    first = mpeg_frame(buf.take(offset, 4, "MPEG frame header"))
    assert first is not None
    _, rate, channels, per_frame = first
    frames, first_offset = 0, offset
    while buf.size - offset >= 4:
        frame = mpeg_frame(buf.take(offset, 4, "MPEG frame header"))
        if frame is None:
            break
        length = frame[0]
        if offset + length > buf.size:
            raise buf.corrupt(
                f"truncated MP3: the frame at offset {offset} needs {length} bytes, "
                f"the file has {buf.size - offset} left"
            )
        frames += 1
        offset += length
    info = AudioInfo(
        AudioFormat.MP3,
        rate,
        channels,
        frames * per_frame / rate,
        ((first_offset, offset - first_offset),),
        manifest=carriers[0] if carriers else None,
    )
    problem = _leftover_problem(buf, start, first_offset, offset)
    return info.ambiguous(problem) if problem else info


def _leftover_problem(buf: Bytes, gap: int, first: int, chain_end: int) -> str | None:
    """Why the bytes outside the frame chain could be played, or None when they cannot."""
    tags = trailing_tags(buf, first) if chain_end < buf.size else []
    tags_start = tags[-1].start if tags else buf.size
    if chain_end > tags_start:
        return (
            f"the MPEG frames run into the {tags[-1].name} tag at offset {tags_start}: "
            "decoders and provsdk could end the audio in different places"
        )
    if not buf.zeros(chain_end, tags_start):
        tail = buf.take(chain_end, min(11, buf.size - chain_end), "trailing tag")
        magic = next((m for m in TAG_MAGICS if tail.startswith(m)), None)
        if magic is None and buf.size - chain_end < 4 and not tags:
            raise buf.corrupt(f"truncated MP3: {buf.size - chain_end} stray bytes at the end")
        if magic is None:
            raise buf.corrupt(f"corrupt MP3: broken MPEG frame at offset {chain_end}")
        return (
            f"{magic.decode()!r} at offset {chain_end} opens a tag that is not at the end of "
            "the file: decoders skip it and play what follows, which provsdk does not hash"
        )
    return _stray_problem(buf, gap, first, tags)


def _stray_problem(buf: Bytes, gap: int, first: int, tags: list[Tag]) -> str | None:
    places = [(f"the {tag.name} tag", tag.start, tag.end) for tag in tags]
    if first > gap:
        places.append(("the gap before the first frame", gap, first))
    for where, start, end in places:
        at = stray_frames(buf.take(start, end - start, where))
        if at is not None:
            return (
                f"{where} holds audio frames at offset {start + at}: "
                "a decoder that resyncs would play them, and provsdk does not hash them"
            )
    return None
