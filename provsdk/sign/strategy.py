"""How bytes get signed. One strategy today: c2pa's own whole-file path.

The seam exists for the next one: a streaming strategy that hashes while writing and signs
through c2pa's data-hashed placeholder API, in constant memory, for hour-long masters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.trust import TrustStore
from provsdk.manifest.build import PARENT_INGREDIENT

__all__ = ["C2paBuilderStrategy", "SigningStrategy"]


class SigningStrategy(Protocol):
    """Embeds and signs ``definition`` into a copy of ``source`` written to ``dest``."""

    name: str

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path,
        *,
        parent: bool,
        anchors: TrustStore | None,
    ) -> bytes:
        """Returns the manifest bytes. ``dest`` is a temporary file the caller owns.

        With ``parent``, ``source``'s own manifest becomes the parent ingredient, validated
        against ``anchors`` (c2pa records that validation in the new manifest).
        """
        ...


class C2paBuilderStrategy:
    """``c2pa.Builder.sign`` from the source file to the destination file.

    c2pa 0.38.1 reads the source twice and peaks at about 3.5 times the file size in memory
    (see bench/); the planned data-hashed strategy is the one that will stream.
    """

    name = "c2pa-builder"

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path,
        *,
        parent: bool,
        anchors: TrustStore | None,
    ) -> bytes:
        import c2pa

        builder = c2pa.Builder(definition, context=c2pa_context(anchors))
        with source.open("rb") as src:
            if parent:
                ingredient = {
                    "title": source.name,
                    "relationship": "parentOf",
                    "label": PARENT_INGREDIENT,
                }
                builder.add_ingredient(ingredient, fmt.mime_type, src)
                src.seek(0)
            with dest.open("w+b") as out:
                return bytes(builder.sign(signer, fmt.mime_type, src, out))
