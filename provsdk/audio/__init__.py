"""Audio files: format detection by content, structure checks, and encoding."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.audio.codec import decode, encode, ffmpeg_executable
    from provsdk.audio.containers import AudioInfo, probe
    from provsdk.audio.formats import AudioFormat, detect_format, format_for_name
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "decode": "provsdk.audio.codec",
            "encode": "provsdk.audio.codec",
            "ffmpeg_executable": "provsdk.audio.codec",
            "AudioInfo": "provsdk.audio.containers",
            "probe": "provsdk.audio.containers",
            "AudioFormat": "provsdk.audio.formats",
            "detect_format": "provsdk.audio.formats",
            "format_for_name": "provsdk.audio.formats",
        },
    )

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
