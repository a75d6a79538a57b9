"""Typed records: what goes into a manifest, what comes back out, and what a check concluded."""

from provsdk.models.disclosure import DeclaredDisclosure, Disclosure
from provsdk.models.origin import (
    DigitalSourceType,
    GenerationRecord,
    SoftwareAgent,
    TrainingMining,
    Use,
)
from provsdk.models.report import (
    C2paState,
    DisclosureLayer,
    Findings,
    GrantFinding,
    GrantsLayer,
    IntegrityLayer,
    OriginLayer,
    PolicyLayer,
    ProducerLayer,
    Reason,
    StatusEntry,
    Verdict,
    VerificationReport,
)
from provsdk.models.store import Certificate, Ingredient, Manifest, ManifestStore
from provsdk.models.track import Track

__all__ = [
    "C2paState",
    "Certificate",
    "DeclaredDisclosure",
    "DigitalSourceType",
    "Disclosure",
    "DisclosureLayer",
    "Findings",
    "GenerationRecord",
    "GrantFinding",
    "GrantsLayer",
    "Ingredient",
    "IntegrityLayer",
    "Manifest",
    "ManifestStore",
    "OriginLayer",
    "PolicyLayer",
    "ProducerLayer",
    "Reason",
    "SoftwareAgent",
    "StatusEntry",
    "Track",
    "TrainingMining",
    "Use",
    "Verdict",
    "VerificationReport",
]
