"""The published JSON Schemas of provsdk's documents, and validation against them.

The schema files in this folder are the contract: docs link to them, and every document read
from a file or a signed statement is validated before it becomes a record.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from provsdk.errors import InputError

__all__ = ["SCHEMA_NAMES", "schema", "validate"]

SCHEMA_NAMES = ("training-disclosure", "rights-grant", "policy")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema called ``name`` (one of :data:`SCHEMA_NAMES`)."""
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema(name))
    cls.check_schema(schema(name))
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)


def validate(name: str, data: Any, *, source: str | None = None) -> None:
    """Raise :class:`InputError` naming the first offending field unless ``data`` conforms."""
    errors = sorted(_validator(name).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/" + "/".join(str(p) for p in first.absolute_path)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(
            f"does not match the {name} schema at {where}: {first.message}{more}", path=source
        )
