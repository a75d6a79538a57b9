"""The provenance of a file as a tree: its manifests and their ingredients, who signed each.

Pure: reads the records ``manifest.parse`` built, no I/O. (Contract; implementation pending.)
"""

from __future__ import annotations

from typing import Any

from provsdk.models.store import ManifestStore

__all__ = ["provenance_tree"]


def provenance_tree(store: ManifestStore | None) -> dict[str, Any] | None:
    """The active manifest as the root node, JSON-able; None without a manifest."""
    raise NotImplementedError
