"""The I/O half of verification: check the file's structure, then let c2pa read it, offline.

Timestamps and role separation. c2pa 0.38 takes one list of anchors and judges both the
manifest's signer and its time-stamp authority against it, so handing it producer and TSA
anchors together would let a TSA's root (often a public CA that issues e-mail certificates to
anyone) vouch for manifest signers. Instead the file is read with producer anchors alone; a
timestamped manifest is read once more with the TSA anchors alone, which says whether its
authority is trusted and whether its signer chains to a TSA root. Only when the signer's
certificate has expired, the authority is trusted and the signer does not chain to a TSA
root is it read a third time with both lists, so c2pa judges the signer at the token's time:
the path it then finds can only end at a producer anchor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.essence import essence_digest
from provsdk.c2pa_access import UnreadableManifest, read_manifest_reports
from provsdk.credentials.trust import TrustStore
from provsdk.errors import ConfigurationError, CorruptAudioError, InputError
from provsdk.manifest.build import GRANT
from provsdk.manifest.parse import parse_store
from provsdk.models.report import C2paState, StatusEntry
from provsdk.models.store import ManifestStore
from provsdk.sidecar import read_sidecar, sidecar_for
from provsdk.verify.recovery import Recovery

__all__ = ["FileEvidence", "read_evidence"]


@dataclass(frozen=True)
class FileEvidence:
    """What was read from one file: its audio facts and its manifest store, if any."""

    path: Path
    audio: AudioInfo
    store: ManifestStore | None
    essence: str | None = None  # digest of the coded audio, read only when a grant needs it
    # Why the file has no audio digest at all, when players could disagree on its audio.
    essence_problem: str | None = None
    # A manifest found again by the sound, when the file carries none that holds.
    recovery: Recovery | None = None
    # Where the manifest store of a format that keeps it beside the file was looked for, and
    # whether one was there (None for formats that embed theirs).
    sidecar: Path | None = None
    sidecar_found: bool = False


def _unreadable(message: str) -> ManifestStore:
    # A manifest c2pa cannot parse is evidence of damage or tampering, not a usage error.
    entry = StatusEntry("manifest.unreadable", message)
    return ManifestStore(state=C2paState.INVALID, active=None, manifests={}, failures=(entry,))


def _read_store(
    path: Path, audio: AudioInfo, anchors: TrustStore, sidecar: bytes | None
) -> ManifestStore | None:
    import c2pa

    try:
        reports = read_manifest_reports(path, audio, anchors, sidecar)
    except UnreadableManifest as exc:
        return _unreadable(str(exc))
    except c2pa.C2paError as exc:
        text = " ".join(str(exc).split())
        if "could not be parsed" in text:
            raise CorruptAudioError(f"c2pa cannot parse the file: {text}", path=path) from None
        return _unreadable(text)
    return parse_store(*reports) if reports else None


def _codes(store: ManifestStore | None) -> set[str]:
    return {e.code for e in store.successes} if store else set()


def _with_timestamp(
    path: Path,
    audio: AudioInfo,
    store: ManifestStore,
    producer_trust: TrustStore,
    timestamp_trust: TrustStore,
    sidecar: bytes | None,
) -> ManifestStore:
    """``store`` with its timestamp judged, and its signer judged at that time if it must be."""
    by_authorities = _read_store(path, audio, timestamp_trust, sidecar)
    authority_trusted = "timeStamp.trusted" in _codes(by_authorities)
    signer_under_tsa_root = "signingCredential.trusted" in _codes(by_authorities)
    expired = any(e.code == "signingCredential.expired" for e in store.failures)
    if expired and authority_trusted and not signer_under_tsa_root:
        again = _read_store(path, audio, producer_trust.adding(timestamp_trust.anchors), sidecar)
        if again is not None and again.active is not None:
            store = again
    return replace(store, timestamp_trusted=authority_trusted)


def read_evidence(
    path: str | Path,
    producer_trust: TrustStore,
    timestamp_trust: TrustStore | None = None,
    *,
    sidecar: str | Path | None = None,
) -> FileEvidence:
    """Probe ``path`` and read its manifest store with ``producer_trust`` as the C2PA anchors.

    A manifest timestamped by an authority of ``timestamp_trust`` has its signer judged at the
    token's time (see the module docstring for how the two lists are kept apart). A format
    that keeps its manifest in a sidecar is read with ``sidecar``, or the ``.c2pa`` file beside
    it; naming a sidecar for a format that embeds its manifest is a
    :class:`~provsdk.errors.ConfigurationError`.

    Never writes to the file and never opens a network connection (remote manifests and OCSP
    are off). Raises :class:`~provsdk.errors.InputError` for files that are not usable audio.
    """
    p = Path(path)
    audio = probe(p)
    named = Path(sidecar) if sidecar is not None else None
    if named is not None and audio.format.embeds:
        raise ConfigurationError(
            f"{audio.format.extension.upper()} carries its manifest inside the file; a sidecar "
            "manifest is only read for formats that cannot embed one (OGG, Opus, AIFF, CAF, "
            "WebM, Matroska)",
            path=p,
        )
    where = None if audio.format.embeds else named or sidecar_for(p)
    # Read once: each of the (up to three) reads below then judges the same store.
    beside = None if where is None else read_sidecar(where, named=named is not None)
    if where is not None and beside is None:
        store = None  # a file of a sidecar format, with no sidecar: no manifest
    else:
        store = _read_store(p, audio, producer_trust, beside)
    timestamped = store is not None and store.active is not None and store.active.timestamped_at
    if store is not None and timestamped and timestamp_trust and timestamp_trust.anchors:
        store = _with_timestamp(p, audio, store, producer_trust, timestamp_trust, beside)
    return FileEvidence(
        p,
        audio,
        store,
        _essence_if_needed(p, audio, store),
        essence_problem=audio.essence_problem,
        sidecar=where,
        sidecar_found=beside is not None,
    )


def _essence_if_needed(path: Path, audio: AudioInfo, store: ManifestStore | None) -> str | None:
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

    if audio.essence is None or all(declares_scope(g) for g in grants):
        return None  # no digest to take (an ambiguous file says why in essence_problem)
    try:
        return essence_digest(path, audio)
    except InputError:
        return None
