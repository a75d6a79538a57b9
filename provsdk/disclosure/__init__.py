"""Training-data disclosures: what a model learned from, signed by its provider, and the
Merkle commitment that lets a rightsholder be shown one track is in the training list."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.disclosure.create import create_disclosure
    from provsdk.disclosure.inclusion import InclusionCheck, check_inclusion
    from provsdk.disclosure.merkle import (
        Commitment,
        EntryNotFoundError,
        InclusionProof,
        TrainingList,
        commitment_of,
        read_entries,
        verify_inclusion,
    )
    from provsdk.disclosure.statement import (
        DISCLOSURE_STATEMENT,
        DisclosureCheck,
        SignedDisclosure,
        check_disclosure,
        load_disclosure,
        load_disclosure_token,
        no_training_data,
        parse_disclosure,
        read_disclosure,
        sign_disclosure,
    )
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "create_disclosure": "provsdk.disclosure.create",
            "InclusionCheck": "provsdk.disclosure.inclusion",
            "check_inclusion": "provsdk.disclosure.inclusion",
            "Commitment": "provsdk.disclosure.merkle",
            "EntryNotFoundError": "provsdk.disclosure.merkle",
            "InclusionProof": "provsdk.disclosure.merkle",
            "TrainingList": "provsdk.disclosure.merkle",
            "commitment_of": "provsdk.disclosure.merkle",
            "read_entries": "provsdk.disclosure.merkle",
            "verify_inclusion": "provsdk.disclosure.merkle",
            "DISCLOSURE_STATEMENT": "provsdk.disclosure.statement",
            "DisclosureCheck": "provsdk.disclosure.statement",
            "SignedDisclosure": "provsdk.disclosure.statement",
            "check_disclosure": "provsdk.disclosure.statement",
            "load_disclosure": "provsdk.disclosure.statement",
            "load_disclosure_token": "provsdk.disclosure.statement",
            "no_training_data": "provsdk.disclosure.statement",
            "parse_disclosure": "provsdk.disclosure.statement",
            "read_disclosure": "provsdk.disclosure.statement",
            "sign_disclosure": "provsdk.disclosure.statement",
        },
    )

__all__ = [
    "DISCLOSURE_STATEMENT",
    "Commitment",
    "DisclosureCheck",
    "EntryNotFoundError",
    "InclusionCheck",
    "InclusionProof",
    "SignedDisclosure",
    "TrainingList",
    "check_disclosure",
    "check_inclusion",
    "commitment_of",
    "create_disclosure",
    "load_disclosure",
    "load_disclosure_token",
    "no_training_data",
    "parse_disclosure",
    "read_disclosure",
    "read_entries",
    "sign_disclosure",
    "verify_inclusion",
]
