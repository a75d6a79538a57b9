"""Registering a signed file in a manifest repository: its store, under its sound.

A copy of the file that loses its manifest (an upload, a re-encode, a DAW bounce) can then find
it again by its sound (``verify --repository``). What is registered is the manifest store
exactly as embedded, the active manifest's label, and the Chromaprint fingerprint and ISCC
Audio-Code of the decoded audio; nothing of it is trusted by the repository's readers, who
validate the store again (provsdk/verify/recovery.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provsdk.audio.containers import AudioInfo, probe
from provsdk.errors import InputError

if TYPE_CHECKING:
    from provsdk.repository import Repository
    from provsdk.softbinding import AudioCode

__all__ = ["Registration", "embedded_store", "register_file"]

# The JUMBF description box's toggle bit for "a label follows".
_LABEL_PRESENT = 0x02


@dataclass(frozen=True)
class Registration:
    path: Path
    manifest: str  # the active manifest's label
    code: AudioCode


def embedded_store(path: str | Path, info: AudioInfo | None = None) -> bytes | None:
    """The C2PA manifest store embedded in ``path``, as its bytes, or None without one;
    ``info`` is what ``probe`` already found, if it ran."""
    p = Path(path)
    info = info or probe(p)
    if info.manifest is None:
        return None
    start, length = info.manifest
    with p.open("rb") as fh:
        fh.seek(start)
        carrier = fh.read(length)
    # The store is the first JUMBF superbox of the carrier (a RIFF chunk's body, an ID3 GEOB
    # frame after its text fields, an MP4 'uuid' box after its header).
    at = carrier[:512].find(b"jumb")
    if at < 4:
        return None
    size = int.from_bytes(carrier[at - 4 : at], "big")
    if size < 8 or at - 4 + size > len(carrier):
        raise InputError("the embedded C2PA manifest store is cut short", path=p)
    return carrier[at - 4 : at - 4 + size]


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The (type, body start, body end) of the JUMBF boxes in data[start:end]."""
    out, at = [], start
    while at + 8 <= end:
        size = int.from_bytes(data[at : at + 4], "big")
        if size < 8 or at + size > end:
            break
        out.append((data[at + 4 : at + 8], at + 8, at + size))
        at += size
    return out


def _label(data: bytes, body: int, end: int) -> str | None:
    """The label in the description box that opens the superbox body data[body:end]."""
    boxes = _boxes(data, body, end)
    if not boxes or boxes[0][0] != b"jumd":
        return None
    _, start, stop = boxes[0]
    if stop - start < 17 or not data[start + 16] & _LABEL_PRESENT:
        return None
    raw = data[start + 17 : stop].split(b"\0", 1)[0]
    return raw.decode("utf-8", errors="replace")


def active_label(store: bytes) -> str | None:
    """The active manifest's label: the last manifest of the store (C2PA 2.x, 11.1)."""
    top = _boxes(store, 0, len(store))
    if not top or top[0][0] != b"jumb":
        return None
    _, body, end = top[0]
    manifests = [
        _label(store, start, stop)
        for kind, start, stop in _boxes(store, body, end)[1:]
        if kind == b"jumb"
    ]
    labels = [m for m in manifests if m]
    return labels[-1] if labels else None


def register_file(repository: Repository, path: str | Path) -> Registration:
    """Publish the store embedded in ``path`` (or, for a format that keeps it in a sidecar,
    that sidecar's) to ``repository`` under the sound of ``path``."""
    from provsdk.c2pa_access import UnreadableManifest, sidecar_store
    from provsdk.softbinding import audio_code, fingerprint_file

    p = Path(path)
    info = probe(p)
    try:
        store = embedded_store(p, info) if info.format.embeds else sidecar_store(p, info)
    except UnreadableManifest as exc:
        raise InputError(f"cannot register it: {exc}", path=p) from None
    if store is None:
        raise InputError("the file carries no C2PA manifest to register", path=p)
    label = active_label(store)
    if label is None:
        raise InputError("the embedded manifest store names no manifest", path=p)
    fingerprint = fingerprint_file(p)
    code = audio_code(fingerprint)
    repository.publish(store, label, code, fingerprint)
    return Registration(p, label, code)
