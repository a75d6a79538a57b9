"""A tiny PNG writer (numpy + zlib), so the bench draws spectrograms without matplotlib."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(path: Path, rgb: npt.NDArray[np.uint8]) -> None:
    """Write an (height, width, 3) uint8 image as an 8-bit RGB PNG."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an (height, width, 3) uint8 array")
    height, width, _ = rgb.shape
    # Filter type 0 (none) in front of every row.
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rgb.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )
    path.write_bytes(data)


def heat(values: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """Map values in [0, 1] to a black-purple-orange-white ramp, shape (..., 3)."""
    x = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    red = np.clip(1.8 * x, 0.0, 1.0)
    green = np.clip(2.2 * x - 0.9, 0.0, 1.0)
    blue = np.clip(np.where(x < 0.4, 1.5 * x, 0.6 - 1.5 * (x - 0.4)), 0.0, 1.0)
    blue = np.maximum(blue, np.clip(3.0 * x - 2.0, 0.0, 1.0))
    return np.asarray(np.rint(np.stack([red, green, blue], axis=-1) * 255.0), dtype=np.uint8)
