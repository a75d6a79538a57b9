"""``verify_file``: read (I/O), then judge (pure); and which files a folder holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from provsdk.audio.formats import AUDIO_SUFFIXES
from provsdk.credentials.trust import TrustConfig
from provsdk.models.report import (
    C2paState,
    Findings,
    Reason,
    SoftBindingLayer,
    VerificationReport,
)
from provsdk.sidecar import sidecar_for
from provsdk.verify.layers import findings
from provsdk.verify.policy import DEFAULT_POLICY, Policy, evaluate
from provsdk.verify.read import FileEvidence, read_evidence
from provsdk.verify.recovery import Recovery, recover

if TYPE_CHECKING:
    from provsdk.repository import Repository

__all__ = [
    "AUDIO_SUFFIXES",
    "expand_paths",
    "report_from_evidence",
    "verify_evidence",
    "verify_file",
]



def report_from_evidence(
    evidence: FileEvidence,
    policy: Policy = DEFAULT_POLICY,
    *,
    trust: TrustConfig,
    at: dt.datetime | None = None,
) -> VerificationReport:
    """Judge what was read: the pure step, separate from any file access."""
    at = at or dt.datetime.now(dt.UTC)
    layers = findings(
        evidence.store,
        trust=trust,
        at=at,
        essence=evidence.essence,
        essence_problem=evidence.essence_problem,
    )
    if evidence.recovery is not None:
        layers = _with_recovery(layers, evidence, trust, at)
    if evidence.sidecar is not None:
        layers = replace(layers, notes=(*layers.notes, _sidecar_note(evidence)))
    return VerificationReport(
        path=str(evidence.path),
        format=evidence.audio.format.extension,
        integrity=layers.integrity,
        producer=layers.producer,
        origin=layers.origin,
        disclosure=layers.disclosure,
        grants=layers.grants,
        policy=evaluate(policy, layers),
        duration=evidence.audio.duration,
        notes=layers.notes,
        checked_at=layers.checked_at,
        soft_binding=layers.soft_binding,
    )


def _sidecar_note(evidence: FileEvidence) -> Reason:
    """Where the manifest of a format that cannot embed one came from, or was looked for.

    The sidecar beside the file is not named: a catalogue run verifies a private copy, and
    its record must read as a run on the file itself does.
    """
    fmt = evidence.audio.format.extension.upper()
    if not evidence.sidecar_found:
        return Reason(
            "manifest.sidecar-missing",
            f"{fmt} keeps its manifest in a .c2pa sidecar, and there is none beside the file",
        )
    named = evidence.sidecar is not None and evidence.sidecar != sidecar_for(evidence.path)
    where = f"the sidecar {evidence.sidecar}" if named else "the .c2pa sidecar beside the file"
    return Reason("manifest.sidecar", f"{fmt} keeps its manifest apart: read from {where}")


def _with_recovery(
    layers: Findings, evidence: FileEvidence, trust: TrustConfig, at: dt.datetime
) -> Findings:
    """``layers`` with the soft-binding layer: the recovered manifest judged as usual, kept
    apart from the file's own evidence (a policy counts it only if it accepts recovery)."""
    found = evidence.recovery
    assert found is not None
    recovered = None
    notes = list(layers.notes)
    if found.store is not None:
        recovered = findings(found.store, trust=trust, at=at, essence=evidence.essence)
        how = (
            "its own signed soft-binding code is this sound's"
            if found.bound
            else "only the repository's fingerprint matched; nothing signed says this sound "
            "is the manifest's"
        )
        notes.append(
            Reason(
                "soft-binding.recovered",
                f"a manifest ({found.manifest}) was found again by the sound in "
                f"{found.repository} ({how}); these bytes are not hash-bound to it, so it is "
                "shown, and counted only by a policy that accepts recovery",
            )
        )
    layer = SoftBindingLayer(
        state=found.state,
        repository=found.repository,
        manifest=found.manifest,
        score=found.score,
        offset_seconds=found.offset_seconds,
        bound=found.bound,
        recovered=recovered,
        reasons=found.reasons,
    )
    return replace(layers, soft_binding=layer, notes=tuple(notes))


def verify_file(
    path: str | Path,
    *,
    trust: TrustConfig | None = None,
    trust_anchors: Sequence[str | Path] = (),
    provider_anchors: Sequence[str | Path] = (),
    licensor_anchors: Sequence[str | Path] = (),
    policy: Policy = DEFAULT_POLICY,
    at: dt.datetime | None = None,
    repository: Repository | str | Path | None = None,
    manifest: str | Path | None = None,
) -> VerificationReport:
    """Verify one file, offline, against ``trust`` (default: ``PROVSDK_HOME``'s stores).

    ``trust_anchors``, ``provider_anchors`` and ``licensor_anchors`` add PEM files of producer,
    provider and licensor anchors. Signed statements (disclosure,
    grants) are judged at ``at`` (default: now): their terms, and their certificates. Raises
    :class:`~provsdk.errors.InputError` when the file is not usable audio; every other
    outcome, including a tampered or unsigned file, is a report with a verdict.

    With ``repository`` (a :class:`~provsdk.repository.Repository`, a SQLite path, or an
    ``https://`` URL, the only case that touches the network), a file that carries no
    manifest, or one that fails, is looked up by its sound; what is recovered is shown in
    ``soft_binding`` and counted only by a policy that accepts recovery
    (:class:`~provsdk.verify.policy.AcceptRecovered`).

    A file whose format keeps its manifest in a sidecar (OGG, Opus, AIFF, CAF, WebM) is read
    with ``manifest``, the path of that ``.c2pa`` store, or by default the one beside it
    (``track.ogg`` -> ``track.c2pa``); without one, the file has no manifest.
    """
    trust = trust or TrustConfig.load()
    if trust_anchors or provider_anchors or licensor_anchors:
        trust = replace(
            trust,
            producer=trust.producer.adding_files(trust_anchors),
            provider=trust.provider.adding_files(provider_anchors),
            licensor=trust.licensor.adding_files(licensor_anchors),
        )
    found = verify_evidence(
        path, trust=trust, policy=policy, at=at, repository=repository, manifest=manifest
    )
    return found[1]


def verify_evidence(
    path: str | Path,
    *,
    trust: TrustConfig,
    policy: Policy = DEFAULT_POLICY,
    at: dt.datetime | None = None,
    repository: Repository | str | Path | None = None,
    manifest: str | Path | None = None,
) -> tuple[FileEvidence, VerificationReport]:
    """:func:`verify_file`, keeping what was read beside the report (for reports that show
    more than the verdict: the provenance tree, the waveform)."""
    evidence = read_evidence(path, trust.producer, trust.timestamp, sidecar=manifest)
    if repository is not None and _needs_recovery(evidence):
        evidence = replace(evidence, recovery=_recover(evidence, repository, trust))
    return evidence, report_from_evidence(evidence, policy, trust=trust, at=at)


def _needs_recovery(evidence: FileEvidence) -> bool:
    store = evidence.store
    return store is None or store.state is C2paState.INVALID


def _recover(
    evidence: FileEvidence, repository: Repository | str | Path, trust: TrustConfig
) -> Recovery:
    from provsdk.repository import open_repository

    where = str(repository) if isinstance(repository, str | Path) else type(repository).__name__
    repo = open_repository(repository) if isinstance(repository, str | Path) else repository
    return recover(evidence.path, repo, where, trust.producer)


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the audio files under folders (recursively, sorted), one at
    a time: see :func:`provsdk.catalogue.walk.iter_files`."""
    from provsdk.catalogue.walk import iter_files

    return iter_files(paths)
