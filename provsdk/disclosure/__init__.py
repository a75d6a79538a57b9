"""Training-data disclosures: what a model learned from, signed by its provider, and the
Merkle commitment that lets a rightsholder be shown one track is in the training list."""

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
