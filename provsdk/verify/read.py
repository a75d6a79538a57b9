"""The I/O half of verification: check the file's structure, then let c2pa read it, offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.containers import AudioInfo, probe
from provsdk.c2pa_access import read_manifest_reports
from provsdk.credentials.trust import TrustStore
from provsdk.errors import CorruptAudioError
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
    return FileEvidence(p, audio, parse_store(*reports) if reports else None)
