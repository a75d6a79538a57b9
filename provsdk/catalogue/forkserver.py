"""The process the local engine forks its workers from, startable before anything is imported.

A worker forked from a server that has already imported c2pa and the verifier starts in a
few milliseconds, where a spawned one spends a third of a second importing them. The server
imports in its own process; started first thing by ``provsdk verify``, that import runs on the
other core while the command is still importing its own modules, instead of after. This module
imports nothing of provsdk, so starting the server costs the command nothing it would not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["PRELOAD", "prestart", "worker_context"]

# What a worker imports to verify its first file, imported once in the fork server. Imports
# only: nothing here makes a c2pa object at import time (see provsdk.c2pa_access). A module
# that fails to import is skipped by the server and imported by the worker as before.
PRELOAD = (
    "provsdk.catalogue.pool",
    "provsdk.catalogue.task",
    "provsdk.catalogue.remote",
    "provsdk.verify.verifier",
    "provsdk.c2pa_access",
    "provsdk.schemas",
    "c2pa",
    "jsonschema",
)


def worker_context() -> BaseContext:
    """The fork server's context where the platform has one, else spawn."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    server = multiprocessing.get_context("forkserver")
    # Read when the server starts (once per process); "__main__" is the default list.
    server.set_forkserver_preload(["__main__", *PRELOAD])
    return server


def prestart() -> None:
    """Start the fork server now, so its imports overlap the caller's; a no-op where there is
    none, or once it runs. Nothing is forked until a pool asks for a worker."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()
