"""ID3v2 tags, which open MP3 files and the FLAC files c2pa signs (it keeps the manifest there).

We walk the frames so a malformed one (a compressed frame too short to hold its own length
field, a size running past the tag) is reported instead of reaching a decoder.
"""

from __future__ import annotations

import re

from provsdk.audio.containers._buffer import Bytes

_FRAME_ID = re.compile(rb"[A-Z0-9]{3,4}")
MAX_FRAMES = 10_000


def syncsafe(raw: bytes) -> int | None:
    if any(b & 0x80 for b in raw):
        return None
    value = 0
    for b in raw:
        value = (value << 7) | b
    return value


def skip_id3v2(buf: Bytes, offset: int, carriers: list[tuple[int, int]] | None = None) -> int:
    """Validate the ID3v2 tags starting at ``offset``; return the offset after them.

    The GEOB frames that carry a C2PA manifest store are appended to ``carriers``.
    """
    while buf.size - offset >= 10 and buf.take(offset, 3, "ID3 header") == b"ID3":
        header = buf.take(offset, 10, "ID3v2 header")
        major, flags = header[3], header[5]
        size = syncsafe(header[6:10])
        if major not in (2, 3, 4) or size is None:
            raise buf.corrupt(f"corrupt ID3v2 tag at offset {offset} (version 2.{major})")
        end = offset + 10 + size + (10 if flags & 0x10 else 0)
        if end > buf.size:
            raise buf.corrupt(
                f"truncated or corrupt ID3v2 tag at offset {offset}: declares {size} bytes, "
                f"the file has {buf.size - offset - 10} left"
            )
        # With the tag-wide unsynchronisation flag, frame sizes are not reliable before
        # undoing it; the tag's own size still bounds it, which is what protects a reader.
        if major in (3, 4) and not flags & 0x80:
            start = offset + 10
            if flags & 0x40:  # extended header
                ext = buf.be32(start, "ID3 extended header")
                start += ext if major == 4 else ext + 4
            _check_frames(buf, start, offset + 10 + size, major, carriers)
        offset = end
    return offset


def _check_frames(
    buf: Bytes, offset: int, end: int, major: int, carriers: list[tuple[int, int]] | None
) -> None:
    frames = 0
    while offset + 10 <= end:
        frame_id = buf.take(offset, 4, "ID3 frame id")
        if frame_id[0] == 0:
            return  # padding
        frames += 1
        if frames > MAX_FRAMES or not _FRAME_ID.fullmatch(frame_id):
            raise buf.corrupt(f"corrupt ID3v2 tag: bad frame id {frame_id!r} at offset {offset}")
        raw = buf.take(offset + 4, 4, "ID3 frame size")
        size = syncsafe(raw) if major == 4 else int.from_bytes(raw, "big")
        if size is None or offset + 10 + size > end:
            raise buf.corrupt(
                f"corrupt ID3v2 frame {frame_id.decode()} at offset {offset}: "
                "its size runs past the end of the tag"
            )
        fmt_flags = buf.u8(offset + 9, "ID3 frame flags")
        # Compressed frames (v2.3) and data-length indicators (v2.4) start with a 4-byte length.
        needs_length = fmt_flags & 0x80 if major == 3 else fmt_flags & 0x01
        if needs_length and size < 4:
            raise buf.corrupt(
                f"corrupt ID3v2 frame {frame_id.decode()} at offset {offset}: marked compressed "
                f"but only {size} bytes long, too short for its length field"
            )
        # c2pa's object: MIME type "application/c2pa" (or the older x-c2pa-manifest-store).
        if (
            frame_id == b"GEOB"
            and carriers is not None
            and b"c2pa" in buf.take(offset + 10, min(size, 64), "GEOB header")
        ):
            carriers.append((offset + 10, size))
        offset += 10 + size
