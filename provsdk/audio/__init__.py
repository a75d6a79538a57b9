"""Audio files: format detection by content, structure checks, and encoding."""

from provsdk.audio.codec import decode, encode, ffmpeg_executable
from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.formats import AudioFormat, detect_format, format_for_name

__all__ = [
    "AudioFormat",
    "AudioInfo",
    "decode",
    "detect_format",
    "encode",
    "ffmpeg_executable",
    "format_for_name",
    "probe",
]
