"""Plain-JSON shapes of the report records (stable keys; enums as their values).

It knows records only by their shape (dataclasses, enums, reasons), never by name, so the
report module can use it without the two importing each other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from typing import Any

from provsdk.models.reason import Reason

__all__ = ["plain"]


_LEAVES = frozenset({str, int, float, bool})


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    # dataclasses.fields() rebuilds its tuple on every call; a report has dozens of records.
    return tuple(f.name for f in dataclasses.fields(kind))


def plain(value: Any) -> Any:
    """Dataclasses, enums, tuples → dicts, values, lists; reasons → their "code: message"."""
    if value is None or type(value) in _LEAVES:
        return value  # most of a report: answered before the checks below
    if isinstance(value, Reason):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value
