"""Encoding PCM samples into every :class:`AudioFormat`, with ffmpeg from imageio-ffmpeg;
decoding through pydub.

No system package is needed: the ffmpeg binary ships inside the ``imageio-ffmpeg`` wheel.
Encoding reads the samples block by block, so memory does not grow with the duration: WAV is
written here (a RIFF header, then the blocks), the other formats by an ffmpeg reading raw
PCM from a pipe. Encoding happens *before* signing, always: any re-encode after signing would
strip the manifest. numpy is imported only when samples are handled, so importing this
module (and everything that imports it) does not load it.
"""

from __future__ import annotations

import functools
import struct
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from provsdk.audio.formats import AudioFormat
from provsdk.errors import CorruptAudioError, OutputError
from provsdk.progress import RENDER, Progress

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["decode", "demuxer", "encode", "encode_stream", "ffmpeg_executable"]

# ffmpeg muxer and encoder options per format; with _BITEXACT they keep the output free of
# encoder version strings and timestamps, so the same samples give the same bytes.
_FFMPEG: dict[AudioFormat, tuple[str, tuple[str, ...]]] = {
    AudioFormat.MP3: ("mp3", ("-acodec", "libmp3lame", "-b:a", "192k")),
    AudioFormat.FLAC: ("flac", ("-acodec", "flac")),
    AudioFormat.M4A: ("ipod", ("-acodec", "aac", "-b:a", "192k")),
    # Quality 5 is about 160 kbit/s, near the MP3 and AAC rates. The Ogg muxer draws a random
    # stream serial number unless +bitexact is set, when it numbers the stream from
    # serial_offset: that is what makes two encodings of the same samples identical.
    AudioFormat.OGG: ("ogg", ("-acodec", "libvorbis", "-q:a", "5", "-serial_offset", "0")),
    # Opus codes at 48 kHz whatever the source (RFC 7845 players decode at 48 kHz): resample
    # here, so the rate never depends on which rate ffmpeg would negotiate with libopus.
    AudioFormat.OPUS: (
        "opus",
        ("-acodec", "libopus", "-b:a", "128k", "-ar", "48000", "-serial_offset", "0"),
    ),
    AudioFormat.AIFF: ("aiff", ("-acodec", "pcm_s16be")),
    # Apple Lossless in CAF; Opus in WebM (48 kHz, as in Ogg); FLAC in Matroska. +bitexact
    # zeroes Matroska's random segment UID.
    AudioFormat.CAF: ("caf", ("-acodec", "alac")),
    AudioFormat.WEBM: ("webm", ("-acodec", "libopus", "-b:a", "128k", "-ar", "48000")),
    AudioFormat.MKA: ("matroska", ("-acodec", "flac")),
}
# ffmpeg demuxer and decoder per format: naming the decoder keeps pydub from calling ffprobe,
# which the imageio-ffmpeg wheel does not ship.
_DECODERS: dict[AudioFormat, tuple[str, str]] = {
    AudioFormat.WAV: ("wav", "pcm_s16le"),
    AudioFormat.MP3: ("mp3", "mp3"),
    AudioFormat.FLAC: ("flac", "flac"),
    AudioFormat.M4A: ("mp4", "aac"),
    # ffmpeg has one Ogg demuxer, whatever the codec inside.
    AudioFormat.OGG: ("ogg", "vorbis"),
    AudioFormat.OPUS: ("ogg", "opus"),
    AudioFormat.AIFF: ("aiff", "pcm_s16be"),
    # The codecs provsdk writes into these containers (a file from elsewhere may hold another).
    AudioFormat.CAF: ("caf", "alac"),
    AudioFormat.WEBM: ("matroska", "opus"),
    AudioFormat.MKA: ("matroska", "flac"),
}


def demuxer(fmt: AudioFormat) -> str:
    """The ffmpeg demuxer that reads ``fmt``: forcing it keeps ffmpeg from probing a file
    into another format than the one we checked."""
    return _DECODERS[fmt][0]


_BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
# Frames per block when whole arrays are encoded: progress is reported this often, and no
# copy of the whole array is made on the way to ffmpeg.
_SLICE = 1 << 17
# The RIFF size fields are 32 bits: the data may not exceed this with the 36 header bytes.
_WAV_MAX_DATA = 0xFFFFFFFF - 36


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


def encode(
    samples: NDArray[np.int16],
    sample_rate: int,
    fmt: AudioFormat,
    dest: Path,
    *,
    progress: Progress | None = None,
) -> None:
    """Write int16 ``samples`` shaped (frames, channels) to ``dest`` as ``fmt``.

    The same as :func:`encode_stream` over slices of the array.
    """
    import numpy as np

    if samples.dtype != np.int16 or samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError("samples must be a non-empty int16 array shaped (frames, channels)")
    frames = int(samples.shape[0])
    encode_stream(
        (samples[at : at + _SLICE] for at in range(0, frames, _SLICE)),
        sample_rate,
        fmt,
        dest,
        channels=int(samples.shape[1]),
        frames=frames,
        progress=progress,
    )


def encode_stream(
    blocks: Iterable[NDArray[np.int16]],
    sample_rate: int,
    fmt: AudioFormat,
    dest: Path,
    *,
    channels: int,
    frames: int,
    progress: Progress | None = None,
) -> None:
    """Write int16 ``blocks``, each shaped (n, channels), to ``dest`` as ``fmt``, in one pass.

    ``frames`` is the total the blocks add up to (the WAV header is written first); blocks
    of another shape or another total raise ``ValueError``. ``progress`` hears (RENDER,
    frames written, ``frames``) after each block. ``dest`` is expected to be a temporary path
    owned by the caller; on failure it may hold a partial file, which the caller removes.
    """
    if channels < 1 or frames < 1 or sample_rate < 1:
        raise ValueError("samples must be a non-empty int16 array shaped (frames, channels)")
    data = _checked(blocks, channels, frames, progress)
    if fmt is AudioFormat.WAV:
        _write_wav(data, sample_rate, channels, frames, dest)
    else:
        _pipe_to_ffmpeg(data, sample_rate, channels, fmt, dest)


def _checked(
    blocks: Iterable[NDArray[np.int16]], channels: int, frames: int, progress: Progress | None
) -> Iterator[memoryview]:
    """Each block as little-endian bytes, once its shape is checked; then the total."""
    import numpy as np

    done = 0
    for block in blocks:
        if block.dtype != np.int16 or block.ndim != 2 or block.shape[1] != channels:
            raise ValueError(f"each block must be an int16 array shaped (n, {channels})")
        done += int(block.shape[0])
        if done > frames:
            raise ValueError(f"the blocks hold more than the {frames} frames announced")
        yield np.ascontiguousarray(block, dtype="<i2").data.cast("B")
        if progress is not None:
            progress(RENDER, done, frames)
    if done != frames:
        raise ValueError(f"the blocks hold {done} frames, not the {frames} announced")


def _write_wav(
    data: Iterator[memoryview], sample_rate: int, channels: int, frames: int, dest: Path
) -> None:
    # The canonical 44-byte PCM header, field for field what Python's wave module (and so
    # pydub) writes.
    size = frames * channels * 2
    if size > _WAV_MAX_DATA:
        raise OutputError("too long for a WAV file (its sizes are 32-bit)", path=dest)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + size,
        b"WAVE",
        b"fmt ",
        16,
        1,  # WAVE_FORMAT_PCM
        channels,
        sample_rate,
        sample_rate * channels * 2,
        channels * 2,
        16,
        b"data",
        size,
    )
    try:
        with dest.open("wb") as out:
            out.write(header)
            for chunk in data:
                out.write(chunk)
    except OSError as exc:
        raise OutputError(f"cannot write encoded audio: {exc.strerror or exc}", path=dest) from exc


def _pipe_to_ffmpeg(
    data: Iterator[memoryview], sample_rate: int, channels: int, fmt: AudioFormat, dest: Path
) -> None:
    muxer, options = _FFMPEG[fmt]
    command = [
        ffmpeg_executable(),
        "-y",
        "-nostdin",
        "-hide_banner",
        "-nostats",
        *("-f", "s16le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"),
        *options,
        *_BITEXACT,
        # file: so that a name with a colon is never taken for another ffmpeg protocol.
        *("-f", muxer, f"file:{dest}"),
    ]
    # ffmpeg's log goes to a file, not a pipe: nobody has to drain it while we write.
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
            )
        except OSError as exc:
            raise OutputError(f"cannot run ffmpeg: {exc.strerror or exc}", path=dest) from exc
        try:
            stopped_reading = _feed(process.stdin, data)
            code = process.wait()
        finally:
            if process.poll() is None:  # we are leaving early: a block or a callback raised
                process.kill()
                process.wait()
        if code != 0 or stopped_reading:
            raise OutputError(f"ffmpeg could not encode {fmt}: {_why(log, code)}", path=dest)


def _feed(pipe: IO[bytes] | None, data: Iterator[memoryview]) -> bool:
    """Write ``data`` into ``pipe`` and close it; True if the reader went away first."""
    assert pipe is not None  # Popen was asked for a stdin pipe
    try:
        with pipe:
            for chunk in data:
                pipe.write(chunk)
    except BrokenPipeError:
        return True  # ffmpeg died or gave up: its exit status and log say why
    return False


def _why(log: IO[bytes], code: int) -> str:
    if code < 0:  # killed: its last log line is about something else
        return f"ffmpeg was stopped by signal {-code}"
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip() if lines else "unknown error"


def decode(path: Path, fmt: AudioFormat) -> tuple[NDArray[np.int16], int]:
    """The int16 samples, shaped (frames, channels), and the sample rate of ``path``."""
    import numpy as np

    demuxer, decoder = _DECODERS[fmt]
    try:
        segment = _audio_segment().from_file(str(path), format=demuxer, codec=decoder)
    except Exception as exc:  # pydub raises CouldntDecodeError with ffmpeg's whole log
        last = str(exc).strip().splitlines()[-1:] or ["unknown error"]
        raise CorruptAudioError(f"ffmpeg could not decode {fmt}: {last[0]}", path=path) from exc
    segment = segment.set_sample_width(2)
    samples = np.frombuffer(segment.raw_data, dtype=np.int16).reshape(-1, segment.channels)
    return samples, int(segment.frame_rate)
