"""Print the server's OpenAPI document: ``python -m provsdk.server.openapi > docs/openapi.json``."""

from __future__ import annotations

import json
import sys
from typing import Any

from provsdk.home import ProvsdkHome
from provsdk.server.app import create_app
from provsdk.server.config import ServerConfig

__all__ = ["openapi_document", "openapi_text"]


def openapi_document() -> dict[str, Any]:
    # The document does not depend on the keys or limits; a default config, never started,
    # reads nothing from the home.
    return create_app(ServerConfig(home=ProvsdkHome())).openapi()


def openapi_text(document: dict[str, Any] | None = None) -> str:
    """The document as committed: two-space indents, sorted keys, a final newline."""
    doc = openapi_document() if document is None else document
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_text())
