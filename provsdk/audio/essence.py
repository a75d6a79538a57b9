"""The digest of the coded audio a decoder plays, excluding every byte a manifest may change.

Embedding or re-signing a C2PA manifest rewrites headers, ID3 tags and boxes but never the
coded audio; this digest therefore names one recording across its signing history, which is
what a rights grant bound to "this asset" needs. Any re-encode changes it, as it should.

It is only a name for the recording if every player plays those bytes and no others. A file
where decoders and provsdk could take different bytes for the audio (see docs/adr/0013) has
no digest: :func:`essence_digest` raises :class:`~provsdk.errors.AmbiguousAudioError`, and
:func:`refuse_ambiguous` lets signing refuse such a file before anything is written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from provsdk.audio.containers import AudioInfo, probe
from provsdk.errors import AmbiguousAudioError, CorruptAudioError

__all__ = ["ESSENCE_PREFIX", "essence_digest", "refuse_ambiguous"]

ESSENCE_PREFIX = "urn:provsdk:audio-sha256:"
_CHUNK = 1 << 20


def refuse_ambiguous(info: AudioInfo, path: str | Path) -> None:
    """Raise :class:`AmbiguousAudioError` when ``info`` names no single coded audio."""
    if info.essence is None:
        reason = info.essence_problem or "the coded audio cannot be located"
        raise AmbiguousAudioError(
            reason,
            path=path,
            hint="re-encode or remux the audio into an ordinary file, then sign that",
        )


def essence_digest(path: str | Path, info: AudioInfo | None = None) -> str:
    """``urn:provsdk:audio-sha256:<hex>`` of the coded audio of ``path``: the SHA-256 of the
    bytes a decoder plays, in the order it plays them.

    ``info`` is what :func:`~provsdk.audio.containers.probe` already found for this file, so
    a caller that probed it (verify, attach) does not walk its structure a second time.
    """
    p = Path(path)
    info = info or probe(p)
    refuse_ambiguous(info, p)
    assert info.essence is not None
    digest = hashlib.sha256()
    # Read into one buffer, not through an mmap: every page of a mapping that is touched counts
    # in the process's resident memory, which for an hour-long WAV is a gigabyte.
    block = memoryview(bytearray(_CHUNK))
    with p.open("rb") as fh:
        for offset, length in info.essence:
            fh.seek(offset)
            while length:
                got = fh.readinto(block[: min(length, _CHUNK)])
                if not got:
                    raise CorruptAudioError("the file shrank while it was read", path=p)
                digest.update(block[:got])
                length -= got
    return ESSENCE_PREFIX + digest.hexdigest()
