"""How bytes get signed. One strategy today: c2pa's own whole-file path.

The seam exists for the next one: a streaming strategy that hashes while writing and signs
through c2pa's data-hashed placeholder API, in constant memory, for hour-long masters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import c2pa_context
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
    ) -> bytes:
        """Returns the manifest bytes. ``dest`` is a temporary file the caller owns."""
        ...


class C2paBuilderStrategy:
    """``c2pa.Builder.sign`` from the source file to the destination file, streamed by c2pa."""

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
    ) -> bytes:
        import c2pa

        builder = c2pa.Builder(definition, context=c2pa_context())
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
