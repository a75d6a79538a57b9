"""The verification report: one record per layer, never collapsed into one boolean too early."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from provsdk.models.grant import Grant
from provsdk.models.reason import Reason
from provsdk.models.serialize import plain
from provsdk.timestamps.check import TimestampCheck

__all__ = [
    "MINING_VALUES",
    "C2paState",
    "DisclosureLayer",
    "Findings",
    "GrantFinding",
    "GrantsLayer",
    "IntegrityLayer",
    "MiningUse",
    "OriginLayer",
    "PolicyLayer",
    "ProducerLayer",
    "Reason",
    "SoftBindingLayer",
    "SoftBindingState",
    "StatusEntry",
    "TrainingMiningLayer",
    "Verdict",
    "VerificationReport",
]


class C2paState(enum.Enum):
    """The C2PA validation state.

    ``VALID`` includes an untrusted signer: only ``TRUSTED`` means trusted.
    """

    TRUSTED = "Trusted"
    VALID = "Valid"
    INVALID = "Invalid"
    ABSENT = "Absent"


class Verdict(enum.Enum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"


# Trust of an ingredient's signer is judged when it is added, against that signer's anchors;
# what matters to a later reader is whether the history is intact, so these are notes.
_TRUST_CODES = frozenset({"signingCredential.untrusted", "signingCredential.ocsp.skipped"})
_HISTORY = "ingredient."  # the prefix of every history entry's code


@dataclass(frozen=True)
class StatusEntry:
    """One C2PA validation status as the library reported it."""

    code: str
    explanation: str
    url: str | None = None


@dataclass(frozen=True)
class IntegrityLayer:
    state: C2paState
    manifest_label: str | None
    failures: tuple[StatusEntry, ...] = ()
    informational: tuple[StatusEntry, ...] = ()
    # Failures in the history: ingredient manifests that did not validate.
    history_failures: tuple[StatusEntry, ...] = ()

    def _about_trust(self, entry: StatusEntry) -> bool:
        return entry.code.removeprefix(_HISTORY) in _TRUST_CODES

    @property
    def history_trust_notes(self) -> tuple[StatusEntry, ...]:
        """History entries about an earlier signer's trust: notes, the history is intact."""
        return tuple(e for e in self.history_failures if self._about_trust(e))

    @property
    def history_breaks(self) -> tuple[StatusEntry, ...]:
        """History entries that break the chain of evidence."""
        return tuple(e for e in self.history_failures if not self._about_trust(e))


@dataclass(frozen=True)
class ProducerLayer:
    present: bool
    trusted: bool = False
    common_name: str | None = None
    organization: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    algorithm: str | None = None
    signed_at: str | None = None
    not_after: str | None = None
    development_credential: bool = False
    # An RFC 3161 token over the signature: when it says, who says so, whether that is trusted
    # (None: no time-stamp authority is configured, so it was not judged).
    timestamped_at: str | None = None
    timestamp_authority: str | None = None
    timestamp_trusted: bool | None = None


# The values a CAWG training-and-mining entry may hold; anything else reserves the use.
MINING_VALUES = frozenset({"allowed", "notAllowed", "constrained"})


@dataclass(frozen=True)
class MiningUse:
    """One use a ``cawg.training-mining`` assertion speaks about, as read from the file.

    ``use`` is what counts: the stated value when it is one CAWG defines and the manifest
    stating it is trusted, else ``"notAllowed"`` (an unknown or missing value, or one nobody
    trusted vouches for, reserves the use, never allows it). ``stated`` is shown either way.
    """

    key: str  # as the CAWG names it: "cawg.ai_training", ...
    use: str
    stated: str | None = None  # the value the file holds, exactly (None: no entry)
    constraint_info: str | None = None

    @property
    def understood(self) -> bool:
        return self.stated in MINING_VALUES


@dataclass(frozen=True)
class TrainingMiningLayer:
    """The active manifest's ``cawg.training-mining`` assertion: what the file permits.

    ``trusted``: the active manifest is signed by a trusted producer; otherwise the
    permissions are shown, never counted.
    """

    present: bool = False
    trusted: bool = False
    uses: tuple[MiningUse, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "trusted": self.trusted,
            "uses": {
                u.key: {"use": u.use, "stated": u.stated, "constraint_info": u.constraint_info}
                for u in self.uses
            },
        }


@dataclass(frozen=True)
class OriginLayer:
    present: bool
    ai_generated: bool | None = None
    digital_source_type: str | None = None
    generator: str | None = None
    generator_version: str | None = None
    provider: str | None = None
    model: str | None = None
    prompt: str | None = None
    seed: int | None = None
    claim_generator: str | None = None
    # Every manifest from the one that created the audio up to the active one is signed by a
    # trusted producer. Only then does a verdict credit the model (scope grants, disclosures);
    # otherwise what the history says is shown, never counted.
    trusted: bool = False
    training_mining: TrainingMiningLayer = field(default_factory=TrainingMiningLayer)

    @property
    def model_id(self) -> str | None:
        """The model that made the audio, as its creating action's software agent names it:
        ``"name version"``, the form disclosures and scope grants name models in."""
        if not self.generator:
            return None
        return (
            f"{self.generator} {self.generator_version}"
            if self.generator_version
            else self.generator
        )


@dataclass(frozen=True)
class DisclosureLayer:
    """Layer 4: the training-data disclosure, its provider signature and what it says."""

    present: bool = False
    signature_valid: bool | None = None
    trusted: bool | None = None  # the chain leads to a *provider* anchor
    signer: str | None = None
    provider: str | None = None
    model: str | None = None
    model_version: str | None = None
    training_bases: tuple[str, ...] = ()
    opt_out_respected: bool | None = None
    training_list_count: int | None = None
    summary: str | None = None
    problems: tuple[Reason, ...] = ()
    timestamp: TimestampCheck | None = None  # an RFC 3161 token over the provider's signature
    # True when nobody signed it: written from the provider's public statements (sources).
    declared: bool = False
    declared_by: str | None = None
    sources: tuple[str, ...] = ()
    # It speaks for this file: carried by the manifest that created the audio or a later one,
    # through trusted manifests only, and about the model that made the audio. Otherwise what
    # it says is shown, never counted by a policy.
    bound: bool = False

    @property
    def model_id(self) -> str | None:
        if not self.model:
            return None
        return f"{self.model} {self.model_version}" if self.model_version else self.model


@dataclass(frozen=True)
class GrantFinding:
    """One rights grant as judged for this file."""

    uid: str
    licensor: str  # as the grant declares it
    licensee: str
    signer: str | None  # the signing certificate's subject
    signer_names: tuple[str, ...]  # its organisation and common name
    signature_valid: bool
    trusted: bool  # the chain leads to a *licensor* anchor
    in_force: bool
    covers: bool
    coverage: str
    valid_from: str | None
    valid_until: str | None
    purposes: tuple[str, ...]
    territories: tuple[str, ...]
    contract: str | None  # name of the bound contract document, when the file carries it
    problems: tuple[Reason, ...]
    grant: Grant
    timestamp: TimestampCheck | None = None  # an RFC 3161 token over the licensor's signature
    # Terms provsdk does not judge (an unknown action, constraint or duty): the permission
    # holding them counts for nothing, and people are shown why.
    not_understood: tuple[str, ...] = ()


@dataclass(frozen=True)
class GrantsLayer:
    """Layer 5: the rights grants the file carries, each judged on its own."""

    present: bool = False
    count: int = 0
    grants: tuple[GrantFinding, ...] = ()
    problems: tuple[Reason, ...] = ()  # grant assertions that could not be read at all


@dataclass(frozen=True)
class PolicyLayer:
    name: str
    passed: bool
    reasons: tuple[Reason, ...] = ()


class SoftBindingState(enum.Enum):
    NOT_SEARCHED = "not-searched"  # no repository was given, or the file's own manifest holds
    NO_MATCH = "no-match"  # the repository knows no sound like this one
    RECOVERED = "recovered"  # a manifest was found for this sound and its signature holds
    # A candidate was found but does not hold: its signature fails, or the code its own signed
    # soft binding records is not this sound's.
    REJECTED = "rejected"


@dataclass(frozen=True)
class SoftBindingLayer:
    """Layer 6: a manifest found again by the sound alone, when the file carries none that holds.

    The binding is soft: the repository matched the audio's fingerprint, so nothing says these
    bytes are the ones that were signed, and the file's own integrity stays what it is (never
    Trusted). ``bound`` says whether the recovered manifest's own signed ``c2pa.soft-binding``
    code is this sound's (an excerpt's code is not the whole track's: then only the repository's
    fingerprint matched, which nothing signed vouches for). ``recovered`` holds the layers of
    the recovered manifest, judged as usual; a policy counts them only if it accepts recovery.
    """

    state: SoftBindingState = SoftBindingState.NOT_SEARCHED
    repository: str | None = None
    manifest: str | None = None
    score: float | None = None
    offset_seconds: float | None = None
    bound: bool = False
    recovered: Findings | None = None
    reasons: tuple[Reason, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state.value,
            "repository": self.repository,
            "manifest": self.manifest,
            "score": self.score,
            "offset_seconds": self.offset_seconds,
            "bound": self.bound,
            "reasons": [str(r) for r in self.reasons],
        }
        if self.recovered is not None:
            found = self.recovered
            out["recovered"] = {
                "c2pa": {"state": found.integrity.state.value, "binding": "soft"},
                "producer": plain(found.producer),
                "origin": {
                    **plain(found.origin),
                    "model_id": found.origin.model_id,
                    "training_mining": found.origin.training_mining.to_dict(),
                },
                "disclosure": plain(found.disclosure),
                "grants": {"present": found.grants.present, "count": found.grants.count},
            }
        return out


@dataclass(frozen=True)
class Findings:
    """The evidence layers of one file: what a policy is evaluated against."""

    integrity: IntegrityLayer
    producer: ProducerLayer
    origin: OriginLayer
    disclosure: DisclosureLayer
    grants: GrantsLayer
    notes: tuple[Reason, ...] = ()
    checked_at: str | None = None  # the date statements were judged at (ISO 8601)
    soft_binding: SoftBindingLayer = field(default_factory=SoftBindingLayer)


@dataclass(frozen=True)
class VerificationReport:
    """What provsdk found in one file, layer by layer, and the verdict of the policy."""

    path: str
    format: str
    integrity: IntegrityLayer
    producer: ProducerLayer
    origin: OriginLayer
    disclosure: DisclosureLayer
    grants: GrantsLayer
    policy: PolicyLayer
    duration: float | None = None
    notes: tuple[Reason, ...] = field(default=())
    checked_at: str | None = None
    soft_binding: SoftBindingLayer = field(default_factory=SoftBindingLayer)

    @property
    def verdict(self) -> Verdict:
        return Verdict.PASS if self.policy.passed else Verdict.FAIL

    @property
    def passed(self) -> bool:
        return self.policy.passed

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.policy.reasons

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``provsdk verify --json`` (one entry of its ``files`` list)."""
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict.value,
            "reasons": [str(r) for r in self.reasons],
            "notes": [str(r) for r in self.notes],
            "duration": self.duration,
            "c2pa": {
                "state": self.integrity.state.value,
                "manifest": self.integrity.manifest_label,
                "failures": plain(self.integrity.failures),
                "informational": plain(self.integrity.informational),
            },
            "producer": plain(self.producer),
            "origin": {
                **plain(self.origin),
                "model_id": self.origin.model_id,
                "training_mining": self.origin.training_mining.to_dict(),
            },
            "disclosure": plain(self.disclosure),
            "grants": {
                "present": self.grants.present,
                "count": self.grants.count,
                "items": [
                    {k: v for k, v in plain(g).items() if k != "grant"} for g in self.grants.grants
                ],
            },
            "checked_at": self.checked_at,
            "soft_binding": self.soft_binding.to_dict(),
            "policy": {"name": self.policy.name, "passed": self.policy.passed},
        }
