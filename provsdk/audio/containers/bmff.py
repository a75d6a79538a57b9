"""ISO base media (MP4) boxes: a bounded walk over the boxes between two offsets."""

from __future__ import annotations

from collections.abc import Iterator

from provsdk.audio.containers._buffer import Bytes

__all__ = ["MAX_BOXES", "Box", "boxes", "children"]

MAX_BOXES = 100_000

# (type, body offset, body end)
Box = tuple[bytes, int, int]


def boxes(buf: Bytes, start: int, end: int, counter: list[int]) -> Iterator[Box]:
    """Each box between start and end; ``counter`` bounds the boxes of one file, all walks."""
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


def children(buf: Bytes, box: Box, counter: list[int]) -> dict[bytes, list[Box]]:
    """The boxes directly inside ``box``, by type, each type's boxes in file order."""
    found: dict[bytes, list[Box]] = {}
    for child in boxes(buf, box[1], box[2], counter):
        found.setdefault(child[0], []).append(child)
    return found
