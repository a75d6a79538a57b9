"""What a user of c2pa-python alone writes to sign a file: no provsdk anywhere in the process.

    python bench/raw_c2pa.py DEFINITION.json KEY.pem CHAIN.pem SRC DST [--mime audio/wav]

The baseline ``bench.streaming`` runs as a whole process against ``provsdk sign``, and times
in-process for its context figures (through ``python -m bench.workers sign-raw``). Only c2pa
and the standard library are imported, so the process costs what a c2pa-only script costs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import c2pa

__all__ = ["main", "sign"]


def sign(
    definition: dict[str, Any],
    key_pem: bytes,
    chain_pem: bytes,
    src: Path,
    dst: Path,
    mime: str = "audio/wav",
    tsa_url: str | None = None,
) -> bytes:
    """``c2pa.Builder(definition).sign`` from ``src`` to a new ``dst``, native ES256 signer."""
    url = tsa_url.encode() if tsa_url else None
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, url)
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(definition) as builder,
        src.open("rb") as fin,
        dst.open("w+b") as fout,
    ):
        return bytes(builder.sign(signer, mime, fin, fout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/raw_c2pa.py")
    for name in ("definition", "key", "chain", "src", "dst"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--mime", default="audio/wav")
    args = parser.parse_args(argv)
    definition = json.loads(args.definition.read_text())
    sign(definition, args.key.read_bytes(), args.chain.read_bytes(), args.src, args.dst, args.mime)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
