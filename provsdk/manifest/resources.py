"""Binary data a manifest embeds, which c2pa's JSON report names but does not hold.

c2pa's ``Reader.json()`` shows an ingredient's data (a contract a grant binds, say) as a
reference, ``{"format", "identifier"}``; the bytes are reachable only through the open
Reader. :func:`with_data_digests` hashes them while it is open and writes each digest into
the report, so that :func:`~provsdk.manifest.parse.parse_store` can record what bytes a
manifest carries without anyone holding them. This module opens nothing itself.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, Protocol

from provsdk.manifest.build import CONTRACT, EMBEDDED_DATA

__all__ = ["EmbeddedData", "ResourceReader", "embedded_data", "read_resource", "with_data_digests"]


class ResourceReader(Protocol):
    """What is needed of an open ``c2pa.Reader``."""

    def resource_to_stream(self, uri: str, stream: Any) -> int: ...


@dataclass(frozen=True)
class EmbeddedData:
    """One ``c2pa.embedded-data`` assertion of a manifest, as hashed when it was read.

    Built only by :func:`embedded_data` from a report :func:`with_data_digests` annotated: a
    JSON assertion cannot produce one, so a manifest cannot forge a digest by declaring it.
    """

    uri: str  # the JUMBF URI c2pa names the data by, for reading it again
    media_type: str
    sha256: str  # of the bytes, as read
    size: int
    title: str | None  # of the ingredient it belongs to: a contract's file name
    contract: bool  # its ingredient is marked as a contract a grant binds


class _Sink:
    """A write-only stream for c2pa that keeps a digest and a count, and the bytes only when
    asked to, up to ``limit``: past it the write fails, so c2pa stops."""

    def __init__(self, *, keep: bool = False, limit: int | None = None) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit
        self.kept = io.BytesIO() if keep else None

    def write(self, data: bytes) -> int:
        if self.limit is not None and self.size + len(data) > self.limit:
            raise OSError(f"more than {self.limit} bytes")
        self.digest.update(data)
        self.size += len(data)
        if self.kept is not None:
            self.kept.write(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        target = {0: offset, 1: self.size + offset, 2: self.size + offset}[whence]
        if target != self.size:
            raise OSError("a digest cannot be rewound")
        return self.size

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        return None


def _data_refs(manifest: Any) -> list[dict[str, Any]]:
    ingredients = manifest.get("ingredients") if isinstance(manifest, dict) else None
    refs = []
    for ingredient in ingredients if isinstance(ingredients, list) else []:
        ref = ingredient.get("data") if isinstance(ingredient, dict) else None
        if isinstance(ref, dict) and isinstance(ref.get("identifier"), str):
            refs.append(ref)
    return refs


def with_data_digests(store_json: str, reader: ResourceReader) -> str:
    """``store_json`` with ``sha256`` and ``size`` in each ingredient data reference of the
    active manifest, hashed from the bytes ``reader`` holds.

    Only the active manifest's: it is the one whose grants are judged and carried forward.
    Data that cannot be read gets no digest, so nothing is credited to it. A report without
    any data reference is returned unchanged, without a JSON round trip.
    """
    import c2pa

    data = json.loads(store_json)
    manifests = data.get("manifests") if isinstance(data, dict) else None
    active = manifests.get(data.get("active_manifest")) if isinstance(manifests, dict) else None
    refs = _data_refs(active)
    if not refs:
        return store_json
    for ref in refs:
        # c2pa never writes these keys; clearing them keeps a digest ours or absent.
        ref.pop("sha256", None)
        ref.pop("size", None)
        sink = _Sink()
        try:
            reader.resource_to_stream(ref["identifier"], sink)
        except (c2pa.C2paError, OSError):
            continue
        ref["sha256"], ref["size"] = sink.digest.hexdigest(), sink.size
    return json.dumps(data)


def embedded_data(manifest: dict[str, Any]) -> tuple[tuple[str, EmbeddedData], ...]:
    """The hashed data of a manifest's ingredients, as (assertion label, record) pairs.

    The label is the data assertion's own (``c2pa.embedded-data``, ``…__1``), which c2pa's
    JSON report leaves out of the assertion list.
    """
    found = []
    ingredients = manifest.get("ingredients")
    for ingredient in ingredients if isinstance(ingredients, list) else []:
        if not isinstance(ingredient, dict):
            continue
        ref = ingredient.get("data")
        if not isinstance(ref, dict) or not isinstance(ref.get("sha256"), str):
            continue
        uri = str(ref.get("identifier", ""))
        label = uri.rsplit("/", 1)[-1] if uri.rsplit("/", 1)[-1].startswith(EMBEDDED_DATA) else ""
        kinds = ingredient.get("data_types")
        marked = isinstance(kinds, list) and any(
            isinstance(k, dict) and k.get("type") == CONTRACT for k in kinds
        )
        title = ingredient.get("title")
        record = EmbeddedData(
            uri=uri,
            media_type=str(ref.get("format") or "application/octet-stream"),
            sha256=ref["sha256"],
            size=int(ref.get("size") or 0),
            title=title if isinstance(title, str) else None,
            contract=marked,
        )
        found.append((label or EMBEDDED_DATA, record))
    return tuple(found)


def read_resource(reader: ResourceReader, uri: str, limit: int) -> tuple[str, bytes] | None:
    """The SHA-256 and bytes of the resource ``uri``; None when it cannot be read or holds
    more than ``limit`` bytes (which are then never held at once)."""
    import c2pa

    sink = _Sink(keep=True, limit=limit)
    try:
        reader.resource_to_stream(uri, sink)
    except (c2pa.C2paError, OSError):
        return None
    kept = sink.kept.getvalue() if sink.kept is not None else b""
    # getvalue hands over the buffer without copying it when nothing else holds a view.
    return sink.digest.hexdigest(), kept
