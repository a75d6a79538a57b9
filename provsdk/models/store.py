"""A C2PA manifest store as read back: the records ``manifest.parse`` builds from c2pa's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provsdk.models.report import C2paState, StatusEntry

__all__ = ["Certificate", "Ingredient", "IngredientDelta", "Manifest", "ManifestStore"]


@dataclass(frozen=True)
class Certificate:
    """The signing certificate as C2PA reports it: subject and issuer fields, serial, validity."""

    subject: dict[str, str] = field(default_factory=dict)
    issuer: dict[str, str] = field(default_factory=dict)
    serial_number: str | None = None
    not_before: str | None = None
    not_after: str | None = None


@dataclass(frozen=True)
class IngredientDelta:
    """How this reading's validation of one ingredient manifest differs from the recorded one."""

    successes: tuple[StatusEntry, ...] = ()
    failures: tuple[StatusEntry, ...] = ()


@dataclass(frozen=True)
class Ingredient:
    title: str | None
    relationship: str | None
    active_manifest: str | None
    format: str | None = None
    # What the signer's c2pa found wrong (and right) with this ingredient's manifest when it
    # was added, with the signer's own anchors.
    failures: tuple[StatusEntry, ...] = ()
    successes: tuple[StatusEntry, ...] = ()


@dataclass(frozen=True)
class Manifest:
    label: str
    title: str | None
    claim_generator: tuple[dict[str, Any], ...]
    assertions: tuple[tuple[str, Any], ...]  # (label, data) in manifest order
    algorithm: str | None
    signed_at: str | None
    certificate: Certificate | None
    ingredients: tuple[Ingredient, ...] = ()
    # The RFC 3161 token over the claim signature, as c2pa reports it: its time and authority.
    timestamped_at: str | None = None
    timestamp_authority: str | None = None

    def assertion(self, label: str) -> Any | None:
        """The data of the first assertion with ``label`` (or ``label`` with a ``__N`` suffix)."""
        for name, data in self.assertions:
            if name == label or name.split("__", 1)[0] == label:
                return data
        return None

    def assertions_named(self, label: str) -> list[Any]:
        return [d for n, d in self.assertions if n == label or n.split("__", 1)[0] == label]


@dataclass(frozen=True)
class ManifestStore:
    state: C2paState
    active: Manifest | None
    manifests: dict[str, Manifest]
    failures: tuple[StatusEntry, ...] = ()
    informational: tuple[StatusEntry, ...] = ()
    successes: tuple[StatusEntry, ...] = ()
    # What c2pa found wrong with ingredient manifests while reading this store.
    ingredient_failures: tuple[StatusEntry, ...] = ()
    # What reading now, with this reader's anchors, changed about each ingredient manifest
    # (by its label): c2pa reports only the differences from what its signer recorded.
    ingredient_deltas: dict[str, IngredientDelta] = field(default_factory=dict)
    # Whether the active manifest's timestamp comes from a trusted authority (None: not judged,
    # because it has none or no authority is trusted).
    timestamp_trusted: bool | None = None
