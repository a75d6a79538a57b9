"""Policies: small composable rules evaluated against the evidence layers.

A rule returns the reasons it fails (none: it passes). :class:`AllOf` and :class:`AnyOf`
combine rules; both fail closed when empty, so a policy that says nothing passes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from provsdk.models.grant import ACTIONS, action_name
from provsdk.models.report import (
    C2paState,
    DisclosureLayer,
    Findings,
    GrantFinding,
    PolicyLayer,
    Reason,
    SoftBindingState,
)

__all__ = [
    "DEFAULT_POLICY",
    "AcceptRecovered",
    "AllOf",
    "AllowedTraining",
    "AnyOf",
    "Policy",
    "RequireAiGenerated",
    "RequireC2paState",
    "RequireDisclosure",
    "RequireGrant",
    "StatementsSound",
    "evaluate",
]


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    def failures(self, evidence: Findings) -> list[Reason]:
        """Why ``evidence`` does not meet this rule; empty when it does."""
        ...


def _status_reasons(evidence: Findings) -> list[Reason]:
    return [Reason(e.code, e.explanation) for e in evidence.integrity.failures]


def _history_reasons(evidence: Findings) -> list[Reason]:
    return [Reason(e.code, e.explanation) for e in evidence.integrity.history_breaks]


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
class RequireTimestamp:
    """The manifest must carry an RFC 3161 timestamp from a trusted time-stamp authority.

    For archives: such a file keeps verifying after its producer certificate expires.
    """

    name: str = "timestamp"

    def failures(self, evidence: Findings) -> list[Reason]:
        producer = evidence.producer
        if producer.timestamp_trusted:
            return []
        if producer.timestamped_at is None:
            return [Reason("policy.timestamp", "the manifest carries no trusted timestamp")]
        return [
            Reason(
                "policy.timestamp",
                f"the manifest's timestamp is from {producer.timestamp_authority or 'an authority'}"
                ", which is not a trusted time-stamp authority here",
            )
        ]


@dataclass(frozen=True)
class RequireAiGenerated:
    """The origin layer must declare the audio AI-generated (a disclosure duty in many places).

    With ``trusted_history`` (the default) the declaration counts only when every manifest
    from the creation to the active one is from a trusted producer; a policy that accepts
    untrusted producers (``[producer] require = "valid"``) turns it off, consistently.
    """

    trusted_history: bool = True
    name: str = "ai-generated"

    def failures(self, evidence: Findings) -> list[Reason]:
        origin = evidence.origin
        if not origin.ai_generated:
            return [
                Reason(
                    "origin.not-declared", "the manifest does not declare the audio AI-generated"
                )
            ]
        if self.trusted_history and not origin.trusted:
            return [
                Reason(
                    "origin.untrusted-history",
                    "the AI-generated declaration comes from a manifest history that is not "
                    "all from trusted producers",
                )
            ]
        return []


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


@dataclass(frozen=True)
class StatementsSound:
    """Every disclosure and grant the file carries must verify, be trusted for its role, match
    its readable copy, and (for grants) cover this file. A grant out of its term is not a fault
    here: only a policy that needs the grant cares about its term."""

    name: str = "statements"

    def failures(self, evidence: Findings) -> list[Reason]:
        reasons = list(evidence.disclosure.problems) + list(evidence.grants.problems)
        for grant in evidence.grants.grants:
            reasons.extend(p for p in grant.problems if p.code != "grant.not-in-force")
        return reasons


def _disclosure_unusable(d: DisclosureLayer, accept_declared: bool) -> str | None:
    """Why the disclosure cannot be counted for this file, or None when it can."""
    if not d.present:
        return "the file carries no training-data disclosure"
    if d.declared and not accept_declared:
        return "the disclosure is declared from public statements, not signed by the provider"
    if not d.declared and not d.trusted:
        return "the disclosure is not signed by a trusted provider"
    if not d.bound:
        return (
            "the disclosure does not speak for this audio: it is about another model, or it "
            "reached this file through an untrusted manifest or across a new creation"
        )
    return None


@dataclass(frozen=True)
class RequireDisclosure:
    """A training-data disclosure must be signed by a trusted provider (or, with
    ``accept_declared``, at least declared from the provider's public statements) and speak
    for this file: about the model that made its audio, carried by trusted manifests."""

    accept_declared: bool = False
    name: str = "disclosure"

    def failures(self, evidence: Findings) -> list[Reason]:
        why = _disclosure_unusable(evidence.disclosure, self.accept_declared)
        return [Reason("policy.disclosure", why)] if why else []


@dataclass(frozen=True)
class AllowedTraining:
    """The disclosure may declare only these training bases (e.g. licensed, public-domain).

    It counts only a disclosure :class:`RequireDisclosure` would count: a declared one only
    with ``accept_declared``. An empty ``allowed`` allows nothing.
    """

    allowed: frozenset[str]
    accept_declared: bool = False
    name: str = "training"

    def failures(self, evidence: Findings) -> list[Reason]:
        d = evidence.disclosure
        why = _disclosure_unusable(d, self.accept_declared)
        if why:
            return [Reason("policy.training", f"nothing says what the model learned from: {why}")]
        if not self.allowed:
            return [Reason("policy.empty", "the training rule allows no basis; failing closed")]
        if not d.training_bases:
            return [Reason("policy.training", "the disclosure declares no training basis")]
        refused = sorted(set(d.training_bases) - self.allowed)
        if refused:
            allowed = ", ".join(sorted(self.allowed))
            return [
                Reason(
                    "policy.training",
                    f"the disclosure declares {', '.join(refused)}; the policy allows {allowed}",
                )
            ]
        return []


@dataclass(frozen=True)
class RequireGrant:
    """At least one grant must be sound, in force, and permit this ``action`` for this use.

    ``licensors`` (``None``: any trusted licensor) names who must have signed it; an empty set
    allows no one and fails closed.
    """

    purpose: str | None = None
    territory: str | None = None
    channel: str | None = None
    licensors: frozenset[str] | None = None
    action: str = "use"
    name: str = "grant"

    def _describe(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("purpose", self.purpose),
                ("territory", self.territory),
                ("channel", self.channel),
            )
            if value
        ]
        return f"{self.action} for " + (", ".join(parts) or "any purpose")

    def _why_not(self, grant: GrantFinding, day: dt.date | None) -> str | None:
        broken = [p.code for p in grant.problems]
        if broken:
            return ", ".join(broken)
        # Who signed, not who the grant says it is from: any trusted key could write a name.
        if self.licensors is not None and not set(grant.signer_names) & self.licensors:
            signer = ", ".join(grant.signer_names) or "an unnamed key"
            return f"signed by {signer}, not by a licensor the policy allows"
        if not grant.grant.permits(
            action=self.action,
            purpose=self.purpose,
            territory=self.territory,
            channel=self.channel,
            day=day,
        ):
            granted = ", ".join(grant.territories) or "no territory"
            actions = ", ".join(sorted({p.action for p in grant.grant.permissions}))
            unjudged = ""
            if grant.not_understood:
                unjudged = f"; not understood: {'; '.join(grant.not_understood)}"
            return (
                f"permits {actions} for {', '.join(grant.purposes) or 'no purpose'} in "
                f"{granted}, not {self._describe()}{unjudged}"
            )
        return None

    def failures(self, evidence: Findings) -> list[Reason]:
        if self.licensors is not None and not self.licensors:
            return [Reason("policy.empty", f"{self.name}: no licensor is allowed; failing closed")]
        if action_name(self.action) not in ACTIONS:
            return [Reason("policy.invalid", f"{self.name}: unknown action {self.action!r}")]
        day = dt.date.fromisoformat(evidence.checked_at[:10]) if evidence.checked_at else None
        reasons = {g.uid: self._why_not(g, day) for g in evidence.grants.grants}
        if any(why is None for why in reasons.values()):
            return []
        at = (evidence.checked_at or "")[:10]
        detail = "; ".join(f"{uid}: {why}" for uid, why in reasons.items()) or "no grants"
        return [
            Reason(
                "policy.grant",
                f"no valid grant permits {self._describe()} on {at} ({detail})",
            )
        ]


@dataclass(frozen=True)
class AcceptRecovered:
    """``policy``, judged on a manifest recovered by soft binding when the file has none.

    Only a file that carries no manifest at all can stand on recovered evidence, and only
    when the recovered manifest's own signed soft-binding code is this sound's (``bound``):
    the repository that found it is not trusted, the producer's signature over the code is. A
    file whose own manifest fails validation shows tampering, which a manifest recovered for
    a similar sound does not outweigh: it is judged on its own evidence, and fails.
    """

    policy: Policy

    @property
    def name(self) -> str:
        return self.policy.name

    def failures(self, evidence: Findings) -> list[Reason]:
        found = evidence.soft_binding
        if (
            evidence.integrity.state is C2paState.ABSENT
            and found.state is SoftBindingState.RECOVERED
            and found.bound
            and found.recovered is not None
        ):
            return self.policy.failures(found.recovered)
        return self.policy.failures(evidence)


DEFAULT_POLICY: Policy = AllOf(
    rules=(RequireC2paState(C2paState.TRUSTED), StatementsSound()), name="default"
)


def evaluate(policy: Policy, evidence: Findings) -> PolicyLayer:
    reasons = tuple(policy.failures(evidence))
    return PolicyLayer(name=policy.name, passed=not reasons, reasons=reasons)
