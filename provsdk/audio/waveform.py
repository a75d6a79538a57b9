"""A small picture of a file's sound for reports: peak envelope per time bucket.

It runs for every file of a catalogue run that asks for a report, so it must cost little
beside verifying the file. A 16-bit WAV is read directly, its coded audio (the ``data``
chunk ``probe`` located) block by block; anything else is decoded by the ffmpeg from
imageio-ffmpeg to mono at :data:`DECODE_RATE` Hz (a picture needs no more) and read from its
pipe as it comes. Either way memory stays flat for any duration: the samples are folded into
min/max blocks as they arrive, and when blocks pile up (a duration the headers did not tell)
neighbours merge, so at most :data:`_MAX_BLOCKS` are kept.

ffmpeg is told the demuxer of the format provsdk detected and may open only local files, so
a hostile file cannot make it probe another format or fetch a URL; it is stopped after
:data:`TIME_LIMIT` seconds.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from provsdk.audio.codec import demuxer, ffmpeg_executable
from provsdk.audio.containers import AudioInfo
from provsdk.audio.formats import AudioFormat
from provsdk.errors import CorruptAudioError, InputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["BUCKETS", "DECODE_RATE", "TIME_LIMIT", "waveform_peaks"]

BUCKETS = 200
DECODE_RATE = 8000  # Hz, mono: enough for an envelope 200 buckets wide
TIME_LIMIT = 60.0  # seconds of decoding before ffmpeg is stopped (an hour of MP3 takes ~15)
_MAX_BLOCKS = 16 * BUCKETS
_READ = 1 << 18  # bytes per read, from the file or the pipe
_FULL_SCALE = 32768.0


class _Envelope:
    """Min and max of the mono samples per block of ``hop`` frames, fed in any chunks."""

    def __init__(self, hop: int) -> None:
        import numpy as np

        self.hop = max(1, hop)
        self.mins: list[NDArray[np.float32]] = []
        self.maxs: list[NDArray[np.float32]] = []
        self.blocks = 0
        # The block being filled: its extremes and how many frames it holds (< hop).
        self.low, self.high, self.count = np.inf, -np.inf, 0

    def feed(self, mono: NDArray[Any]) -> None:
        at = 0
        if self.count:
            take = mono[: self.hop - self.count]
            if take.size:
                self.low = min(self.low, float(take.min()))
                self.high = max(self.high, float(take.max()))
                self.count += int(take.size)
            at = int(take.size)
            if self.count < self.hop:
                return
            self._append([self.low], [self.high])
            self.count = 0
        whole = (mono.size - at) // self.hop * self.hop
        if whole:
            blocks = mono[at : at + whole].reshape(-1, self.hop)
            self._append(blocks.min(axis=1), blocks.max(axis=1))
        rest = mono[at + whole :]
        if rest.size:
            self.low, self.high, self.count = float(rest.min()), float(rest.max()), int(rest.size)
        while self.blocks > _MAX_BLOCKS:
            self._merge()

    def _append(self, low: Any, high: Any) -> None:
        import numpy as np

        self.mins.append(np.asarray(low, dtype=np.float32))
        self.maxs.append(np.asarray(high, dtype=np.float32))
        self.blocks += len(self.mins[-1])

    def _merge(self) -> None:
        """Pairs of blocks become one of twice the hop; an odd last one joins the partial."""
        import numpy as np

        low, high = np.concatenate(self.mins), np.concatenate(self.maxs)
        if low.size % 2:
            self.low = min(self.low, float(low[-1]))
            self.high = max(self.high, float(high[-1]))
            self.count += self.hop
            low, high = low[:-1], high[:-1]
        self.mins = [low.reshape(-1, 2).min(axis=1)]
        self.maxs = [high.reshape(-1, 2).max(axis=1)]
        self.blocks = len(self.mins[0])
        self.hop *= 2

    def peaks(self, rate: int, channels: int | None, scale: float) -> dict[str, Any]:
        """The envelope in ``BUCKETS`` buckets, the samples divided by ``scale``."""
        import numpy as np

        frames = self.blocks * self.hop + self.count
        if not frames:
            raise InputError("no audio could be decoded for the waveform")
        if self.count:
            self._append([self.low], [self.high])
        low, high = np.concatenate(self.mins), np.concatenate(self.maxs)
        buckets = min(BUCKETS, low.size)
        # Blocks are equally long (but the last): each bucket takes a run of whole blocks.
        edges = (np.arange(buckets) * low.size) // buckets
        lows = np.minimum.reduceat(low, edges).astype(np.float64) / scale
        highs = np.maximum.reduceat(high, edges).astype(np.float64) / scale
        return {
            "buckets": int(buckets),
            "min": np.clip(np.round(lows, 3), -1.0, 1.0).tolist(),
            "max": np.clip(np.round(highs, 3), -1.0, 1.0).tolist(),
            "duration": round(frames / rate, 3),
            "sample_rate": rate,
            "channels": channels,
        }


def _hop(audio: AudioInfo, rate: int) -> int:
    """Frames per block: four blocks per bucket for the duration the headers give."""
    if audio.duration:
        return int(audio.duration * rate) // (4 * BUCKETS)
    return rate // 100


def _wav_blocks(path: Path, audio: AudioInfo) -> Iterator[NDArray[np.int32]]:
    """The sum of the channels of a 16-bit PCM WAV's ``data`` chunk, block by block."""
    import numpy as np

    assert audio.essence is not None and audio.channels
    channels = audio.channels
    align = 2 * channels
    (offset, length), *_ = audio.essence
    length -= length % align
    step = _READ // align * align
    with path.open("rb") as fh:
        fh.seek(offset)
        while length:
            data = fh.read(min(step, length))
            usable = len(data) - len(data) % align
            if not usable:
                return  # the file shrank while it was read: what was read is the picture
            length -= usable
            frames = np.frombuffer(data, dtype="<i2", count=usable // 2).reshape(-1, channels)
            # The sum of the channels, not their mean: adding columns is ten times faster,
            # and the envelope divides by the channel count once, at the end.
            mono = frames[:, 0].astype(np.int32)
            for channel in range(1, channels):
                mono += frames[:, channel]
            yield mono


def _ffmpeg_blocks(path: Path, audio: AudioInfo, log: IO[bytes]) -> Iterator[NDArray[np.int16]]:
    """The mono mix at DECODE_RATE, as ffmpeg writes it to its pipe; raises when it fails."""
    import numpy as np

    forced = demuxer(audio.format)
    command = [
        ffmpeg_executable(),
        *("-nostdin", "-hide_banner", "-nostats", "-v", "error"),
        *("-protocol_whitelist", "file", "-f", forced, "-i", f"file:{path}"),
        *("-map", "0:a:0", "-vn", "-sn", "-dn"),
        *("-ac", "1", "-ar", str(DECODE_RATE), "-f", "s16le", "pipe:1"),
    ]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    except OSError as exc:
        raise InputError(f"cannot run ffmpeg: {exc.strerror or exc}", path=path) from exc
    late = threading.Event()

    def stop() -> None:
        late.set()
        process.kill()

    timer = threading.Timer(TIME_LIMIT, stop)
    timer.start()
    try:
        assert process.stdout is not None
        odd = b""
        while chunk := process.stdout.read(_READ):
            data = odd + chunk
            usable = len(data) - len(data) % 2
            odd = data[usable:]
            yield np.frombuffer(data, dtype="<i2", count=usable // 2)
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # the consumer stopped early
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    if late.is_set() and code != 0:  # a finished ffmpeg was not cut short by a late timer
        raise InputError(f"decoding the waveform stopped after {TIME_LIMIT:g} s", path=path)
    if code != 0:
        raise CorruptAudioError(
            f"ffmpeg could not decode {audio.format}: {_why(log, code)}", path=path
        )


def _why(log: IO[bytes], code: int) -> str:
    if code < 0:
        return f"stopped by signal {-code}"
    log.seek(0)
    lines = log.read(1 << 16).decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip() if lines else f"exit status {code}"


def _direct(audio: AudioInfo) -> bool:
    """Whether the samples can be read from the file as they are: 16-bit PCM WAV."""
    if audio.format is not AudioFormat.WAV or not audio.essence or not audio.channels:
        return False
    (_, length), *_ = audio.essence
    block = length / max(1, round((audio.duration or 0) * (audio.sample_rate or 0)))
    return round(block) == 2 * audio.channels


def waveform_peaks(path: Path, audio: AudioInfo) -> dict[str, Any]:
    """JSON-able peaks of the decoded audio; raises InputError when it cannot be decoded.

    ``{"buckets": n, "min": [...], "max": [...], "duration": s, "sample_rate": hz,
    "channels": c}``: per time bucket the lowest and highest sample of the mono mix, in full
    scale (-1..1, so a quiet file looks quiet); ``n`` is :data:`BUCKETS` but for a file
    shorter than that many blocks.
    """
    p = Path(path)
    try:
        if _direct(audio):
            rate = int(audio.sample_rate or 1)
            envelope = _Envelope(_hop(audio, rate))
            for summed in _wav_blocks(p, audio):
                envelope.feed(summed)
            channels = audio.channels or 1
            return envelope.peaks(rate, channels, _FULL_SCALE * channels)
        envelope = _Envelope(_hop(audio, DECODE_RATE))
        with tempfile.TemporaryFile() as log:
            for mono in _ffmpeg_blocks(p, audio, log):
                envelope.feed(mono)
        return envelope.peaks(DECODE_RATE, audio.channels, _FULL_SCALE)
    except OSError as exc:
        raise InputError(f"cannot read the audio: {exc.strerror or exc}", path=p) from exc
