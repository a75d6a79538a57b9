"""Verifying catalogues: many files, on every core or on a Ray cluster, with results that
resume and a summary and report people read.

Every engine runs the same per-file step (:func:`~provsdk.catalogue.task.verify_task`) with
the same :class:`~provsdk.catalogue.task.CatalogueSettings`, so a file's record does not
depend on which engine, worker or order verified it.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.catalogue.summary import Summary
    from provsdk.catalogue.task import CatalogueSettings, Job, Outcome, verify_task
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "CatalogueSettings": "provsdk.catalogue.task",
            "Job": "provsdk.catalogue.task",
            "Summary": "provsdk.catalogue.summary",
            "Outcome": "provsdk.catalogue.task",
            "verify_task": "provsdk.catalogue.task",
        },
    )

__all__ = ["CatalogueSettings", "Job", "Outcome", "Summary", "verify_task"]
