"""CAF and Matroska/WebM audio: containers checked by decoding them whole with ffmpeg.

provsdk parses the containers a manifest is embedded into itself, because the bytes a manifest
excludes from the hash must be found exactly (ADR 2). The formats here keep their manifest in a
sidecar whose hash covers every byte of the file, so nothing has to be located in them: the
check only has to say, in one line, when a file is not usable audio, and read the facts a
report shows. ffmpeg decoding every audio frame, failing at the first error (``-xerror``), with
the demuxer forced to the detected format, is that check. A file must hold exactly one audio
stream and no video: with two, which one is "the track" is a player's choice.
"""

from __future__ import annotations

import re
import subprocess

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat
from provsdk.errors import CorruptAudioError, UnsupportedFormatError

__all__ = ["DECODED", "check_decoded"]

# The ffmpeg demuxer each format is read with (never a probe: the detection decided).
_DEMUXERS = {AudioFormat.CAF: "caf", AudioFormat.WEBM: "matroska", AudioFormat.MKA: "matroska"}
DECODED = frozenset(_DEMUXERS)
# Long enough for hours of audio on a slow machine; a file that takes longer is refused.
_TIMEOUT = 600
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_DECODED = re.compile(r"time=(\d+):(\d\d):(\d\d(?:\.\d+)?)")
# How much shorter than declared the decoded audio may be (codec priming, rounding).
_SHORT = 0.25
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Audio|Video|Subtitle|Data|Attachment): (.*)$")


def check_decoded(buf: Bytes, fmt: AudioFormat) -> AudioInfo:
    """Decode ``buf``'s file, detected as ``fmt``, whole: its facts, or a one-line error
    saying why it is unusable. Its essence is the whole file, which the sidecar's hash covers."""
    from provsdk.audio.codec import ffmpeg_executable

    command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-v", "info", "-xerror"]
    command += ["-f", _DEMUXERS[fmt], "-i", str(buf.path), "-map", "0:a?", "-f", "null", "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise buf.corrupt(f"ffmpeg did not finish decoding it in {_TIMEOUT} s") from None
    log = done.stderr.decode("utf-8", "replace")
    name = fmt.extension.upper()
    if done.returncode != 0:
        last = next((ln.strip() for ln in reversed(log.splitlines()) if ln.strip()), "")
        raise CorruptAudioError(
            f"truncated or corrupt {name}: ffmpeg cannot decode it ({last[:200]})", path=buf.path
        )
    # The input's streams, as ffmpeg lists them before its output's.
    head = log.split("Stream mapping:", 1)[0]
    streams = [m.groups() for m in map(_STREAM.match, head.splitlines()) if m]
    audio = [detail for kind, detail in streams if kind == "Audio"]
    if any(kind == "Video" for kind, _ in streams):
        raise UnsupportedFormatError(f"{name} with a video stream is not audio", path=buf.path)
    if len(audio) != 1:
        raise UnsupportedFormatError(
            f"{name} with {len(audio)} audio streams: players choose which one plays",
            path=buf.path,
            hint="keep one audio stream (ffmpeg -map 0:a:0 -c copy)",
        )
    declared = _duration(head)
    decoded = _decoded_seconds(log)
    # Matroska demuxing stops quietly at a cut; what decoded says the file was cut short.
    if declared is not None and decoded is not None and decoded < declared - _SHORT:
        raise CorruptAudioError(
            f"truncated {name}: {decoded:.2f} s of audio decode, the header declares "
            f"{declared:.2f} s",
            path=buf.path,
        )
    return AudioInfo(fmt, _rate(audio[0]), _channels(audio[0]), declared, essence=((0, buf.size),))


def _rate(detail: str) -> int | None:
    found = re.search(r"(\d+) Hz", detail)
    return int(found.group(1)) if found else None


def _channels(detail: str) -> int | None:
    parts = [p.strip() for p in detail.split(",")]
    for part in parts:
        if part in _CHANNELS:
            return _CHANNELS[part]
        found = re.fullmatch(r"(\d+) channels(?: \(.*\))?", part)
        if found:
            return int(found.group(1))
        if re.fullmatch(r"\d\.\d(?:\(.*\))?", part):
            return _CHANNELS.get(part.split("(")[0])
    return None


def _duration(log: str) -> float | None:
    """What the container declares ("Duration: N/A", a stream that does not say: None)."""
    return _seconds(_DURATION.search(log))


def _decoded_seconds(log: str) -> float | None:
    """How much audio was decoded: ffmpeg's last progress line."""
    return _seconds(next(reversed(list(_DECODED.finditer(log))), None))


def _seconds(found: re.Match[str] | None) -> float | None:
    if found is None:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
