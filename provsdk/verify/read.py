"""The I/O half of verification: check the file's structure, then let c2pa read it, offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.essence import essence_digest
from provsdk.c2pa_access import read_manifest_reports
from provsdk.credentials.trust import TrustStore
from provsdk.errors import CorruptAudioError, InputError
from provsdk.manifest.build import GRANT
from provsdk.manifest.read import parse_store
from provsdk.models.report import C2paState, StatusEntry
from provsdk.models.store import ManifestStore

__all__ = ["FileEvidence", "read_evidence"]


@dataclass(frozen=True)
class FileEvidence:
    """What was read from one file: its audio facts and its manifest store, if any."""

    path: Path
    audio: AudioInfo
    store: ManifestStore | None
    essence: str | None = None  # digest of the coded audio, read only when a grant needs it


def _unreadable(message: str) -> ManifestStore:
    # A manifest c2pa cannot parse is evidence of damage or tampering, not a usage error.
    entry = StatusEntry("manifest.unreadable", message)
    return ManifestStore(state=C2paState.INVALID, active=None, manifests={}, failures=(entry,))


def read_evidence(path: str | Path, producer_trust: TrustStore) -> FileEvidence:
    """Probe ``path`` and read its manifest store with ``producer_trust`` as the C2PA anchors.

    Never writes to the file and never opens a network connection (remote manifests and OCSP
    are off). Raises :class:`~provsdk.errors.InputError` for files that are not usable audio.
    """
    import c2pa

    p = Path(path)
    audio = probe(p)
    try:
        reports = read_manifest_reports(p, audio.format, producer_trust)
    except c2pa.C2paError as exc:
        text = " ".join(str(exc).split())
        if "could not be parsed" in text:
            raise CorruptAudioError(f"c2pa cannot parse the file: {text}", path=p) from None
        return FileEvidence(p, audio, _unreadable(text))
    store = parse_store(*reports) if reports else None
    return FileEvidence(p, audio, store, _essence_if_needed(p, store))


def _essence_if_needed(path: Path, store: ManifestStore | None) -> str | None:
    """The audio digest, unless no grant could need it.

    Hashing the audio costs a pass over the file, so it is skipped when every grant's readable
    copy declares a scope. The copy only decides whether to hash: if it lies about the signed
    target, the grant has no digest to match and fails coverage, as well as the copy check.
    """
    active = store.active if store else None
    grants = active.assertions_named(GRANT) if active else []

    def declares_scope(data: Any) -> bool:
        statement = data.get("statement") if isinstance(data, dict) else None
        target = statement.get("target") if isinstance(statement, dict) else None
        return isinstance(target, dict) and target.get("@type") == "AssetCollection"

    if all(declares_scope(g) for g in grants):
        return None
    try:
        return essence_digest(path)
    except InputError:
        return None
