"""Signing a file c2pa cannot embed into: its store goes to a ``.c2pa`` sidecar beside it.

c2pa-python 0.38.1 has no handler for OGG, Opus, AIFF, CAF or Matroska/WebM, so
``Builder.sign`` refuses them.
The data-hashed calls (:mod:`provsdk.sign.native`) need no handler: the audio is hashed here,
whole, with no exclusion, and c2pa signs a ``c2pa.hash.data`` assertion over that digest. The
raw store it returns is the sidecar. Reading it back hands the store to c2pa beside the audio
(``Reader(..., manifest_data=...)``), and c2pa hashes the audio again.

A file already described by a sidecar becomes the parent ingredient, as an embedded manifest
does. c2pa cannot read that manifest from the audio itself, so the ingredient is declared with
the store as its ``manifest_data`` and with the validation results c2pa gives for the pair:
what ``Builder.add_ingredient`` records for a file it can read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.trust import TrustStore
from provsdk.errors import InputError, SigningError
from provsdk.manifest.build import PARENT_INGREDIENT
from provsdk.progress import Progress
from provsdk.sign.hashed_copy import copy_and_hash
from provsdk.sign.layout import Layout
from provsdk.sign.native import data_hashed_calls, unavailable_reason
from provsdk.sign.strategy import _builder, _identity, _refuse_changed

__all__ = ["SidecarStrategy"]

# The identifier the parent's store is added under as a builder resource.
_PARENT_STORE = "provsdk-parent-store.c2pa"


class SidecarStrategy:
    """One pass over the audio: copy it to ``dest`` (or, signing in place, only read it) while
    hashing every byte; the signed store is returned for the caller to write as the sidecar."""

    name = "sidecar"

    def __init__(self, parent_store: bytes | None = None) -> None:
        # The source's own sidecar store, as sign_file read and judged it: the parent.
        self.parent_store = parent_store

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path | None,
        *,
        parent: bool,
        anchors: TrustStore | None,
        resources: Sequence[tuple[str, bytes]] = (),
        progress: Progress | None = None,
    ) -> bytes:
        """The signed manifest store for the audio of ``source``, copied to ``dest``; with
        ``dest`` None the audio is left where it is and only hashed (signing in place)."""
        calls = data_hashed_calls()
        if calls is None:
            raise SigningError(
                f"{fmt.extension.upper()} is signed into a sidecar, which needs c2pa's "
                f"data-hashed calls: {unavailable_reason()}",
                path=source,
            )
        try:
            with source.open("rb") as src:
                before = _identity(src)
                size = os.fstat(src.fileno()).st_size
                extra: list[tuple[str, bytes]] = []
                if parent:
                    if self.parent_store is None:
                        raise SigningError("the parent's sidecar store was not read", path=source)
                    store = self.parent_store
                    definition = _with_parent(definition, fmt, source, src, store, anchors)
                    extra.append((_PARENT_STORE, store))
                builder = _builder(
                    definition,
                    fmt,
                    source,
                    src,
                    parent=False,
                    anchors=anchors,
                    resources=(*resources, *extra),
                )
                calls.placeholder(builder, signer.reserve_size())
                # Nothing is excluded: the sidecar's hash covers every byte of the audio.
                whole = Layout(pieces=(range(0, size),), excluded=frozenset(), manifest=0)
                out: IO[bytes]
                with dest.open("w+b") if dest is not None else Path(os.devnull).open("wb") as out:
                    digest = copy_and_hash(whole, src, out, source, progress)
                    out.flush()
                # What was hashed is checked as the source was: in place, the source itself.
                _refuse_changed(fmt, source, src, before, dest if dest is not None else source)
                return calls.sign(builder, signer, digest, [])
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=source) from None


def _with_parent(
    definition: dict[str, Any],
    fmt: AudioFormat,
    source: Path,
    src: IO[bytes],
    store: bytes,
    anchors: TrustStore | None,
) -> dict[str, Any]:
    """``definition`` with the source's sidecar ``store`` declared as its parent ingredient;
    ``src`` is read by c2pa and left at its start."""
    import c2pa

    reader = c2pa.Reader(fmt.mime_type, src, manifest_data=store, context=c2pa_context(anchors))
    try:
        report = json.loads(reader.json())
    finally:
        reader.close()
        src.seek(0)
    ingredient = {
        "title": source.name,
        "format": fmt.mime_type,
        "relationship": "parentOf",
        "label": PARENT_INGREDIENT,
        "active_manifest": report.get("active_manifest"),
        "validation_results": report.get("validation_results", {}),
        "manifest_data": {"format": "application/c2pa", "identifier": _PARENT_STORE},
    }
    ingredients = [*definition.get("ingredients", []), ingredient]
    return {**definition, "ingredients": ingredients}
