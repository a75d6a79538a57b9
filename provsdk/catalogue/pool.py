"""The local engine: :func:`~provsdk.catalogue.task.verify_task` on every core of this machine.

Workers are forked from a *fork server* that imported c2pa and the verifier once (a spawned
worker spent a third of a second importing them, about a hundred small files' worth of
verification); where the platform has no fork server they are spawned. The server only
imports: c2pa's objects are not fork-safe, and none exists before the fork (a c2pa Context is
made per process id, on a worker's first file). Each worker receives the run's settings and
this process's environment once, through the pool's initializer, and keeps in its process what
they rebuild: the trust stores and an open repository. Jobs go out through a bounded window (a
few per worker, in small batches), so however many files a run has, only that many jobs and
outcomes are alive at once; in input order, the window is also the most a finished outcome
waits behind a slow one.

A worker that dies (a crash in a native library, the kernel's OOM killer) breaks the whole
pool. The run goes on: the jobs that were in flight are run again one at a time in a fresh
single-worker pool, so the file that kills its worker is found, gets an error record naming
the failure, and the others get their real records. Only when files keep killing workers
(:data:`_MAX_CRASHES_IN_A_ROW`: more likely a broken installation or a starved machine than
bad files) does the run stop, with one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING

from provsdk.catalogue.forkserver import worker_context
from provsdk.catalogue.task import (
    EXIT_ERROR,
    CatalogueSettings,
    Job,
    Outcome,
    Renderer,
    error_record,
    verify_task,
)
from provsdk.errors import InputError, ProvsdkError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from provsdk.repository import Repository

__all__ = ["BATCH_FILES", "WINDOW_PER_WORKER", "WorkerCrashError", "run_local"]

# Batches in flight per worker: one running, one waiting, so no worker waits for the parent.
WINDOW_PER_WORKER = 2
BATCH_FILES = 8
BATCH_BYTES = 8 << 20
_MAX_CRASHES_IN_A_ROW = 3
REPOSITORY_KEY_ENV = "PROVSDK_REPOSITORY_API_KEY"


class WorkerCrashError(ProvsdkError):
    """Worker processes keep dying, file after file: the run cannot go on."""

    default_hint = "run with --workers 1 to see the failure in this process"


class Worker:
    """What one process (a pool's worker, a Ray actor, or this one) verifies with: the
    settings, the renderer, and the repository opened once (not once per file: a SQLite
    connection, or an HTTP client with its pool)."""

    def __init__(self, settings: CatalogueSettings, render: Renderer | None) -> None:
        self.settings = settings
        self.render = render
        settings.trust()  # the PEM stores parsed now, once for this process
        self.repository = _open_repository(settings.repository)

    def run(self, job: Job) -> Outcome:
        from provsdk.catalogue.remote import is_uri, verify_remote

        verify = verify_remote if is_uri(job.path) else verify_task
        return verify(
            job.path,
            self.settings,
            prior_sha256=job.prior_sha256,
            render=self.render,
            repository=self.repository,
            sidecar=job.sidecar,
        )


def _open_repository(where: str | None) -> Repository | None:
    # The same repository object a serial run uses, so a recovered layer names it alike.
    if not where:
        return None
    from provsdk.repository import open_repository

    return open_repository(where, api_key=os.environ.get(REPOSITORY_KEY_ENV))


_this_worker: Worker | None = None


def _start_worker(
    settings: CatalogueSettings, render: Renderer | None, environ: dict[str, str]
) -> None:
    global _this_worker
    # A forked worker inherits the fork server's environment, from when the server started;
    # a spawned one had this run's. Made the run's again, so a key set since (the repository's)
    # reaches the worker as it did.
    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)
    _this_worker = Worker(settings, render)


def _work(batch: list[Job]) -> list[Outcome]:
    assert _this_worker is not None, "the pool's initializer did not run"
    return [_this_worker.run(job) for job in batch]


def _crash_record(job: Job, settings: CatalogueSettings) -> Outcome:
    message = (
        "the worker process verifying this file died (a crash, or it was killed); not verified"
    )
    record = error_record(job.path, InputError(message), code="engine.worker-died")
    record["settings"] = settings.fingerprint
    try:
        st = Path(job.path).stat()
        # No digest: a resumed run tries the file again.
        record["file"] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    except OSError:
        record["file"] = {}
    return Outcome(job.path, record, EXIT_ERROR)


def run_local(
    jobs: Iterable[Job],
    settings: CatalogueSettings,
    *,
    workers: int,
    render: Renderer | None = None,
    ordered: bool = True,
) -> Iterator[Outcome]:
    """Verify each job's file; yield its :class:`Outcome` in input order (``ordered``) or as
    files finish.

    ``workers == 1`` verifies in this process; more spawns that many processes, or fewer when
    the run has fewer files (a pool for one file would only cost its start). ``jobs`` is read
    lazily: at most ``2 * workers`` batches of up to :data:`BATCH_FILES` files are in flight.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    stream = iter(jobs)
    head = list(islice(stream, BATCH_FILES * workers)) if workers > 1 else []
    if workers == 1 or len(head) < 2:
        worker = Worker(settings, render)
        for job in chain(head, stream):
            yield worker.run(job)
        return
    workers = min(workers, len(head))
    # Few files: split them evenly; many: full batches.
    batch = max(1, min(BATCH_FILES, len(head) // workers))
    yield from _Pooled(settings, render, workers, batch).run(chain(head, stream), ordered)


def _size(job: Job) -> int:
    try:
        return Path(job.path).stat().st_size
    except OSError:
        return 0


class _Pooled:
    def __init__(
        self, settings: CatalogueSettings, render: Renderer | None, workers: int, batch: int
    ) -> None:
        self.settings = settings
        self.render = render
        self.workers = workers
        self.batch = batch
        self.crashes_in_a_row = 0

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        # Imported here: verifying one file (in this process) does not pay for multiprocessing.
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=worker_context(),
            initializer=_start_worker,
            initargs=(self.settings, self.render, dict(os.environ)),
        )

    def _batches(self, jobs: Iterator[Job]) -> Iterator[list[Job]]:
        # Small files travel in batches (one round trip to a worker costs about what verifying
        # a small file does); a batch closes early at BATCH_BYTES, so big files go one or two
        # at a time and no worker is left with a long tail.
        batch: list[Job] = []
        size = 0
        for job in jobs:
            batch.append(job)
            size += _size(job)
            if len(batch) >= self.batch or size >= BATCH_BYTES:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def run(self, jobs: Iterator[Job], ordered: bool) -> Iterator[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        batches = self._batches(jobs)
        retry: list[Job] | None = None  # a batch a broken pool refused
        inflight: dict[Future[list[Outcome]], list[Job]] = {}  # in input order
        window = WINDOW_PER_WORKER * self.workers
        pool = self._pool(self.workers)
        try:
            while True:
                broken = False
                while len(inflight) < window:
                    batch = retry if retry is not None else next(batches, None)
                    retry = None
                    if batch is None:
                        break
                    try:
                        inflight[pool.submit(_work, batch)] = batch
                    except BrokenProcessPool:  # it broke since the last wait
                        retry, broken = batch, True
                        break
                if not broken:
                    if not inflight:
                        return
                    if ordered:
                        first = next(iter(inflight))
                        wait([first])
                        done = [first]
                    else:
                        finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                        done = [f for f in inflight if f in finished]
                    broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
                if not broken:
                    for future in done:
                        del inflight[future]
                        self.crashes_in_a_row = 0
                        yield from future.result()  # another exception is a bug: it stops
                    continue
                pool.shutdown(wait=True, cancel_futures=True)
                yield from self._recover(inflight)
                inflight.clear()
                pool = self._pool(self.workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _recover(self, inflight: dict[Future[list[Outcome]], list[Job]]) -> Iterator[Outcome]:
        """The in-flight batches of a broken pool, in order: a finished one's outcomes as they
        came, the others' files run again one by one, so the one that kills its worker is
        named and the rest get their real records."""
        from concurrent.futures.process import BrokenProcessPool

        pool: ProcessPoolExecutor | None = None
        try:
            for future, batch in inflight.items():
                if future.done() and future.exception() is None:
                    yield from future.result()
                    continue
                for job in batch:
                    if pool is None:
                        pool = self._pool(1)
                    try:
                        [outcome] = pool.submit(_work, [job]).result()
                    except BrokenProcessPool:
                        pool.shutdown(wait=True)
                        pool = None
                        self.crashes_in_a_row += 1
                        if self.crashes_in_a_row >= _MAX_CRASHES_IN_A_ROW:
                            raise WorkerCrashError(
                                f"{self.crashes_in_a_row} files in a row killed the worker "
                                "process verifying them; stopping",
                                path=job.path,
                            ) from None
                        outcome = _crash_record(job, self.settings)
                    else:
                        self.crashes_in_a_row = 0
                    yield outcome
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
