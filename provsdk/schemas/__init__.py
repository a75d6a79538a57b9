"""The published JSON Schemas of provsdk's documents, and validation against them.

The schema files in this folder are the contract: docs link to them, and every document read
from a file or a signed statement is validated before it becomes a record.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import urllib.parse
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


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # type mismatches are the "type" keyword's to report
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper() and parsed.tzinfo is not None  # RFC 3339 needs an offset


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and not any(
        c.isspace() for c in value
    )


_LOCAL_REF = "#/$defs/"


def _inlined(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with each local ``$ref`` replaced by a copy of the definition it names.

    The same schema, faster to apply: jsonschema resolves a ``$ref`` through its registry
    every time it meets one (about a third of validating a disclosure). Next to other
    keywords, a ``$ref`` applies beside them (draft 2020-12), as an ``allOf`` does. A ``$ref``
    into itself, or to anything but this schema's ``$defs``, stays as it is.
    """
    if isinstance(node, list):
        return [_inlined(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inlined(v, defs, seen) for k, v in node.items() if k != "$ref"}
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return out
    name = ref.removeprefix(_LOCAL_REF)
    if not ref.startswith(_LOCAL_REF) or name not in defs or name in seen:
        return {**out, "$ref": ref}
    target = _inlined(defs[name], defs, (*seen, name))
    return {**out, "allOf": [*out.get("allOf", []), target]} if out else target


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema

    # Our own checks for the formats the schemas use: jsonschema only enforces date-time and
    # uri when optional packages happen to be installed, and a schema must mean one thing.
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("date")(_is_date)
    formats.checks("date-time")(_is_date_time)
    formats.checks("uri")(_is_uri)
    published = schema(name)
    cls = jsonschema.validators.validator_for(published)
    cls.check_schema(published)
    return cls(_inlined(published, published.get("$defs") or {}), format_checker=formats)


def validate(name: str, data: Any, *, source: str | None = None) -> None:
    """Raise :class:`InputError` naming the first offending field unless ``data`` conforms."""
    validator = _validator(name)
    if validator.is_valid(data):  # the common case, without building any error
        return
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/" + "/".join(str(p) for p in first.absolute_path)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(
            f"does not match the {name} schema at {where}: {first.message}{more}", path=source
        )
