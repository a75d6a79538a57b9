"""Structural checks of every container provsdk handles, run before any file is signed or
verified: WAV, MP3, FLAC and MP4, which embed their manifest, and Ogg (Vorbis, Opus) and AIFF,
which keep it in a sidecar.

Each parser walks only the structure that carries audio and metadata, with every size field
bounded by the file and every loop by a count, so a truncated, corrupt or hostile file ends in a
one-line :class:`~provsdk.errors.CorruptAudioError` instead of reaching c2pa or a decoder.
A readable file where decoders could play other bytes than the ones provsdk hashes is not
an error here: its ``AudioInfo`` has no ``essence`` and says why in ``essence_problem``
(docs/adr/0013), so that verification can still read it and signing can refuse it.
"""

from __future__ import annotations

import dataclasses
import functools
import mmap
from collections.abc import Callable
from pathlib import Path

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.aiff import check_aiff
from provsdk.audio.containers.decoded import DECODED, check_decoded
from provsdk.audio.containers.flac import check_flac
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.containers.jumbf import manifest_store_problem
from provsdk.audio.containers.mp3 import check_mp3
from provsdk.audio.containers.mp4 import check_mp4
from provsdk.audio.containers.ogg import check_ogg
from provsdk.audio.containers.wav import check_wav
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import InputError

__all__ = ["AudioInfo", "probe"]

_CHECKS: dict[AudioFormat, Callable[[Bytes], AudioInfo]] = {
    AudioFormat.WAV: check_wav,
    AudioFormat.MP3: check_mp3,
    AudioFormat.FLAC: check_flac,
    AudioFormat.M4A: check_mp4,
    AudioFormat.OGG: check_ogg,
    AudioFormat.OPUS: check_ogg,
    AudioFormat.AIFF: check_aiff,
    **{f: functools.partial(check_decoded, fmt=f) for f in DECODED},
}


def probe(path: str | Path) -> AudioInfo:
    """Detect the format of ``path`` by content and check its structure.

    Returns what the headers say (sample rate, channels, duration). Raises
    :class:`~provsdk.errors.InputError` or one of its subclasses when the file cannot be used.
    """
    p = Path(path)
    fmt = detect_format(p)
    try:
        with p.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            info = _CHECKS[fmt](Bytes(view, p))
            if info.manifest is None:
                return info
            start, length = info.manifest
            # A view, not a copy: a hostile carrier can be as large as the file. Released
            # before the mmap closes, which refuses to close while a view is alive.
            with memoryview(view) as whole, whole[start : start + length] as carrier:
                problem = info.manifest_problem or manifest_store_problem(carrier)
            return dataclasses.replace(info, manifest_problem=problem)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=p) from None
