"""C2PA manifests: built from records before signing, read back into records after."""

from provsdk.manifest.build import (
    ACTIONS,
    CONTRACT,
    DISCLOSURE,
    EMBEDDED_DATA,
    GENERATION,
    GRANT,
    TRAINING_MINING,
    ManifestSpec,
    manifest_definition,
    manifest_resources,
)
from provsdk.manifest.parse import parse_store

__all__ = [
    "ACTIONS",
    "CONTRACT",
    "DISCLOSURE",
    "EMBEDDED_DATA",
    "GENERATION",
    "GRANT",
    "TRAINING_MINING",
    "ManifestSpec",
    "manifest_definition",
    "manifest_resources",
    "parse_store",
]
