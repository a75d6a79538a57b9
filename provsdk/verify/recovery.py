"""Finding a file's manifest again by its sound, when the file carries none (the I/O half).

The repository only proposes: it is asked for manifests registered with a sound like this
file's (Chromaprint fingerprint, confirmed by aligned comparison), and what it returns is
validated here by c2pa as a bare store, against the producer anchors, exactly as an embedded
one would be. Two things are not taken from the repository: the signature (c2pa checks it)
and the claim that the manifest belongs to this sound, which counts only when the manifest's
own signed fingerprint (``io.provsdk.fingerprint``) aligns with this file's, or, for a
manifest without one, when its signed ``c2pa.soft-binding`` code is this file's (``bound``).
The hard binding of a recovered store names bytes that are not these, so its mismatch is
expected and set aside; anything else c2pa finds wrong rejects the candidate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provsdk.c2pa_access import UnreadableManifest, read_store_reports
from provsdk.credentials.trust import TrustStore
from provsdk.errors import InputError
from provsdk.manifest.parse import parse_store
from provsdk.models.report import C2paState, Reason, SoftBindingState
from provsdk.models.store import ManifestStore

if TYPE_CHECKING:
    from provsdk.repository import Repository
    from provsdk.softbinding import Fingerprint

__all__ = ["BOUND_BITS", "HARD_BINDING_MISMATCHES", "Recovery", "recover"]

# c2pa's codes for a hard binding that does not match the bytes it was read with: a recovered
# store is read without its asset, so these say nothing about the store itself.
HARD_BINDING_MISMATCHES = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)
# Failures that only say the signer is not trusted here: the store is then Valid, not Trusted.
_TRUST_ONLY = frozenset({"signingCredential.untrusted"})
# How many of the 64 bits of the ISCC Audio-Code may differ for the recovered manifest's signed
# code to count as this sound's. Re-encodes and gain changes stay well inside it (see
# bench/softbinding.py); an unrelated track differs in about half the bits.
BOUND_BITS = 8
_CANDIDATES = 5


@dataclass(frozen=True)
class Recovery:
    """What the repository proposed for one file, and what held of it."""

    repository: str
    state: SoftBindingState
    manifest: str | None = None
    score: float | None = None
    offset_seconds: float | None = None
    store: ManifestStore | None = None  # the recovered store, its hard binding set aside
    bound: bool = False
    reasons: tuple[Reason, ...] = ()


def _soft(store: ManifestStore) -> ManifestStore | None:
    """``store`` as c2pa would judge it embedded in its own asset: its hard-binding mismatch
    set aside, an untrusted signer kept as the reason it is only Valid; None if anything else
    failed (a signature, an assertion's hash, a certificate)."""
    hard = tuple(f for f in store.failures if f.code in HARD_BINDING_MISMATCHES)
    untrusted = tuple(f for f in store.failures if f.code in _TRUST_ONLY)
    others = [f for f in store.failures if f not in hard and f not in untrusted]
    if others or store.active is None:
        return None
    trusted = not untrusted and any(e.code == "signingCredential.trusted" for e in store.successes)
    return dataclasses.replace(
        store,
        state=C2paState.TRUSTED if trusted else C2paState.VALID,
        failures=untrusted,
        informational=store.informational + hard,
    )


def _bound(store: ManifestStore, fingerprint: Fingerprint) -> bool:
    """Whether the sound the recovered manifest's producer signed is this file's sound.

    The signed fingerprint decides when the manifest carries one (excerpts and trimmed copies
    align with it); else the signed Audio-Code, which only a whole, similar file can match.
    """
    from provsdk.softbinding import (
        LABEL,
        align,
        audio_code,
        hamming,
        read_soft_binding,
        signed_fingerprint,
    )

    assert store.active is not None
    signed = [
        found
        for data in store.active.assertions_named(signed_fingerprint.LABEL)
        if (found := signed_fingerprint.read_signed_fingerprint(data)) is not None
    ]
    if signed:
        return any(align(fingerprint, reference).is_match for reference in signed)
    bits = audio_code(fingerprint).bits
    for data in store.active.assertions_named(LABEL):
        code = read_soft_binding(data) if isinstance(data, dict) else None
        if code is not None and hamming(code.bits, bits) <= BOUND_BITS:
            return True
    return False


def recover(path: Path, repository: Repository, where: str, producer_trust: TrustStore) -> Recovery:
    """Look ``path``'s sound up in ``repository`` (named ``where`` in reports) and validate
    the best candidates' stores: the first that holds and is bound to this sound is the
    recovery; failing that, the first that holds (shown as not bound)."""
    from provsdk.softbinding import fingerprint_file

    try:
        fingerprint = fingerprint_file(path)
    except InputError as exc:
        why = Reason("soft-binding.unreadable", f"the audio could not be fingerprinted: {exc}")
        return Recovery(where, SoftBindingState.NO_MATCH, reasons=(why,))
    matches = repository.matches_by_content(fingerprint, limit=_CANDIDATES)
    if not matches:
        why = Reason("soft-binding.no-match", f"{where} knows no sound like this one")
        return Recovery(where, SoftBindingState.NO_MATCH, reasons=(why,))
    rejected: list[Reason] = []
    unbound: Recovery | None = None
    for match in matches:
        found = _candidate(repository, match.manifest, producer_trust)
        if isinstance(found, Reason):
            rejected.append(found)
            continue
        recovery = Recovery(
            where,
            SoftBindingState.RECOVERED,
            manifest=match.manifest,
            score=match.score,
            offset_seconds=match.offset_seconds,
            store=found,
            bound=_bound(found, fingerprint),
        )
        if recovery.bound:
            return recovery
        # A valid store whose signed sound is not this one: kept in case no candidate is
        # bound, never allowed to hide one the repository ranked lower.
        unbound = unbound or recovery
    if unbound is not None:
        return unbound
    best = matches[0]
    return Recovery(
        where,
        SoftBindingState.REJECTED,
        manifest=best.manifest,
        score=best.score,
        offset_seconds=best.offset_seconds,
        reasons=tuple(rejected),
    )


def _candidate(
    repository: Repository, label: str, producer_trust: TrustStore
) -> ManifestStore | Reason:
    import c2pa

    raw = repository.manifest_store(label)
    if raw is None:
        return Reason("soft-binding.missing", f"the repository matched {label} but has no store")
    try:
        store = parse_store(*read_store_reports(raw, producer_trust))
    except (UnreadableManifest, c2pa.C2paError) as exc:
        return Reason("soft-binding.unreadable", f"the store of {label} cannot be read: {exc}")
    if store.active is None or store.active.label != label:
        # A repository answering with another manifest than the one it matched is not believed.
        return Reason("soft-binding.label", f"the store the repository gave for {label} is not it")
    soft = _soft(store)
    if soft is None:
        codes = ", ".join(sorted({f.code for f in store.failures})) or "no active manifest"
        return Reason("soft-binding.invalid", f"the recovered manifest {label} fails: {codes}")
    return soft
