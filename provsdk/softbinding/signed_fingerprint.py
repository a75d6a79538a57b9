"""The whole Chromaprint fingerprint, signed inside the manifest (``io.provsdk.fingerprint``).

The ISCC Audio-Code of the ``c2pa.soft-binding`` assertion is a 64-bit similarity hash: easy to
aim at, and not the same for an excerpt as for the whole track. So the manifest also carries
the fingerprint it was computed from, compressed (about 16 bytes a second of audio). A reader
that recovers a manifest by sound can then confirm, against data the producer signed, that the
file in hand aligns with the sound that was signed, excerpts and trimmed copies included,
instead of taking the repository's word for it. Forging that confirmation means making audio
that Chromaprint hears as the signed sound.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from typing import Any

from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint

__all__ = ["LABEL", "MAX_VALUES", "fingerprint_assertion", "read_signed_fingerprint"]

LABEL = "io.provsdk.fingerprint"
ALGORITHM = "chromaprint-1"  # Chromaprint algorithm 1 at 11025 Hz, as provsdk computes it
# Six hours of audio; a reader refuses more, so a hostile manifest cannot make it inflate
# and align an unbounded array.
MAX_VALUES = int(6 * 3600 / ITEM_SECONDS)


def fingerprint_assertion(fingerprint: Fingerprint) -> dict[str, Any]:
    """The assertion for a c2pa Builder definition: ``{"label": ..., "data": ...}``."""
    packed = zlib.compress(fingerprint.to_bytes(), 9)
    return {
        "label": LABEL,
        "data": {
            "alg": ALGORITHM,
            "item_seconds": ITEM_SECONDS,
            "count": len(fingerprint),
            "values": base64.b64encode(packed).decode("ascii"),
        },
    }


def read_signed_fingerprint(data: Mapping[str, Any]) -> Fingerprint | None:
    """The fingerprint an ``io.provsdk.fingerprint`` assertion carries, or None when it is not
    one provsdk can compare (another algorithm, a bad encoding, too long)."""
    if not isinstance(data, Mapping) or data.get("alg") != ALGORITHM:
        return None
    count, values = data.get("count"), data.get("values")
    if not isinstance(count, int) or not isinstance(values, str) or not 0 < count <= MAX_VALUES:
        return None
    try:
        packed = base64.b64decode(values, validate=True)
        # Inflate no more than the stated count can need: a zip bomb stops here.
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, 4 * count + 1)
    except (ValueError, zlib.error):
        return None
    if len(raw) != 4 * count or inflater.unconsumed_tail:
        return None
    return Fingerprint.from_bytes(raw)
