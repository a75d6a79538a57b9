"""The ISCC Audio-Code (``io.iscc.v0`` on the C2PA soft-binding algorithm list) of a
fingerprint, and the Hamming distance that compares two codes.

iscc-core is imported inside :func:`audio_code` only: verifying a file or printing the version
must not load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provsdk.softbinding.fingerprint import Fingerprint

__all__ = ["ALG", "BITS", "AudioCode", "audio_code", "code_from_iscc", "hamming"]

ALG = "io.iscc.v0"
BITS = 64


@dataclass(frozen=True)
class AudioCode:
    """A 64-bit ISCC Content-Code Audio."""

    iscc: str  # "ISCC:..." as iscc-core prints it
    bits: int  # the 64-bit body as an unsigned int, for indexing


def audio_code(fp: Fingerprint) -> AudioCode:
    """The 64-bit Audio-Code of ``fp``, as ``iscc_core.gen_audio_code_v0`` computes it."""
    iscc_core = _iscc_core()

    # iscc-core reads the Chromaprint vector as signed 32-bit integers (as fpcalc prints
    # them); the same bits, reinterpreted.
    signed = [value - (1 << 32) if value >= 1 << 31 else value for value in fp.values]
    iscc = str(iscc_core.gen_audio_code_v0(signed, bits=BITS)["iscc"])
    return code_from_iscc(iscc)


def code_from_iscc(iscc: str) -> AudioCode:
    """The :class:`AudioCode` an ISCC string names; ``ValueError`` unless it is a 64-bit
    Content-Code Audio."""
    iscc_core = _iscc_core()

    text = iscc if iscc.startswith("ISCC:") else f"ISCC:{iscc}"
    try:
        maintype, subtype, _version, _length, digest = iscc_core.iscc_decode(text)
    except Exception as exc:  # iscc-core raises bare ValueError/KeyError on bad base32
        raise ValueError(f"not an ISCC code: {iscc[:80]!r}") from exc
    if (maintype, subtype) != (iscc_core.MT.CONTENT, iscc_core.ST_CC.AUDIO) or len(digest) != 8:
        raise ValueError(f"not a 64-bit ISCC Audio-Code: {iscc[:80]!r}")
    return AudioCode(iscc=text, bits=int.from_bytes(digest, "big"))


def hamming(a: int, b: int) -> int:
    """Bits in which two 64-bit codes differ."""
    return (a ^ b).bit_count()


def _iscc_core() -> Any:
    # Loaded on first use: verifying a file or printing the version must not import it.
    import iscc_core  # type: ignore[import-untyped]

    return iscc_core
