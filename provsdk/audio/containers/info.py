"""What the container headers say about the audio, without decoding it."""

from __future__ import annotations

from dataclasses import dataclass

from provsdk.audio.formats import AudioFormat

__all__ = ["AudioInfo"]


@dataclass(frozen=True)
class AudioInfo:
    """Facts read from a file's headers. ``None`` where the container does not say."""

    format: AudioFormat
    sample_rate: int | None
    channels: int | None
    duration: float | None  # seconds
    # Where the coded audio itself lies, as (offset, length): the bytes a C2PA manifest never
    # touches when it is embedded, so their digest names the recording across re-signing.
    essence: tuple[int, int] | None = None
    # Where an embedded C2PA manifest store is carried (a RIFF chunk, an ID3 GEOB frame, an MP4
    # 'uuid' box), as (offset, length), and what is structurally wrong with it, if anything.
    manifest: tuple[int, int] | None = None
    manifest_problem: str | None = None
