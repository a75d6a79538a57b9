"""Plain-JSON shapes of the report records (stable keys; enums as their values)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provsdk.models.report import VerificationReport

__all__ = ["plain", "report_to_dict"]


def plain(value: Any) -> Any:
    """Dataclasses, enums, tuples → dicts, values, lists; reasons → their "code: message"."""
    from provsdk.models.report import Reason

    if isinstance(value, Reason):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def report_to_dict(report: VerificationReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "format": report.format,
        "verdict": report.verdict.value,
        "reasons": [str(r) for r in report.reasons],
        "notes": [str(r) for r in report.notes],
        "duration": report.duration,
        "c2pa": {
            "state": report.integrity.state.value,
            "manifest": report.integrity.manifest_label,
            "failures": plain(report.integrity.failures),
            "informational": plain(report.integrity.informational),
        },
        "producer": plain(report.producer),
        "origin": {**plain(report.origin), "model_id": report.origin.model_id},
        "disclosure": plain(report.disclosure),
        "grants": {
            "present": report.grants.present,
            "count": report.grants.count,
            "items": [
                {k: v for k, v in plain(g).items() if k != "grant"} for g in report.grants.grants
            ],
        },
        "checked_at": report.checked_at,
        "policy": {"name": report.policy.name, "passed": report.policy.passed},
    }
