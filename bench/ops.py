"""The operations being compared, each a zero-argument callable doing one file's work.

Per-file work is inside the callable on both sides: provsdk builds a fresh c2pa signer and
Builder for every file, so the raw baseline builds its Signer, Builder and Context every time
too. One-off setup (loading the key, reading the trust anchors) stays outside on both sides.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa

from bench import raw_c2pa
from bench.inputs import Credentials, bench_spec, raw_definition
from provsdk.sign import sign_file
from provsdk.verify import verify_file

__all__ = [
    "Op",
    "copy_pass",
    "floor",
    "ours_sign",
    "ours_verify",
    "raw_sign",
    "raw_state",
    "raw_verify",
    "sha256_pass",
]

Op = Callable[[], Any]

MIME = "audio/wav"
_CHUNK = 1 << 20
# The raw reader gets the offline settings provsdk uses, so neither side waits on a network.
_OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}


# Whether provsdk's signing computes the soft binding (a Chromaprint pass over the audio).
# Off unless asked, so provsdk and raw c2pa do the same work; bench.streaming measures both.
SOFT_BINDING_ENV = "BENCH_SOFT_BINDING"


def ours_sign(src: Path, dst: Path, creds: Credentials) -> Op:
    spec = bench_spec()
    soft = os.environ.get(SOFT_BINDING_ENV) == "1"
    return lambda: sign_file(src, dst, spec, creds.signer, soft_binding=soft)


def raw_sign(src: Path, dst: Path, creds: Credentials) -> Op:
    definition = raw_definition()
    return lambda: raw_c2pa.sign(definition, creds.key_pem, creds.chain_pem, src, dst, MIME)


def ours_verify(path: Path, creds: Credentials) -> Op:
    return lambda: verify_file(path, trust=creds.trust)


def _raw_reader_json(path: Path, anchors_pem: str) -> str:
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": anchors_pem}, "verify": _OFFLINE})
    with path.open("rb") as fh, c2pa.Reader(MIME, fh, context=context) as reader:
        return str(reader.json())


def raw_verify(path: Path, creds: Credentials) -> Op:
    return lambda: _raw_reader_json(path, creds.anchors_pem)


def raw_state(path: Path, creds: Credentials) -> str:
    """c2pa's own validation_state for ``path`` (a sanity check that outputs are comparable)."""
    return str(json.loads(_raw_reader_json(path, creds.anchors_pem)).get("validation_state"))


def sha256_pass(src: Path) -> Op:
    """Read every byte once and hash it: what any signer or verifier must at least do."""

    def run() -> str:
        digest = hashlib.sha256()
        with src.open("rb") as fin:
            while chunk := fin.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    return run


def copy_pass(src: Path, dst: Path) -> Op:
    """Read every byte once and write it to a new file: what embedding must at least do.

    Plain read/write rather than shutil, which may use sendfile and skip user space. No fsync:
    the floor is CPU and page-cache work, so an fsync in a signing path shows up above it.
    """

    def run() -> None:
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(_CHUNK):
                fout.write(chunk)

    return run


def floor(src: Path, dst: Path) -> Op:
    """The floor: one SHA-256 pass plus one copy, like a signer that hashes, then writes."""
    hash_once, copy_once = sha256_pass(src), copy_pass(src, dst)

    def run() -> None:
        hash_once()
        copy_once()

    return run
