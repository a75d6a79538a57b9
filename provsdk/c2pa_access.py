"""Every c2pa Context and Reader provsdk opens is made here: offline, with the right anchors.

c2pa's defaults fetch remote manifests; ours never reach the network. A Context depends only on
its settings, so one is kept per process for each set of anchors (building one parses every
anchor again, a tenth of a small file's read); c2pa objects are not fork-safe, so a forked child
makes its own.

A format that cannot embed a manifest (OGG, Opus, AIFF, CAF, WebM) is read with its sidecar store
(:mod:`provsdk.sidecar`): the store's bytes are read once, checked as an embedded
store is, and handed to c2pa beside the audio, whose every byte c2pa then hashes.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provsdk.audio.containers.info import AudioInfo
from provsdk.credentials.trust import TrustStore

__all__ = [
    "UnreadableManifest",
    "c2pa_context",
    "is_missing_manifest",
    "open_reader",
    "read_manifest_reports",
    "read_store_reports",
    "sidecar_store",
]

# No remote manifests, no OCSP: verification is offline unless a caller asks otherwise.
OFFLINE_VERIFY = {"remote_manifest_fetch": False, "ocsp_fetch": False}

# (process id, anchors) -> Context. Certificates compare by their DER bytes, so a store with
# other anchors can never be handed a context built for these (and the key costs no PEM
# encoding per file). Few stores are used in one process; the bound only keeps a caller
# cycling through many from growing it without end.
_CONTEXTS: dict[tuple[int, tuple[Any, ...]], Any] = {}
_CONTEXTS_MAX = 32
_CONTEXTS_LOCK = threading.Lock()


def c2pa_context(anchors: TrustStore | None = None) -> Any:
    """An offline c2pa Context; with ``anchors``, they replace c2pa's trust list.

    Shared: one per process and set of anchors. Readers may use it concurrently (c2pa guards a
    shared context's handle); nothing here changes its settings after it is built.
    """
    certs = anchors.anchors if anchors is not None else ()
    key = (os.getpid(), certs)
    context = _CONTEXTS.get(key)
    if context is None:
        with _CONTEXTS_LOCK:
            context = _CONTEXTS.get(key)
            if context is None:
                if len(_CONTEXTS) >= _CONTEXTS_MAX:
                    _CONTEXTS.clear()
                pem = anchors.pem() if anchors is not None and certs else ""
                context = _CONTEXTS[key] = _new_context(pem)
    return context


def _new_context(pem: str) -> Any:
    import c2pa

    settings: dict[str, Any] = {"verify": dict(OFFLINE_VERIFY)}
    if pem:
        settings["trust"] = {"trust_anchors": pem}
    return c2pa.Context.from_dict(settings)


def is_missing_manifest(exc: Exception) -> bool:
    """Whether a c2pa error only means "this file has no manifest"."""
    return "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc)


class UnreadableManifest(Exception):
    """The manifest store is broken in a way c2pa must not be handed (see ``probe``)."""


def sidecar_store(
    path: Path, audio: AudioInfo, sidecar: Path | bytes | None = None
) -> bytes | None:
    """The sidecar manifest store of ``path`` when its format keeps one, else None.

    ``sidecar`` names it (``--manifest``), or is its bytes already read (so that the several
    reads of one verification see one store); by default it is looked for beside the file. A
    store that is structurally broken raises :class:`UnreadableManifest`, as a broken
    embedded one does; a format that embeds its manifest never has a sidecar.
    """
    from provsdk.audio.containers.jumbf import manifest_store_problem
    from provsdk.sidecar import read_sidecar, sidecar_for

    if audio.format.embeds:
        return None
    if isinstance(sidecar, bytes):
        store: bytes | None = sidecar
    else:
        store = read_sidecar(sidecar or sidecar_for(path), named=sidecar is not None)
    if store is None:
        return None
    problem = manifest_store_problem(store)
    if problem is not None:
        raise UnreadableManifest(f"the sidecar manifest: {problem}")
    return store


def read_manifest_reports(
    path: Path,
    audio: AudioInfo,
    anchors: TrustStore | None = None,
    sidecar: Path | bytes | None = None,
) -> tuple[str, str] | None:
    """c2pa's ``json()`` and ``crjson()`` reports of ``path``, or None without a manifest.

    The ``json()`` report has the digest of each embedded data resource of the active manifest
    added (see :func:`~provsdk.manifest.resources.with_data_digests`).

    ``audio`` is what :func:`~provsdk.audio.containers.probe` found; a manifest store it found
    broken raises :class:`UnreadableManifest` without reaching c2pa. Other c2pa errors
    propagate as ``c2pa.C2paError`` for the caller to classify. A format without an embedded
    manifest is read with its sidecar (``sidecar``, or the one beside ``path``).
    """
    import c2pa

    if audio.manifest_problem is not None:
        raise UnreadableManifest(audio.manifest_problem)
    store = sidecar_store(path, audio, sidecar)
    if store is None and not audio.format.embeds:
        return None
    try:
        with path.open("rb") as fh:
            return _reports(audio.format.mime_type, fh, anchors, store)
    except c2pa.C2paError as exc:
        if is_missing_manifest(exc):
            return None
        raise


def read_store_reports(store: bytes, anchors: TrustStore | None = None) -> tuple[str, str]:
    """c2pa's two reports of a bare manifest store (one found apart from its asset).

    c2pa validates the signatures, the certificates against ``anchors`` and every assertion
    it can reach; the hard binding names an asset that is not there, so it reports that binding
    as a mismatch, which the caller must expect. A store :func:`manifest_store_problem` finds
    broken raises :class:`UnreadableManifest` without reaching c2pa.
    """
    from provsdk.audio.containers.jumbf import manifest_store_problem

    problem = manifest_store_problem(store)
    if problem is not None:
        raise UnreadableManifest(problem)
    return _reports("application/c2pa", io.BytesIO(store), anchors)


def _reports(
    mime_type: str, stream: Any, anchors: TrustStore | None, store: bytes | None = None
) -> tuple[str, str]:
    import c2pa

    from provsdk.manifest.resources import with_data_digests

    reader = c2pa.Reader(mime_type, stream, manifest_data=store, context=c2pa_context(anchors))
    try:
        # Embedded data is hashed now: only the open reader can reach its bytes.
        return with_data_digests(reader.json(), reader), reader.crjson()
    finally:
        reader.close()


@contextlib.contextmanager
def open_reader(
    path: Path, audio: AudioInfo, anchors: TrustStore | None = None, sidecar: Path | None = None
) -> Iterator[Any]:
    """An offline c2pa Reader on ``path``, closed on exit: for what the reports only name,
    such as embedded data. Refuses a store ``probe`` found broken, as above; reads a sidecar
    store as :func:`read_manifest_reports` does."""
    import c2pa

    if audio.manifest_problem is not None:
        raise UnreadableManifest(audio.manifest_problem)
    store = sidecar_store(path, audio, sidecar)
    with path.open("rb") as fh:
        reader = c2pa.Reader(
            audio.format.mime_type, fh, manifest_data=store, context=c2pa_context(anchors)
        )
        try:
            yield reader
        finally:
            reader.close()
