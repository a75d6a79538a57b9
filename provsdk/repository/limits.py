"""What a repository accepts: bounded sizes and well-formed values, checked before anything is
stored or looked up, each refusal one line."""

from __future__ import annotations

from provsdk.audio.containers.jumbf import manifest_store_problem
from provsdk.errors import InputError
from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint

__all__ = [
    "MAX_FINGERPRINT_VALUES",
    "MAX_LABEL_CHARS",
    "MAX_STORE_BYTES",
    "MIN_FINGERPRINT_VALUES",
    "LabelTaken",
    "check_fingerprint",
    "check_label",
    "check_store",
]

# An audio file's manifest store is kilobytes (certificates, statements); 4 MiB leaves room
# for a long history, keeps one hostile publish from filling the disk or the server's memory,
# and is what the HTTP transport reads of one answer (a store must come back as it went in).
MAX_STORE_BYTES = 4 * 1024 * 1024  # = transport.rules.MAX_ANSWER (a test checks), without httpx
# Four hours at Chromaprint's 0.124 s per value (what fingerprint_file makes at most): 455 KiB.
MAX_FINGERPRINT_VALUES = round(4 * 3600 / ITEM_SECONDS)
# A track too short to align (under MIN_OVERLAP) is still published: it is found by its
# soft-binding value, and by nothing else.
MIN_FINGERPRINT_VALUES = 1
# C2PA labels are "urn:c2pa:<uuid>[:generator]"; this bounds what a stranger can make us keep.
MAX_LABEL_CHARS = 256


class LabelTaken(InputError):
    """Another manifest store is already published under this label."""


def check_label(manifest: str) -> str:
    """``manifest`` if it can name a manifest: printable, no spaces, bounded."""
    if not isinstance(manifest, str) or not manifest:
        raise InputError("a manifest label is needed")
    if len(manifest) > MAX_LABEL_CHARS:
        raise InputError(f"the manifest label is over {MAX_LABEL_CHARS} characters")
    if not manifest.isprintable() or any(c.isspace() for c in manifest) or "/" in manifest:
        raise InputError(
            f"the manifest label holds a space, a slash or a control character: {manifest[:80]!a}"
        )
    return manifest


def check_store(store: bytes, manifest: str) -> None:
    """Refuse what cannot be the C2PA manifest store of ``manifest``.

    Only structure is checked (JUMBF boxes, CBOR lengths, the label present): the signatures are
    checked by whoever recovers the store, never here.
    """
    if len(store) > MAX_STORE_BYTES:
        raise InputError(
            f"the manifest store is {len(store)} bytes, over the repository's limit of "
            f"{MAX_STORE_BYTES}"
        )
    if len(store) < 8 or store[4:8] != b"jumb":
        raise InputError("not a C2PA manifest store: it does not start with a JUMBF box")
    problem = manifest_store_problem(store)
    if problem is not None:
        raise InputError(f"the manifest store is malformed: {problem}")
    if manifest.encode() not in store:
        raise InputError(f"the manifest store holds no manifest labelled {manifest!a}")


def check_fingerprint(fingerprint: Fingerprint) -> None:
    count = len(fingerprint.values)
    if count < MIN_FINGERPRINT_VALUES:
        raise InputError("the fingerprint is empty")
    if count > MAX_FINGERPRINT_VALUES:
        raise InputError(
            f"the fingerprint has {count} values, over the repository's limit of "
            f"{MAX_FINGERPRINT_VALUES}"
        )
