"""A file's history: the manifests from the active one back to the one that created its audio.

A fact that comes from the history (which model made the audio, what that model was trained
on) may be credited only when every manifest from the creation up to the active one was signed
by a trusted producer. A trusted manifest built on an untrusted one vouches for having opened
that file, not for anything the untrusted one claims; so one untrusted link breaks the chain.

Pure: reads the records ``manifest.parse`` built, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provsdk.manifest.build import ACTIONS
from provsdk.models.report import C2paState
from provsdk.models.store import Ingredient, Manifest, ManifestStore

__all__ = ["MAX_HISTORY", "Link", "created_action", "creation", "history", "unbroken"]

# Bound on how far back through parent ingredients we look for the creating action.
MAX_HISTORY = 32

_TRUSTED = "signingCredential.trusted"
# Recorded failures that only say what the ingredient's signer trusted; this reader decides.
_TRUST_ONLY = frozenset({"signingCredential.untrusted", "signingCredential.ocsp.skipped"})


@dataclass(frozen=True)
class Link:
    """One manifest of the history, and whether a producer this reader trusts signed it."""

    manifest: Manifest
    trusted: bool
    created: dict[str, Any] | None  # its ``c2pa.created`` action, when it made new audio


def created_action(manifest: Manifest) -> dict[str, Any] | None:
    """The ``c2pa.created`` action ``manifest`` opens with, if it does.

    C2PA puts ``c2pa.created`` or ``c2pa.opened`` first; a "created" further down the list
    contradicts the manifest's own first action and is not taken as a creation.
    """
    actions = (manifest.assertion(ACTIONS) or {}).get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    if isinstance(first, dict) and first.get("action") == "c2pa.created":
        return first
    return None


def _ancestor_trusted(store: ManifestStore, via: Ingredient, label: str) -> bool:
    """Whether this reader trusts the signer of the ingredient manifest ``label``.

    c2pa records, in the ingredient, what its signer's c2pa found with the signer's anchors,
    and reports at read time only how this reading differs: trust as read now wins, the
    recorded results stand where nothing changed, and any other failure is a break.
    """
    delta = store.ingredient_deltas.get(label)
    if delta is not None and delta.failures:
        return False
    if any(f.code not in _TRUST_ONLY for f in via.failures):
        return False
    if delta is not None and any(s.code == _TRUSTED for s in delta.successes):
        return True
    return not via.failures and any(s.code == _TRUSTED for s in via.successes)


def history(store: ManifestStore | None) -> tuple[Link, ...]:
    """The active manifest first, then each parent, ending at the creating manifest.

    Shorter when the chain breaks before a creation: a manifest with no parent, with more
    than one (C2PA allows one), with a parent the store lacks, or past :data:`MAX_HISTORY`.
    """
    manifest = store.active if store else None
    if store is None or manifest is None:
        return ()
    trusted = store.state is C2paState.TRUSTED
    links: list[Link] = []
    while len(links) < MAX_HISTORY:
        created = created_action(manifest)
        links.append(Link(manifest, trusted, created))
        parents = [i for i in manifest.ingredients if i.relationship == "parentOf"]
        if created is not None or len(parents) != 1:
            break
        parent = store.manifests.get(parents[0].active_manifest or "")
        if parent is None:
            break
        trusted = _ancestor_trusted(store, parents[0], parent.label)
        manifest = parent
    return tuple(links)


def creation(links: tuple[Link, ...]) -> Link | None:
    """The manifest that created the audio, if the history reaches one."""
    return links[-1] if links and links[-1].created is not None else None


def unbroken(links: tuple[Link, ...], upto: Link) -> bool:
    """Whether every manifest from the active one back to ``upto`` is trusted."""
    for link in links:
        if not link.trusted:
            return False
        if link is upto:
            return True
    return False
