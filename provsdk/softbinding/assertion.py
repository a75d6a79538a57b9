"""The ``c2pa.soft-binding`` assertion that carries a file's Audio-Code.

The assertion (C2PA 2.x, soft-binding-map) names the algorithm in ``alg`` and lists
``blocks``, each a ``scope`` (for audio, the ``timespan`` in milliseconds the value covers) and
the ``value`` in the algorithm's own format: for ``io.iscc.v0``, the ISCC code as text. c2pa-rs
requires the ``pad`` byte string, so it is always written (one zero byte).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provsdk.softbinding.audio_code import ALG, AudioCode, code_from_iscc

__all__ = ["LABEL", "read_soft_binding", "soft_binding_assertion"]

LABEL = "c2pa.soft-binding"


def soft_binding_assertion(code: AudioCode, *, duration: float | None = None) -> dict[str, Any]:
    """The assertion for a c2pa Builder manifest definition: ``{"label": ..., "data": ...}``.

    ``duration`` (seconds) states the timespan the code covers; without it the scope is empty,
    which means the whole asset.
    """
    scope: dict[str, Any] = {}
    if duration is not None:
        scope["timespan"] = {"start": 0, "end": max(0, round(duration * 1000))}
    data: dict[str, Any] = {
        "alg": ALG,
        "blocks": [{"scope": scope, "value": code.iscc}],
        "pad": [0],
        "name": "ISCC Audio-Code of the Chromaprint fingerprint of the decoded audio",
    }
    return {"label": LABEL, "data": data}


def read_soft_binding(data: Mapping[str, Any]) -> AudioCode | None:
    """The Audio-Code in a soft-binding assertion's data (as c2pa's Reader JSON shows it), or
    ``None`` when it uses another algorithm or carries no usable ISCC Audio-Code."""
    if not isinstance(data, Mapping):
        return None
    blocks = data.get("blocks")
    if not isinstance(blocks, list):
        return None
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        # A block may name its own algorithm; the map's alg is the default.
        alg = block.get("alg", data.get("alg"))
        value = block.get("value")
        if alg != ALG or not isinstance(value, str):
            continue
        try:
            return code_from_iscc(value)
        except ValueError:
            continue
    return None
