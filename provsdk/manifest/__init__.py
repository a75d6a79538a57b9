"""C2PA manifests: built from records before signing, read back into records after."""

from provsdk.manifest.build import (
    ACTIONS,
    CONTRACT,
    DISCLOSURE,
    GENERATION,
    GRANT,
    TRAINING_MINING,
    ManifestSpec,
    manifest_definition,
)
from provsdk.manifest.read import parse_store

__all__ = [
    "ACTIONS",
    "CONTRACT",
    "DISCLOSURE",
    "GENERATION",
    "GRANT",
    "TRAINING_MINING",
    "ManifestSpec",
    "manifest_definition",
    "parse_store",
]
