"""``verify_file``: read (I/O), then judge (pure); and which files a folder holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from provsdk.credentials.trust import TrustConfig
from provsdk.models.report import VerificationReport
from provsdk.sign.atomic import TEMP_SUFFIX
from provsdk.verify.layers import findings
from provsdk.verify.policy import DEFAULT_POLICY, Policy, evaluate
from provsdk.verify.read import FileEvidence, read_evidence

__all__ = ["AUDIO_SUFFIXES", "expand_paths", "report_from_evidence", "verify_file"]

# In a folder, these are the files we look at; named files are checked whatever their name.
# Formats we cannot verify are listed so they are reported, not silently skipped.
AUDIO_SUFFIXES = frozenset(
    {
        ".wav",
        ".wave",
        ".mp3",
        ".flac",
        ".m4a",
        ".mp4",
        ".aac",
        ".ogg",
        ".oga",
        ".opus",
        ".aif",
        ".aiff",
    }
)


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
    )


def verify_file(
    path: str | Path,
    *,
    trust: TrustConfig | None = None,
    trust_anchors: Sequence[str | Path] = (),
    provider_anchors: Sequence[str | Path] = (),
    licensor_anchors: Sequence[str | Path] = (),
    policy: Policy = DEFAULT_POLICY,
    at: dt.datetime | None = None,
) -> VerificationReport:
    """Verify one file, offline, against ``trust`` (default: ``PROVSDK_HOME``'s stores).

    ``trust_anchors``, ``provider_anchors`` and ``licensor_anchors`` add PEM files of producer,
    provider and licensor anchors. Signed statements (disclosure,
    grants) are judged at ``at`` (default: now): their terms, and their certificates. Raises
    :class:`~provsdk.errors.InputError` when the file is not usable audio; every other
    outcome, including a tampered or unsigned file, is a report with a verdict.
    """
    trust = trust or TrustConfig.load()
    if trust_anchors or provider_anchors or licensor_anchors:
        trust = replace(
            trust,
            producer=trust.producer.adding_files(trust_anchors),
            provider=trust.provider.adding_files(provider_anchors),
            licensor=trust.licensor.adding_files(licensor_anchors),
        )
    return report_from_evidence(
        read_evidence(path, trust.producer, trust.timestamp), policy, trust=trust, at=at
    )


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the audio files under folders (recursively, sorted)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if (
                    child.is_file()
                    and not hidden
                    and child.suffix.lower() in AUDIO_SUFFIXES
                    and not child.name.endswith(TEMP_SUFFIX)
                ):
                    yield child
        else:
            yield path
