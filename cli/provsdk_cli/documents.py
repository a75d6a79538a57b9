"""Reading and writing the JSON and JWS documents the statement commands exchange."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provsdk.errors import InputError
from provsdk.sign.atomic import atomic_output
from provsdk.small_files import DOCUMENT_CAP, read_capped

__all__ = ["read_json", "write_text"]


def read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(read_capped(p, DOCUMENT_CAP, "JSON document").decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", path=p) from None
    if not isinstance(data, dict):
        raise InputError("the JSON document is not an object", path=p)
    return data


def write_text(path: str | Path, text: str) -> None:
    """Write atomically: a document appears whole or not at all."""
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text if text.endswith("\n") else text + "\n", "utf-8")
