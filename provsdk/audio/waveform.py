"""A small picture of a file's sound for reports: peak envelope per time bucket.

(Contract; implementation pending.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provsdk.audio.containers import AudioInfo

__all__ = ["waveform_peaks"]


def waveform_peaks(path: Path, audio: AudioInfo) -> dict[str, Any]:
    """JSON-able peaks of the decoded audio; raises InputError when it cannot be decoded."""
    raise NotImplementedError
