"""Catalogue verification as a Ray Data pipeline (``verify --engine ray``, extra ``ray``).

Each file goes through the same :func:`~provsdk.catalogue.task.verify_task` as the local
engine, in a pool of Ray actors: an actor is one worker process that rebuilds the trust
stores once from the settings and verifies batch after batch. Local Ray by default (started
here, no dashboard, no usage statistics, and stopped when the run ends), or a cluster at
``address``, whose workers must have provsdk installed and see the local paths given (URIs
that pyarrow reads, ``s3://...``, reach them anywhere). A local Ray listens on every
interface whatever it is told (it swaps a loopback node address for a reachable one); what
keeps others out is the token authentication it enables, which must stay on.

Jobs come from an iterator of any length, so the driver never holds them all: they are fed
to Ray in bounded chunks, one dataset per chunk (``from_items``: the chunk travels in Ray's
object store, so it works against a remote cluster too, where a job-list file on the driver's
disk would not be readable). A chunk's actors start in a few seconds, so chunks grow from a
small first one (early results) to :data:`MAX_CHUNK`, which makes that start-up negligible.
Outcomes come back in input order, as the pipeline makes them.

Records cross Ray as JSON text, not as Arrow structs: Arrow would unify the records' shapes
into one schema and reorder or fill their keys, and a path that is not UTF-8 would not fit a
string column. So a record is byte for byte the one a serial run writes.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provsdk.catalogue.task import Job, Outcome, Renderer
from provsdk.errors import ConfigurationError

if TYPE_CHECKING:
    from provsdk.catalogue.task import CatalogueSettings

__all__ = ["BATCH_SIZE", "FIRST_CHUNK", "MAX_CHUNK", "run_ray"]

# Files per call of an actor: verifying one is milliseconds to seconds, so small batches keep
# the actors evenly busy and the first results early.
BATCH_SIZE = 8
FIRST_CHUNK = 1024
MAX_CHUNK = 65536
_NEED_RAY = "--engine ray needs the optional extra: pip install 'provsdk[ray]'"


def _need_ray() -> None:
    # By name rather than by catching ImportError, which a bug of ours could also raise.
    if any(importlib.util.find_spec(name) is None for name in ("ray", "pyarrow")):
        raise ConfigurationError(_NEED_RAY)


class _Verifier:
    """One Ray actor: a :class:`~provsdk.catalogue.pool.Worker` (the settings, the trust built
    from them, the repository opened once) lives as long as it does."""

    def __init__(self, settings: CatalogueSettings, render: Renderer | None, cwd: str | None):
        from provsdk.catalogue.pool import Worker

        if cwd is not None:
            # A local Ray's workers share this machine: relative paths mean what they mean to
            # the caller, and records name them as a serial run would.
            os.chdir(cwd)
        self.worker = Worker(settings, render)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        return {"outcome": [self._one(job) for job in batch["job"]]}

    def _one(self, job_json: str) -> str:
        path, prior = json.loads(job_json)
        outcome = self.worker.run(Job(path, prior))
        return json.dumps(
            [outcome.path, outcome.record, outcome.exit, outcome.text, outcome.unchanged]
        )


def _outcome(text: str) -> Outcome:
    path, record, exit_status, rendered, unchanged = json.loads(text)
    return Outcome(path, record, exit_status, rendered, unchanged)


def _chunks(jobs: Iterable[Job], first: int, largest: int) -> Iterator[list[Job]]:
    it = iter(jobs)
    size = first
    while chunk := list(islice(it, size)):
        yield chunk
        size = min(size * 4, largest)


def _connect(ray: Any, address: str | None, workers: int | None) -> bool:
    """Connect to Ray; True when this call started it (and so must shut it down)."""
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address is not None:
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            raise ConfigurationError(
                f"cannot connect to the Ray cluster at {address}: {exc}",
                hint="check the address, and that this machine has the cluster's token",
            ) from exc
        return True
    # Before the local instance starts: its processes read it from their environment.
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        # "local" starts a new instance even when RAY_ADDRESS names a running one.
        address="local",
        num_cpus=workers or os.cpu_count() or 1,
        include_dashboard=False,
        **quiet,
    )
    return True


def _cluster_cpus(ray: Any) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _pipeline(
    jobs: Iterable[Job],
    settings: CatalogueSettings,
    *,
    address: str | None,
    render: Renderer | None,
    workers: int | None,
    first_chunk: int,
    max_chunk: int,
) -> Iterator[Outcome]:
    import ray
    import ray.data

    started = _connect(ray, address, workers)
    # Ray Data logs each dataset's start and end, and that progress bars are off, on the
    # driver's stderr, where the CLI writes its own progress and summary.
    data_log = logging.getLogger("ray.data")
    data_level = data_log.level
    data_log.setLevel(logging.ERROR)
    try:
        size = workers or _cluster_cpus(ray)
        cwd = str(Path.cwd()) if address is None and started else None
        for chunk in _chunks(jobs, first_chunk, max_chunk):
            items = [{"job": json.dumps([job.path, job.prior_sha256])} for job in chunk]
            actors = min(size, math.ceil(len(items) / BATCH_SIZE))
            dataset = ray.data.from_items(items).map_batches(
                _Verifier,
                fn_constructor_args=(settings, render, cwd),
                batch_size=BATCH_SIZE,
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=1,
            )
            context = dataset.context
            context.execution_options.preserve_order = True
            context.enable_progress_bars = False
            context.print_on_execution_start = False
            context.enable_auto_log_stats = False
            del items, chunk
            for row in dataset.iter_rows():
                yield _outcome(row["outcome"])
    finally:
        data_log.setLevel(data_level)
        if started:
            ray.shutdown()


def run_ray(
    jobs: Iterable[Job],
    settings: CatalogueSettings,
    *,
    address: str | None = None,
    render: Renderer | None = None,
    workers: int | None = None,
    first_chunk: int = FIRST_CHUNK,
    max_chunk: int = MAX_CHUNK,
) -> Iterator[Outcome]:
    """Verify ``jobs`` on Ray; the outcomes come in input order, as they are made.

    ``address`` is a cluster's (``ray://host:10001``, ``auto``); without it a local Ray with
    ``workers`` CPUs (default: this machine's) is started for the run and stopped after it.
    ``workers`` is the number of actors verifying at once (default: the cluster's CPUs).
    ``render`` (picklable) makes each ``Outcome.text`` in the worker. Ray starts when the
    first outcome is asked for; closing the iterator early stops what this call started.
    Raises :class:`~provsdk.errors.ConfigurationError` at once when the extra is missing.
    """
    _need_ray()
    if workers is not None and workers < 1:
        raise ConfigurationError(f"workers must be at least 1, not {workers}")
    return _pipeline(
        jobs,
        settings,
        address=address,
        render=render,
        workers=workers,
        first_chunk=first_chunk,
        max_chunk=max_chunk,
    )
