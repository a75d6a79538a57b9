"""Typed records: what goes into a manifest, what comes back out, and what a check concluded."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
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
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "DeclaredDisclosure": "provsdk.models.disclosure",
            "Disclosure": "provsdk.models.disclosure",
            "DigitalSourceType": "provsdk.models.origin",
            "GenerationRecord": "provsdk.models.origin",
            "SoftwareAgent": "provsdk.models.origin",
            "TrainingMining": "provsdk.models.origin",
            "Use": "provsdk.models.origin",
            "C2paState": "provsdk.models.report",
            "DisclosureLayer": "provsdk.models.report",
            "Findings": "provsdk.models.report",
            "GrantFinding": "provsdk.models.report",
            "GrantsLayer": "provsdk.models.report",
            "IntegrityLayer": "provsdk.models.report",
            "OriginLayer": "provsdk.models.report",
            "PolicyLayer": "provsdk.models.report",
            "ProducerLayer": "provsdk.models.report",
            "Reason": "provsdk.models.report",
            "StatusEntry": "provsdk.models.report",
            "Verdict": "provsdk.models.report",
            "VerificationReport": "provsdk.models.report",
            "Certificate": "provsdk.models.store",
            "Ingredient": "provsdk.models.store",
            "Manifest": "provsdk.models.store",
            "ManifestStore": "provsdk.models.store",
            "Track": "provsdk.models.track",
        },
    )

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
