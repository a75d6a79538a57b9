"""Catalogues for the catalogue tests: one tiny signed WAV, copied as many times as a test
needs (copies are identical bytes, so they verify alike and cost a copy, not a signing).

A plain module (``from catalogue_files import ...``), like ``cli_runner``.
"""

from __future__ import annotations

import math
import shutil
import struct
import wave
from pathlib import Path

from provsdk.credentials.signers import KeySigner
from provsdk.manifest import ManifestSpec
from provsdk.sign import sign_file

__all__ = ["catalogue", "tiny_signed"]


def tiny_signed(folder: Path, signer: KeySigner, spec: ManifestSpec) -> Path:
    """A signed WAV of 0.1 s of a tone (about 14 kB), in ``folder``."""
    raw = folder / "tiny-unsigned.wav"
    with wave.open(str(raw), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(struct.pack("<h", int(3000 * math.sin(i / 5))) for i in range(800))
        )
    signed = folder / "tiny.wav"
    sign_file(raw, signed, spec, signer)
    raw.unlink()
    return signed


def catalogue(folder: Path, signed: Path, count: int) -> list[Path]:
    """``count`` copies of ``signed`` in ``folder`` (made), named so they sort as made."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = [folder / f"track-{i:05d}.wav" for i in range(count)]
    for copy in copies:
        shutil.copyfile(signed, copy)
    return copies
