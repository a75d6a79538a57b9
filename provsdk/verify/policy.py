"""Policies: small composable rules evaluated against the evidence layers.

A rule returns the reasons it fails (none: it passes). :class:`AllOf` and :class:`AnyOf`
combine rules; both fail closed when empty, so a policy that says nothing passes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from provsdk.models.report import C2paState, Findings, PolicyLayer, Reason

__all__ = [
    "DEFAULT_POLICY",
    "AllOf",
    "AnyOf",
    "Policy",
    "RequireAiGenerated",
    "RequireC2paState",
    "evaluate",
]


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    def failures(self, evidence: Findings) -> list[Reason]:
        """Why ``evidence`` does not meet this rule; empty when it does."""
        ...


# Codes about trust rather than integrity: an ingredient signed outside our anchors is a note.
_TRUST_CODES = frozenset(
    {"ingredient.signingCredential.untrusted", "ingredient.signingCredential.ocsp.skipped"}
)


def _status_reasons(evidence: Findings) -> list[Reason]:
    return [Reason(e.code, e.explanation) for e in evidence.integrity.failures]


def _history_reasons(evidence: Findings) -> list[Reason]:
    return [
        Reason(e.code, e.explanation)
        for e in evidence.integrity.history_failures
        if e.code not in _TRUST_CODES
    ]


@dataclass(frozen=True)
class RequireC2paState:
    """The manifest must be intact (``VALID``) or intact and from a trusted signer (``TRUSTED``)."""

    minimum: C2paState = C2paState.TRUSTED
    name: str = "c2pa-state"

    def failures(self, evidence: Findings) -> list[Reason]:
        state = evidence.integrity.state
        if state is C2paState.ABSENT:
            return [Reason("c2pa.absent", "the file carries no C2PA manifest")]
        if state is C2paState.INVALID:
            return _status_reasons(evidence) or [
                Reason("c2pa.invalid", "the C2PA manifest failed validation")
            ]
        reasons = _history_reasons(evidence)  # a broken parent breaks the chain of evidence
        if state is C2paState.VALID and self.minimum is C2paState.TRUSTED:
            # c2pa reports VALID for an intact manifest from a signer outside the anchors.
            reasons = (
                _status_reasons(evidence)
                or [Reason("signingCredential.untrusted", "the producer is not trusted")]
            ) + reasons
        return reasons


@dataclass(frozen=True)
class RequireAiGenerated:
    """The origin layer must declare the audio AI-generated (a disclosure duty in many places)."""

    name: str = "ai-generated"

    def failures(self, evidence: Findings) -> list[Reason]:
        if evidence.origin.ai_generated:
            return []
        return [
            Reason("origin.not-declared", "the manifest does not declare the audio AI-generated")
        ]


@dataclass(frozen=True)
class AllOf:
    rules: Sequence[Policy]
    name: str = "all-of"

    def failures(self, evidence: Findings) -> list[Reason]:
        if not self.rules:
            return [Reason("policy.empty", f"policy {self.name!r} has no rules; failing closed")]
        return [reason for rule in self.rules for reason in rule.failures(evidence)]


@dataclass(frozen=True)
class AnyOf:
    rules: Sequence[Policy]
    name: str = "any-of"

    def failures(self, evidence: Findings) -> list[Reason]:
        if not self.rules:
            return [Reason("policy.empty", f"policy {self.name!r} has no rules; failing closed")]
        collected: list[Reason] = []
        for rule in self.rules:
            reasons = rule.failures(evidence)
            if not reasons:
                return []
            collected.extend(reasons)
        return collected


DEFAULT_POLICY: Policy = AllOf(rules=(RequireC2paState(C2paState.TRUSTED),), name="default")


def evaluate(policy: Policy, evidence: Findings) -> PolicyLayer:
    reasons = tuple(policy.failures(evidence))
    return PolicyLayer(name=policy.name, passed=not reasons, reasons=reasons)
