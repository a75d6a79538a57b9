"""Sidecar manifests: the store of a file c2pa cannot embed into, kept beside it.

OGG, Opus, AIFF, CAF and Matroska/WebM carry no C2PA manifest inside them
(``AudioFormat.embeds`` is False).
Their manifest store is written to a ``.c2pa`` file next to the audio, named as the C2PA
specification and c2patool name it: the audio's name with its suffix replaced, so
``track.ogg`` is described by ``track.c2pa``. The store's ``c2pa.hash.data`` assertion covers
every byte of the audio file with no exclusion, so any change to the audio, and any change to
the store, fails validation; a missing sidecar is a file without a manifest.

This module only says where a sidecar is and reads one, bounded and from a regular file; the
signing and the reading with c2pa happen in :mod:`provsdk.sign.sidecar` and
:mod:`provsdk.c2pa_access`.
"""

from __future__ import annotations

from pathlib import Path

from provsdk.errors import InputError
from provsdk.small_files import SIDECAR_CAP, read_capped

__all__ = ["SIDECAR_SUFFIX", "read_sidecar", "sidecar_for"]

SIDECAR_SUFFIX = ".c2pa"


def sidecar_for(path: str | Path) -> Path:
    """Where the sidecar of the audio file ``path`` is: ``track.ogg`` -> ``track.c2pa``."""
    p = Path(path)
    return p.with_name(p.stem + SIDECAR_SUFFIX)  # without a suffix, the stem is the name


def read_sidecar(path: Path, *, named: bool = False) -> bytes | None:
    """The bytes of the manifest store at ``path``; None when there is no file there.

    ``named`` says the user named the sidecar (``--manifest``): then a missing file is an
    error, not a file without a manifest. A store over ``SIDECAR_CAP``, or a folder, FIFO or
    device in its place, is an :class:`~provsdk.errors.InputError` naming the sidecar.
    """
    if not path.exists() and not path.is_symlink():
        if named:
            raise InputError(f"the sidecar manifest {path} does not exist")
        return None
    try:
        return read_capped(path, SIDECAR_CAP, f"sidecar manifest {path}")
    except InputError as exc:
        if not named and exc.message == "no such file":
            return None  # removed between the look and the read: as if never there
        raise
