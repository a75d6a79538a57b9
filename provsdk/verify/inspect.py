"""The manifest store of one file exactly as c2pa reads it (offline), with no judgement.

Where :mod:`provsdk.verify.read` turns a manifest c2pa cannot parse into evidence of damage,
inspecting is asked to show the store, so such a file is an error here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from provsdk.audio.containers import AudioInfo, probe
from provsdk.c2pa_access import UnreadableManifest, read_manifest_reports
from provsdk.credentials.trust import TrustStore
from provsdk.errors import InputError
from provsdk.manifest.parse import parse_store
from provsdk.models.store import ManifestStore

__all__ = ["InspectedFile", "inspect_file"]


@dataclass(frozen=True)
class InspectedFile:
    """One file's audio facts and c2pa's reports of its manifest store (``raw`` is None: the
    file has no manifest)."""

    path: Path
    audio: AudioInfo
    raw: str | None  # c2pa's manifest store JSON, as read
    signatures: str | None = None  # c2pa's crJSON report, where the signature details are

    @property
    def document(self) -> dict[str, Any]:
        """The raw manifest store as JSON data; an empty store when there is no manifest."""
        if self.raw is None:
            return {"manifests": {}, "active_manifest": None}
        data: dict[str, Any] = json.loads(self.raw)
        return data

    @cached_property
    def store(self) -> ManifestStore | None:
        """The store as records, parsed when first asked: the raw JSON never depends on it."""
        return parse_store(self.raw, self.signatures) if self.raw is not None else None


def inspect_file(path: str | Path, trust_store: TrustStore) -> InspectedFile:
    """Probe ``path`` and read its manifest store with ``trust_store`` as the C2PA anchors.

    Never writes and never opens a network connection. Raises
    :class:`~provsdk.errors.InputError` for a file that is not usable audio, or whose
    manifest store c2pa cannot read.
    """
    import c2pa

    p = Path(path)
    audio = probe(p)
    try:
        reports = read_manifest_reports(p, audio, trust_store)
    except (c2pa.C2paError, UnreadableManifest) as exc:
        text = " ".join(str(exc).split())
        raise InputError(f"c2pa cannot read the manifest store: {text}", path=path) from None
    if reports is None:
        return InspectedFile(p, audio, None)
    return InspectedFile(p, audio, *reports)
