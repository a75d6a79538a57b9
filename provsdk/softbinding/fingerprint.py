"""Chromaprint fingerprints of a file's decoded audio, computed by the wheel's ffmpeg.

ffmpeg decodes the file, downmixes it and hands it to its ``chromaprint`` muxer, which writes
the raw fingerprint (little-endian unsigned 32-bit sub-fingerprints) to a pipe: the decoded
PCM never passes through Python, so memory does not grow with the duration. Only the first
audio stream is read and every tag, cover image and manifest is ignored, so a re-encode or a
copy stripped of its manifest fingerprints as the same sound.
"""

from __future__ import annotations

import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.codec import ffmpeg_executable
from provsdk.errors import CorruptAudioError, InputError

__all__ = ["ALGORITHM", "ITEM_SECONDS", "SAMPLE_RATE", "Fingerprint", "fingerprint_file"]

# Chromaprint's algorithm 1 (CHROMAPRINT_ALGORITHM_TEST2), the one AcoustID and fpcalc use by
# default; named explicitly so a change of ffmpeg's default cannot change every stored print.
ALGORITHM = 1
# Chromaprint resamples to 11025 Hz and advances a 4096-sample frame by a third of its length
# less one sample's rounding: one sub-fingerprint per 1365 samples.
SAMPLE_RATE = 11025
_HOP = 1365
ITEM_SECONDS = _HOP / SAMPLE_RATE
# An hour-long master has ~29,000 sub-fingerprints; this bound only stops a hostile stream.
_MAX_ITEMS = 4 * 3600 * SAMPLE_RATE // _HOP


@dataclass(frozen=True)
class Fingerprint:
    """A Chromaprint fingerprint: 32-bit sub-fingerprints, one per ``ITEM_SECONDS`` of audio."""

    values: tuple[int, ...]

    def to_bytes(self) -> bytes:
        """Little-endian unsigned 32-bit values, as Chromaprint writes them; for storage."""
        return struct.pack(f"<{len(self.values)}I", *self.values)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """The fingerprint :meth:`to_bytes` wrote. Raises ``ValueError`` on a partial value."""
        if len(data) % 4:
            raise ValueError(f"a fingerprint is whole 32-bit values, not {len(data)} bytes")
        return cls(struct.unpack(f"<{len(data) // 4}I", data))

    @property
    def duration(self) -> float:
        """Seconds of audio the sub-fingerprints cover (one hop each)."""
        return len(self.values) * ITEM_SECONDS

    def __len__(self) -> int:
        return len(self.values)


def fingerprint_file(path: str | Path) -> Fingerprint:
    """The fingerprint of the first audio stream of ``path``, metadata ignored.

    Raises :class:`~provsdk.errors.InputError` when the path is not a readable regular file,
    :class:`~provsdk.errors.CorruptAudioError` when ffmpeg cannot decode it or it holds too
    little audio to fingerprint (about three seconds are needed); each in one line.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("not a regular file", path=source)
    command = [
        ffmpeg_executable(),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-i",
        str(source),
        "-map",
        "0:a:0",
        "-map_metadata",
        "-1",
        "-ac",
        "1",
        "-f",
        "chromaprint",
        "-algorithm",
        str(ALGORITHM),
        "-fp_format",
        "raw",
        "-",
    ]
    try:
        run = subprocess.run(command, capture_output=True, check=False, timeout=3600)
    except subprocess.TimeoutExpired as exc:
        raise CorruptAudioError(
            "ffmpeg did not finish decoding within an hour", path=source
        ) from exc
    if run.returncode != 0:
        raise CorruptAudioError(f"cannot decode the audio: {_last_line(run.stderr)}", path=source)
    data = run.stdout
    if len(data) % 4 or len(data) // 4 > _MAX_ITEMS:
        raise CorruptAudioError("ffmpeg wrote an unusable fingerprint", path=source)
    if not data:
        raise CorruptAudioError("too little audio to fingerprint (at least 3 s)", path=source)
    return Fingerprint.from_bytes(data)


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return "ffmpeg gave no reason"
    # ffmpeg ends with the summary ("Error opening input files: ..."); the cause is before it
    # when the last line only says that input failed.
    return lines[-1].strip()[:300]
