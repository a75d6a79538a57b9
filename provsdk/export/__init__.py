"""Exports of verified files into the formats a studio's partners read.

Each export is built from verification reports only: a file that does not pass is left out
and named, and what a report does not vouch for (an untrusted layer) is never written as fact.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.export.ddex import (
        ERN_NAMESPACE,
        ExportResult,
        MessageParty,
        Recording,
        Rejected,
        build_message,
        export_ddex,
        recording_from,
    )
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "ERN_NAMESPACE": "provsdk.export.ddex",
            "ExportResult": "provsdk.export.ddex",
            "MessageParty": "provsdk.export.ddex",
            "Recording": "provsdk.export.ddex",
            "Rejected": "provsdk.export.ddex",
            "build_message": "provsdk.export.ddex",
            "export_ddex": "provsdk.export.ddex",
            "recording_from": "provsdk.export.ddex",
        },
    )

__all__ = [
    "ERN_NAMESPACE",
    "ExportResult",
    "MessageParty",
    "Recording",
    "Rejected",
    "build_message",
    "export_ddex",
    "recording_from",
]
