"""Bounds-checked reads over a file's bytes, shared by the container parsers.

Every read that would run past the end raises :class:`CorruptAudioError` naming the structure
that was cut short, so a parser never indexes out of range or trusts a size field blindly.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from provsdk.errors import CorruptAudioError

__all__ = ["Bytes"]

# Padding is checked a slice at a time, so a hostile gigabyte of it is never copied at once.
_SCAN = 1 << 20


class Bytes:
    """A read-only view of a file (an mmap or bytes) that knows its path for error messages."""

    def __init__(self, data: bytes | mmap.mmap, path: Path) -> None:
        self.data = data
        self.path = path
        self.size = len(data)

    def corrupt(self, message: str) -> CorruptAudioError:
        return CorruptAudioError(message, path=self.path)

    def need(self, offset: int, length: int, what: str) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise self.corrupt(
                f"truncated or corrupt: {what} at offset {offset} needs {length} bytes, "
                f"the file has {max(self.size - offset, 0)} left"
            )

    def take(self, offset: int, length: int, what: str) -> bytes:
        self.need(offset, length, what)
        return bytes(self.data[offset : offset + length])

    def u8(self, offset: int, what: str) -> int:
        return self.take(offset, 1, what)[0]

    def be16(self, offset: int, what: str) -> int:
        return int(struct.unpack(">H", self.take(offset, 2, what))[0])

    def be32(self, offset: int, what: str) -> int:
        return int(struct.unpack(">I", self.take(offset, 4, what))[0])

    def be64(self, offset: int, what: str) -> int:
        return int(struct.unpack(">Q", self.take(offset, 8, what))[0])

    def le16(self, offset: int, what: str) -> int:
        return int(struct.unpack("<H", self.take(offset, 2, what))[0])

    def le32(self, offset: int, what: str) -> int:
        return int(struct.unpack("<I", self.take(offset, 4, what))[0])

    def zeros(self, start: int, end: int) -> bool:
        """Whether every byte in [start, end) is zero (padding, which no decoder plays)."""
        for at in range(start, end, _SCAN):
            if self.take(at, min(_SCAN, end - at), "padding").strip(b"\0"):
                return False
        return True
