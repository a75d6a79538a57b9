"""FLAC's last audio frame: found by its header CRC-8, checked by its CRC-16 and sample count.

FLAC frames carry no length field, so truncation is only visible at the end: the last frame
must be whole (its CRC-16 matches) and end at the sample count STREAMINFO announces.
"""

from __future__ import annotations

from provsdk.audio.containers._buffer import Bytes

__all__ = ["check_last_frame"]

# How many candidate frame headers we try before calling the tail corrupt; real files need one.
MAX_CANDIDATES = 64
# A FLAC frame is at most 16 MiB by the format; STREAMINFO usually says far less.
MAX_FRAME = 1 << 24
# Bytes we are willing to run through CRC-16 looking for the last frame of a damaged file.
CRC_BUDGET = 8 << 20


def _table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else crc << 1
        table.append(crc & mask)
    return tuple(table)


_CRC8 = _table(0x07, 8)
_CRC16 = _table(0x8005, 16)


def _crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = _CRC8[crc ^ b]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ b]
    return crc


def _coded_number(data: bytes, at: int) -> tuple[int, int] | None:
    """FLAC's UTF-8-like coded frame/sample number at ``at``: (value, bytes used)."""
    first = data[at]
    if first < 0x80:
        return first, 1
    length = 0
    while length < 8 and first & (0x80 >> length):
        length += 1
    if length < 2 or length > 7 or at + length > len(data):
        return None
    value = first & (0x7F >> length)
    for b in data[at + 1 : at + length]:
        if b & 0xC0 != 0x80:
            return None
        value = (value << 6) | (b & 0x3F)
    return value, length


def _header(data: bytes, at: int) -> tuple[int, int, bool] | None:
    """(coded number, block size, variable blocking) of a valid frame header at ``at``."""
    if at + 6 > len(data) or data[at] != 0xFF or data[at + 1] & 0xFE != 0xF8:
        return None
    variable = bool(data[at + 1] & 1)
    size_code, rate_code = data[at + 2] >> 4, data[at + 2] & 0x0F
    if size_code == 0 or rate_code == 15 or data[at + 3] & 1 or (data[at + 3] >> 4) > 10:
        return None
    number = _coded_number(data, at + 4)
    if number is None:
        return None
    pos = at + 4 + number[1]
    extra_size = {6: 1, 7: 2}.get(size_code, 0)
    extra_rate = {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    end = pos + extra_size + extra_rate
    if end >= len(data) or _crc8(data[at:end]) != data[end]:
        return None
    if size_code == 1:
        block = 192
    elif size_code <= 5:
        block = 576 << (size_code - 2)
    elif size_code >= 8:
        block = 256 << (size_code - 8)
    else:
        block = int.from_bytes(data[pos : pos + extra_size], "big") + 1
    return number[0], block, variable


def check_last_frame(
    buf: Bytes, first_frame: int, max_frame: int, block_size: int, total_samples: int
) -> None:
    """Raise CorruptAudioError unless the file ends with a whole frame at the announced end."""
    window = min(max_frame or MAX_FRAME, MAX_FRAME) + 32
    start = max(first_frame, buf.size - window)
    tail = buf.take(start, buf.size - start, "FLAC tail")
    candidates, crc_work = 0, 0
    at = len(tail)
    while candidates < MAX_CANDIDATES and crc_work < CRC_BUDGET:
        at = tail.rfind(b"\xff", 0, at)
        if at < 0:
            break
        header = _header(tail, at)
        if header is None:
            continue
        candidates += 1
        crc_work += len(tail) - at
        if _crc16(tail[at:-2]) != int.from_bytes(tail[-2:], "big"):
            continue
        number, block, variable = header
        first_sample = number if variable else number * block_size
        if total_samples and first_sample + block != total_samples:
            raise buf.corrupt(
                f"truncated FLAC: the audio ends at sample {first_sample + block}, "
                f"STREAMINFO announces {total_samples}"
            )
        return
    raise buf.corrupt("truncated or corrupt FLAC: the file does not end with a whole audio frame")
