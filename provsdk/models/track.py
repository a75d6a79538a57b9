"""A generated, signed and verified track."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.formats import AudioFormat
from provsdk.models.origin import GenerationRecord
from provsdk.models.report import VerificationReport

__all__ = ["Track"]


@dataclass(frozen=True)
class Track:
    path: Path
    format: AudioFormat
    duration: float
    sample_rate: int
    channels: int
    generation: GenerationRecord
    report: VerificationReport

    @property
    def verified(self) -> bool:
        return self.report.passed
