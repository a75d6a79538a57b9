"""C2PA manifests: built from records before signing, read back into records after."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
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
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "ACTIONS": "provsdk.manifest.build",
            "CONTRACT": "provsdk.manifest.build",
            "DISCLOSURE": "provsdk.manifest.build",
            "EMBEDDED_DATA": "provsdk.manifest.build",
            "GENERATION": "provsdk.manifest.build",
            "GRANT": "provsdk.manifest.build",
            "TRAINING_MINING": "provsdk.manifest.build",
            "ManifestSpec": "provsdk.manifest.build",
            "manifest_definition": "provsdk.manifest.build",
            "manifest_resources": "provsdk.manifest.build",
            "parse_store": "provsdk.manifest.parse",
        },
    )

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
