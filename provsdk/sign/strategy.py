"""How bytes get signed. One strategy today: c2pa's own whole-file path.

The seam exists for the next one: a streaming strategy that hashes while writing and signs
through c2pa's data-hashed placeholder API, in constant memory, for hour-long masters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.trust import TrustStore
from provsdk.manifest.build import PARENT_INGREDIENT

__all__ = ["C2paBuilderStrategy", "SigningStrategy", "WatchedFile"]


class WatchedFile:
    """A file for c2pa to write to that remembers the OSError of a failed write.

    c2pa's stream callbacks turn a write failure (a full disk, a file size limit) into a vague
    "embedding error"; keeping the real cause lets us say what went wrong with the output.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.error: OSError | None = None

    def read(self, size: int = -1) -> bytes:
        return self._fh.read(size)

    def write(self, data: bytes) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def flush(self) -> None:
        try:
            self._fh.flush()
        except OSError as exc:
            self.error = exc
            raise


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
        resources: Sequence[tuple[str, bytes]] = (),
    ) -> bytes:
        """Returns the manifest bytes. ``dest`` is a temporary file the caller owns.

        With ``parent``, ``source``'s own manifest becomes the parent ingredient, validated
        against ``anchors`` (c2pa records that validation in the new manifest). ``resources``
        are the binary data the definition names by identifier (contracts), to embed.
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
        resources: Sequence[tuple[str, bytes]] = (),
    ) -> bytes:
        import c2pa

        builder = c2pa.Builder(definition, context=c2pa_context(anchors))
        for identifier, content in resources:
            # BytesIO over bytes shares them rather than copying: contracts run to 10 MiB.
            builder.add_resource(identifier, io.BytesIO(content))
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
                watched = WatchedFile(out)
                try:
                    return bytes(builder.sign(signer, fmt.mime_type, src, watched))
                except c2pa.C2paError:
                    if watched.error is not None:
                        raise watched.error from None  # the output's own failure, not c2pa's
                    raise
