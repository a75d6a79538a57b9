"""The tags that may close an MP3 file, each found from the end by its own size field.

ID3v1 is the last 128 bytes; an APEv2 tag ends with a 32-byte footer giving its size; a
Lyrics3v2 tag ends with its size in six digits and ``LYRICS200`` (v1 has no size: it is at most
5100 bytes after ``LYRICSBEGIN``); an appended ID3v2 tag ends with a ``3DI`` footer. Only what
these fields lead to, back from the end of the file, is a tag: a magic word met anywhere else is
not, since decoders resync past it and play whatever frames follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.id3 import syncsafe

__all__ = ["TAG_MAGICS", "Tag", "trailing_tags"]

# The words a tag opens with, for naming one that is not where tags belong.
TAG_MAGICS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN", b"ID3")
# A file ends with a handful of tags at most; the bound keeps a hostile tail from looping.
MAX_TAGS = 8
_APE_FOOTER = 32
_APE_HAS_HEADER = 1 << 31
_APE_IS_HEADER = 1 << 29
_LYRICS3V1_MAX = 5100


@dataclass(frozen=True)
class Tag:
    name: str
    start: int
    end: int


def trailing_tags(buf: Bytes, floor: int) -> list[Tag]:
    """The tags that end the file, the last one first, none starting before ``floor``."""
    end = buf.size
    tags: list[Tag] = []
    if end - 128 >= floor and buf.take(end - 128, 3, "ID3v1 tag") == b"TAG":
        tags.append(Tag("ID3v1", end - 128, end))
        end -= 128
    for _ in range(MAX_TAGS):
        tag = _ape(buf, floor, end) or _lyrics3(buf, floor, end) or _id3v2_footer(buf, floor, end)
        if tag is None:
            break
        tags.append(tag)
        end = tag.start
    return tags


def _ape(buf: Bytes, floor: int, end: int) -> Tag | None:
    footer = end - _APE_FOOTER
    if footer < floor or buf.take(footer, 8, "APE tag footer") != b"APETAGEX":
        return None
    size, flags = buf.le32(footer + 12, "APE tag size"), buf.le32(footer + 20, "APE tag flags")
    if flags & _APE_IS_HEADER or size < _APE_FOOTER:
        return None
    start = end - size - (_APE_FOOTER if flags & _APE_HAS_HEADER else 0)
    if start < floor:
        return None
    if flags & _APE_HAS_HEADER and buf.take(start, 8, "APE tag header") != b"APETAGEX":
        return None
    return Tag("APEv2", start, end)


def _lyrics3(buf: Bytes, floor: int, end: int) -> Tag | None:
    if end - 9 < floor:
        return None
    trailer = buf.take(end - 9, 9, "Lyrics3 tag end")
    if trailer == b"LYRICS200" and end - 15 >= floor:
        digits = buf.take(end - 15, 6, "Lyrics3v2 size")
        if not digits.isdigit():
            return None
        start = end - 15 - int(digits)
        if start >= floor and buf.take(start, 11, "Lyrics3v2 tag") == b"LYRICSBEGIN":
            return Tag("Lyrics3v2", start, end)
        return None
    if trailer == b"LYRICSEND":
        low = max(floor, end - 9 - _LYRICS3V1_MAX - 11)
        at = buf.take(low, end - low, "Lyrics3 tag").rfind(b"LYRICSBEGIN")
        if at >= 0:
            return Tag("Lyrics3", low + at, end)
    return None


def _id3v2_footer(buf: Bytes, floor: int, end: int) -> Tag | None:
    if end - 10 < floor or buf.take(end - 10, 3, "ID3v2 footer") != b"3DI":
        return None
    size = syncsafe(buf.take(end - 4, 4, "ID3v2 footer size"))
    if size is None:
        return None
    start = end - 20 - size
    if start < floor or buf.take(start, 3, "appended ID3v2 tag") != b"ID3":
        return None
    return Tag("ID3v2", start, end)
