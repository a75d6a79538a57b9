"""The digest of a file's coded audio, excluding every container byte a manifest may change.

Embedding or re-signing a C2PA manifest rewrites headers, ID3 tags and boxes but never the
coded audio; this digest therefore names one recording across its signing history, which is
what a rights grant bound to "this asset" needs. Any re-encode changes it, as it should.
"""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path

from provsdk.audio.containers import probe
from provsdk.errors import InputError

__all__ = ["ESSENCE_PREFIX", "essence_digest"]

ESSENCE_PREFIX = "urn:provsdk:audio-sha256:"
_CHUNK = 1 << 20


def essence_digest(path: str | Path) -> str:
    """``urn:provsdk:audio-sha256:<hex>`` of the coded audio of ``path``."""
    p = Path(path)
    info = probe(p)
    if info.essence is None:
        raise InputError("the coded audio is not in one contiguous range; cannot bind it", path=p)
    offset, length = info.essence
    digest = hashlib.sha256()
    with p.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        for start in range(offset, offset + length, _CHUNK):
            digest.update(view[start : min(start + _CHUNK, offset + length)])
    return ESSENCE_PREFIX + digest.hexdigest()
