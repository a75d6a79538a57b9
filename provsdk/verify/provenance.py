"""The provenance of a file as a tree: its manifests and their ingredients, who signed each.

The active manifest is the root; each ingredient that carries a manifest the store holds
leads to that manifest's node. Who signed a node is shown with whether this reader trusts
it: the active manifest by the store's state, the manifests of its parent chain as
:func:`provsdk.verify.history.history` judges them, and any other (an ingredient that is not
a parent) as not judged. A node is a picture of what a manifest says; trust decides what may
be counted, and that is decided elsewhere.

A hostile store can make manifests name themselves, an ancestor, or one manifest many times
over: each manifest is expanded once (later mentions point back to it), no deeper than
:data:`~provsdk.verify.history.MAX_HISTORY`, with at most :data:`MAX_INGREDIENTS` ingredients
shown per manifest, so the tree is bounded by the store and never loops.

Pure: reads the records ``manifest.parse`` built, no I/O. Text is kept as the file says it
(cut to :data:`MAX_TEXT` characters); whoever shows it makes it inert.
"""

from __future__ import annotations

from typing import Any

from provsdk.manifest.build import ACTIONS
from provsdk.models.report import C2paState
from provsdk.models.store import Certificate, Ingredient, Manifest, ManifestStore
from provsdk.verify.history import MAX_HISTORY, history

__all__ = ["MAX_INGREDIENTS", "MAX_TEXT", "provenance_tree"]

# A real manifest has a handful of ingredients; thousands only come from a hostile file.
MAX_INGREDIENTS = 64
# A title or a name longer than this is cut: the tree travels in every record of a run.
MAX_TEXT = 500


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _agent(value: object) -> str | None:
    """A softwareAgent, which C2PA allows as a string or as {name, version}."""
    if isinstance(value, dict):
        parts = [value.get("name"), value.get("version")]
        return _text(" ".join(str(p) for p in parts if p is not None)) or None
    return _text(value)


def _generators(manifest: Manifest) -> list[dict[str, str | None]]:
    return [
        {"name": _text(g.get("name")), "version": _text(g.get("version"))}
        for g in manifest.claim_generator[:MAX_INGREDIENTS]
        if isinstance(g, dict)
    ]


def _first_action(manifest: Manifest) -> dict[str, str | None] | None:
    data = manifest.assertion(ACTIONS)
    actions = data.get("actions") if isinstance(data, dict) else None
    first = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(first, dict):
        return None
    return {
        "action": _text(first.get("action")),
        "digital_source_type": _text(first.get("digitalSourceType")),
        "software_agent": _agent(first.get("softwareAgent")),
    }


def _signer(cert: Certificate | None) -> dict[str, str | None] | None:
    if cert is None:
        return None
    issuer = ", ".join(f"{k}={v}" for k, v in cert.issuer.items())
    return {
        "common_name": _text(cert.subject.get("CN")),
        "organization": _text(cert.subject.get("O")),
        "issuer": _text(issuer) or None,
    }


class _Builder:
    def __init__(self, store: ManifestStore, trusted: dict[str, bool]) -> None:
        self.store = store
        self.trusted = trusted
        self.expanded: set[str] = set()

    def node(self, manifest: Manifest, ancestors: tuple[str, ...]) -> dict[str, Any]:
        self.expanded.add(manifest.label)
        path = (*ancestors, manifest.label)
        shown = manifest.ingredients[:MAX_INGREDIENTS]
        return {
            "label": _text(manifest.label),
            "title": _text(manifest.title),
            "claim_generator": _generators(manifest),
            "action": _first_action(manifest),
            "signer": _signer(manifest.certificate),
            "signed_at": _text(manifest.signed_at),
            "timestamp": {
                "at": _text(manifest.timestamped_at),
                "authority": _text(manifest.timestamp_authority),
            }
            if manifest.timestamped_at
            else None,
            # True/False: judged by this reader; None: not judged (not on the parent chain).
            "trusted": self.trusted.get(manifest.label),
            "ingredients": [self.ingredient(i, path) for i in shown],
            "ingredients_omitted": len(manifest.ingredients) - len(shown),
        }

    def ingredient(self, item: Ingredient, path: tuple[str, ...]) -> dict[str, Any]:
        label = item.active_manifest
        out: dict[str, Any] = {
            "title": _text(item.title),
            "relationship": _text(item.relationship),
            "format": _text(item.format),
            "manifest_label": _text(label),
            # Why no node follows: "none" (the ingredient had no manifest), "missing" (the
            # store lacks it), "cycle" (it names itself or an ancestor), "shown" (expanded
            # elsewhere in this tree), "too deep" (past MAX_HISTORY).
            "manifest": None,
            "stop": None,
        }
        manifest = self.store.manifests.get(label) if label else None
        if label is None:
            out["stop"] = "none"
        elif manifest is None:
            out["stop"] = "missing"
        elif label in path:
            out["stop"] = "cycle"
        elif label in self.expanded:
            out["stop"] = "shown"
        elif len(path) >= MAX_HISTORY:
            out["stop"] = "too deep"
        else:
            out["manifest"] = self.node(manifest, path)
        return out


def provenance_tree(store: ManifestStore | None) -> dict[str, Any] | None:
    """The active manifest as the root node, JSON-able; None without a manifest."""
    if store is None or store.active is None:
        return None
    trusted = {link.manifest.label: link.trusted for link in history(store)}
    trusted[store.active.label] = store.state is C2paState.TRUSTED
    return _Builder(store, trusted).node(store.active, ())
