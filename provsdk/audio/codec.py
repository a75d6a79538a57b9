"""Encoding PCM samples into the four formats, through pydub, with ffmpeg from imageio-ffmpeg.

No system package is needed: the ffmpeg binary ships inside the ``imageio-ffmpeg`` wheel, and we
point pydub at it before first use. Encoding happens *before* signing, always: any re-encode
after signing would strip the manifest.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from provsdk.audio.formats import AudioFormat
from provsdk.errors import CorruptAudioError, OutputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["decode", "encode", "ffmpeg_executable"]

# ffmpeg muxer and codec per format; bitexact flags keep the output free of encoder version
# strings and timestamps, so the same samples give the same bytes.
_FFMPEG: dict[AudioFormat, tuple[str, str | None, str | None]] = {
    AudioFormat.MP3: ("mp3", "libmp3lame", "192k"),
    AudioFormat.FLAC: ("flac", "flac", None),
    AudioFormat.M4A: ("ipod", "aac", "192k"),
}
# ffmpeg demuxer and decoder per format: naming the decoder keeps pydub from calling ffprobe,
# which the imageio-ffmpeg wheel does not ship.
_DECODERS: dict[AudioFormat, tuple[str, str]] = {
    AudioFormat.WAV: ("wav", "pcm_s16le"),
    AudioFormat.MP3: ("mp3", "mp3"),
    AudioFormat.FLAC: ("flac", "flac"),
    AudioFormat.M4A: ("mp4", "aac"),
}
_BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]


@functools.cache
def ffmpeg_executable() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def _audio_segment() -> Any:
    # pydub warns at import when no ffmpeg is on PATH (we are about to give it one) and, on
    # 3.12, that audioop is deprecated (audioop-lts replaces it on 3.13).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_executable()
    return AudioSegment


def encode(samples: NDArray[np.int16], sample_rate: int, fmt: AudioFormat, dest: Path) -> None:
    """Write int16 ``samples`` shaped (frames, channels) to ``dest`` as ``fmt``.

    ``dest`` is expected to be a temporary path owned by the caller; on failure it may hold a
    partial file, which the caller removes.
    """
    if samples.dtype != np.int16 or samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError("samples must be a non-empty int16 array shaped (frames, channels)")
    segment = _audio_segment()(
        data=np.ascontiguousarray(samples).tobytes(),
        sample_width=2,
        frame_rate=sample_rate,
        channels=int(samples.shape[1]),
    )
    try:
        if fmt is AudioFormat.WAV:
            segment.export(str(dest), format="wav")
            return
        muxer, codec, bitrate = _FFMPEG[fmt]
        segment.export(
            str(dest), format=muxer, codec=codec, bitrate=bitrate, parameters=list(_BITEXACT)
        )
    except OSError as exc:
        raise OutputError(f"cannot write encoded audio: {exc.strerror or exc}", path=dest) from exc
    except Exception as exc:  # pydub raises CouldntEncodeError with ffmpeg's whole log
        last = str(exc).strip().splitlines()[-1:] or ["unknown error"]
        raise OutputError(f"ffmpeg could not encode {fmt}: {last[0]}", path=dest) from exc


def decode(path: Path, fmt: AudioFormat) -> tuple[NDArray[np.int16], int]:
    """The int16 samples, shaped (frames, channels), and the sample rate of ``path``."""
    demuxer, decoder = _DECODERS[fmt]
    try:
        segment = _audio_segment().from_file(str(path), format=demuxer, codec=decoder)
    except Exception as exc:  # pydub raises CouldntDecodeError with ffmpeg's whole log
        last = str(exc).strip().splitlines()[-1:] or ["unknown error"]
        raise CorruptAudioError(f"ffmpeg could not decode {fmt}: {last[0]}", path=path) from exc
    segment = segment.set_sample_width(2)
    samples = np.frombuffer(segment.raw_data, dtype=np.int16).reshape(-1, segment.channels)
    return samples, int(segment.frame_rate)
