"""Which audio format a file is, decided by its bytes, never by its name."""

from __future__ import annotations

import enum
import os
from pathlib import Path

from provsdk.errors import InputError, UnsupportedFormatError
from provsdk.small_files import open_regular

__all__ = ["AUDIO_SUFFIXES", "FILE_SUFFIXES", "AudioFormat", "detect_format", "format_for_name"]

# Enough to see past one ID3v2 header and reach the magic of what follows it, and to read
# the first packet of an Ogg stream, which names its codec.
_HEAD = 64


class AudioFormat(enum.Enum):
    """The audio formats provsdk signs and verifies, with their MIME types.

    c2pa-python 0.38.1 embeds a manifest into the first four. The others keep theirs in a
    sidecar, a ``.c2pa`` manifest store beside the file whose data hash covers every byte of
    it (:mod:`provsdk.sidecar`); their :attr:`embeds` is False.
    """

    WAV = ("wav", "audio/wav", True)
    MP3 = ("mp3", "audio/mpeg", True)
    FLAC = ("flac", "audio/flac", True)
    # c2pa wants audio/mp4; audio/x-m4a is not recognised for embedding.
    M4A = ("m4a", "audio/mp4", True)
    # Ogg Vorbis (and any other codec in an Ogg stream but Opus).
    OGG = ("ogg", "audio/ogg", False)
    # RFC 7845: an Ogg Opus file is audio/ogg; the codecs parameter tells it from Vorbis.
    OPUS = ("opus", "audio/ogg; codecs=opus", False)
    AIFF = ("aiff", "audio/aiff", False)
    # Containers provsdk has no parser of its own for: ffmpeg decoding the whole file is their
    # structure check (provsdk.audio.containers.decoded).
    CAF = ("caf", "audio/x-caf", False)  # Apple's Core Audio Format
    WEBM = ("webm", "audio/webm", False)  # Matroska with the WebM doctype
    MKA = ("mka", "audio/x-matroska", False)

    def __init__(self, extension: str, mime_type: str, embeds: bool) -> None:
        self.extension = extension
        self.mime_type = mime_type
        self.embeds = embeds

    def __str__(self) -> str:
        return self.extension


def format_for_name(name: str) -> AudioFormat:
    """The format a user named (``wav``, ``.mp3``, ``audio/flac``...), for choosing an output."""
    key = name.lower().lstrip(".")
    for fmt in AudioFormat:
        if key in (fmt.extension, fmt.mime_type) or key in _ALIASES.get(fmt, ()):
            return fmt
    supported = ", ".join(f.extension for f in AudioFormat)
    raise UnsupportedFormatError(f"unsupported audio format {name!r}; supported: {supported}")


# The file names each format is written under. Signing never converts, so an output named for
# another format is refused; a folder run verifies every file named for one of them.
FILE_SUFFIXES: dict[AudioFormat, frozenset[str]] = {
    AudioFormat.WAV: frozenset({".wav", ".wave"}),
    AudioFormat.MP3: frozenset({".mp3"}),
    AudioFormat.FLAC: frozenset({".flac"}),
    AudioFormat.M4A: frozenset({".m4a", ".mp4", ".aac"}),
    AudioFormat.OGG: frozenset({".ogg", ".oga"}),
    AudioFormat.OPUS: frozenset({".opus"}),
    AudioFormat.AIFF: frozenset({".aif", ".aiff", ".aifc"}),
    AudioFormat.CAF: frozenset({".caf"}),
    AudioFormat.WEBM: frozenset({".webm"}),
    AudioFormat.MKA: frozenset({".mka"}),
}
# In a folder, these are the files verified; a file named on the command line is checked
# whatever its name.
AUDIO_SUFFIXES = frozenset().union(*FILE_SUFFIXES.values())

# Other names a user may give a format by.
_ALIASES: dict[AudioFormat, tuple[str, ...]] = {
    AudioFormat.M4A: ("mp4",),
    AudioFormat.OGG: ("oga",),
    AudioFormat.AIFF: ("aif", "aifc", "audio/x-aiff"),
}


def _id3v2_end(head: bytes) -> int | None:
    """Offset just past a leading ID3v2 tag, or None when there is none."""
    if len(head) < 10 or head[:3] != b"ID3":
        return None
    size_bytes = head[6:10]
    if any(b & 0x80 for b in size_bytes):
        return None
    size = 0
    for b in size_bytes:
        size = (size << 7) | b
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _is_mpeg_frame_header(b: bytes) -> bool:
    return len(b) >= 2 and b[0] == 0xFF and (b[1] & 0xE0) == 0xE0 and (b[1] & 0x06) != 0


def _classify(head: bytes) -> AudioFormat | str:
    """An AudioFormat, or the name of a recognised format we cannot embed into, or ''."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return AudioFormat.WAV
    if head[:4] == b"fLaC":
        return AudioFormat.FLAC
    if head[4:8] == b"ftyp":
        return AudioFormat.M4A
    if _is_mpeg_frame_header(head[:2]):
        return AudioFormat.MP3
    if head[:4] == b"OggS":
        return _ogg_codec(head)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AudioFormat.AIFF
    if head[:4] == b"RIFF":
        return "RIFF (not WAVE)"
    if head[:4] == b"caff":
        return AudioFormat.CAF
    if head[:4] == b"\x1aE\xdf\xa3":
        return _matroska_doctype(head)
    return ""


def _matroska_doctype(head: bytes) -> AudioFormat:
    """WebM or other Matroska, by the EBML header's DocType (element 0x4282); the decoder
    checks the rest."""
    at = head.find(b"\x42\x82")
    size = head[at + 2] & 0x7F if 0 <= at < len(head) - 2 else 0
    doctype = head[at + 3 : at + 3 + size] if at >= 0 else b""
    return AudioFormat.WEBM if doctype == b"webm" else AudioFormat.MKA


def _ogg_codec(head: bytes) -> AudioFormat:
    """Opus or the other Ogg: the first page's first packet starts with the codec's magic.
    What else the stream holds is the Ogg parser's to check."""
    segments = head[26] if len(head) > 26 else 0
    packet = head[27 + segments : 27 + segments + 8]
    return AudioFormat.OPUS if packet == b"OpusHead" else AudioFormat.OGG


def detect_format(path: str | Path) -> AudioFormat:
    """The format of the file at ``path``, from its content.

    Raises :class:`InputError` for a missing, unreadable or empty file and
    :class:`UnsupportedFormatError` for anything that is not one of :class:`AudioFormat`.
    """
    p = Path(path)
    # Audio is read only from regular files: a FIFO would block, a device never end.
    fd = open_regular(p, "audio file")
    try:
        with os.fdopen(fd, "rb") as fh:
            head = fh.read(_HEAD)
            # A file may open with an ID3v2 tag: MP3 always may, and c2pa puts one before
            # 'fLaC' in the FLAC files it signs. Look at what the tag is in front of.
            tag_end = _id3v2_end(head)
            kind: AudioFormat | str
            if tag_end is not None:
                fh.seek(tag_end)
                kind = AudioFormat.FLAC if fh.read(4) == b"fLaC" else AudioFormat.MP3
            else:
                kind = _classify(head)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=p) from None
    if not head:
        raise InputError("file is empty", path=p)
    if isinstance(kind, AudioFormat):
        return kind
    supported = ", ".join(f.extension.upper() for f in AudioFormat)
    if kind:
        raise UnsupportedFormatError(
            f"{kind} audio is not a format provsdk signs; supported: {supported}",
            path=p,
            hint="convert the file to one of the supported formats first",
        )
    raise UnsupportedFormatError(
        f"not a recognised audio file (content matches none of {supported})", path=p
    )
