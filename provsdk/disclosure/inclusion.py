"""Whether one track is in a model's training list: an inclusion proof judged against the
commitment of a signed disclosure, and that disclosure's provider trust."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from provsdk.credentials.trust import TrustStore
from provsdk.disclosure.merkle import Commitment, InclusionProof, verify_inclusion
from provsdk.disclosure.statement import SignedDisclosure, check_disclosure
from provsdk.errors import ConfigurationError

__all__ = ["InclusionCheck", "check_inclusion"]


@dataclass(frozen=True)
class InclusionCheck:
    """The two facts a verdict needs, kept apart: does the proof lead to the committed root,
    and does a trusted provider stand behind that commitment."""

    entry: str
    model: str  # the model whose training list it is, as the disclosure names it
    included: bool
    trusted: bool

    @property
    def passed(self) -> bool:
        """Shown to be in the list of a trusted provider's model: only both together count."""
        return self.included and self.trusted


def check_inclusion(
    disclosure: SignedDisclosure | str,
    proof: InclusionProof,
    provider_trust: TrustStore,
    *,
    at: dt.datetime | None = None,
    timestamps: TrustStore | None = None,
    source: str | None = None,
) -> InclusionCheck:
    """Judge ``proof`` against the training-list commitment ``disclosure`` signs.

    Raises ConfigurationError (naming ``source``) when the disclosure commits to no list.
    """
    checked = check_disclosure(disclosure, provider_trust, at, timestamps=timestamps)
    committed = checked.disclosure.training_list
    if committed is None:
        raise ConfigurationError("the disclosure commits to no training list", path=source)
    commitment = Commitment(
        count=committed.count, root=committed.root, algorithm=committed.algorithm
    )
    return InclusionCheck(
        entry=proof.entry,
        model=checked.disclosure.model.name,
        included=verify_inclusion(proof, commitment),
        trusted=checked.check.trusted,
    )
