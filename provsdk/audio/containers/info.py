"""What the container headers say about the audio, without decoding it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from provsdk.audio.formats import AudioFormat

__all__ = ["AudioInfo", "Ranges"]

# Byte ranges of a file as (offset, length), in the order a decoder reads them.
Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class AudioInfo:
    """Facts read from a file's headers. ``None`` where the container does not say."""

    format: AudioFormat
    sample_rate: int | None
    channels: int | None
    duration: float | None  # seconds
    # The coded audio a decoder plays, as (offset, length) ranges in decode order: bytes a C2PA
    # manifest never touches when it is embedded, so their digest names the recording across
    # re-signing. One range for every ordinary file; several only for MP4 chunks with gaps.
    essence: Ranges | None = None
    # Where an embedded C2PA manifest store is carried (a RIFF chunk, an ID3 GEOB frame, an MP4
    # 'uuid' box), as (offset, length), and what is structurally wrong with it, if anything.
    manifest: tuple[int, int] | None = None
    manifest_problem: str | None = None
    # Why there is no ``essence`` although the file is readable: a layout where decoders and
    # provsdk could take different bytes for the audio, in one sentence.
    essence_problem: str | None = None

    def ambiguous(self, problem: str) -> AudioInfo:
        """This info without an essence, because of ``problem``."""
        return dataclasses.replace(self, essence=None, essence_problem=problem)
