"""A remote generation as a generator of steps, carried out blocking or awaited.

A provider writes its protocol once, as a job that yields steps (a call, a download, a wait)
and receives each step's result; :func:`run_job` and :func:`arun_job` drive it with blocking
or asyncio I/O. The flow (and its clean-up, in ``finally`` blocks of the job) exists once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import httpx

from provsdk.audio.formats import AudioFormat
from provsdk.providers.transport import AsyncHttpTransport, DownloadedFile, HttpTransport

__all__ = [
    "Call",
    "Download",
    "Job",
    "Step",
    "Wait",
    "acall",
    "arun_job",
    "ask",
    "call",
    "fetch",
    "run_job",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """A request to the provider's API. ``idempotent`` as the transport means it: False for a
    POST the provider may act on, which is never sent again once it may have been accepted."""

    method: str
    path: str
    idempotent: bool = True
    json: Any = None
    files: Any = None  # bytes and strings only: they are sent again if the request never left
    headers: Mapping[str, str] | None = None

    def options(self) -> dict[str, Any]:
        """The keywords of a transport's ``request`` for this call."""
        return {
            "idempotent": self.idempotent,
            "json": self.json,
            "files": self.files,
            "headers": self.headers,
        }


@dataclass(frozen=True)
class Download:
    """Audio to stream into the provider's download folder: from the API (``path``) or from a
    link it handed out."""

    path: str
    expect: AudioFormat | None
    sha256: str | None = None


@dataclass(frozen=True)
class Wait:
    seconds: float


Step = Call | Download | Wait
Job = Generator[Step, object, T]


def ask(step: Call) -> Job[httpx.Response]:
    return cast(httpx.Response, (yield step))


def fetch(step: Download) -> Job[DownloadedFile]:
    return cast(DownloadedFile, (yield step))


def call(transport: HttpTransport, step: Call) -> httpx.Response:
    """Carry out a call step with a blocking transport."""
    return transport.request(step.method, step.path, **step.options())


async def acall(transport: AsyncHttpTransport, step: Call) -> httpx.Response:
    """The same, awaited."""
    return await transport.request(step.method, step.path, **step.options())


@dataclass(frozen=True)
class _Done:
    value: object


def _advance(job: Job[T], answer: object) -> Step | _Done:
    """The job's next step, given the last one's answer; or what it returned."""
    try:
        return job.send(answer)
    except StopIteration as done:
        return _Done(done.value)


def run_job(job: Job[T], execute: Callable[[Step], object]) -> T:
    """Drive ``job`` to its result, carrying out each step with blocking ``execute``."""
    with contextlib.closing(job):  # on failure, the job's own clean-up runs
        step = _advance(job, None)
        while not isinstance(step, _Done):
            step = _advance(job, execute(step))
        return cast(T, step.value)


async def arun_job(job: Job[T], execute: Callable[[Step], Awaitable[object]]) -> T:
    """The same, with an awaited ``execute``."""
    with contextlib.closing(job):
        step = _advance(job, None)
        while not isinstance(step, _Done):
            step = _advance(job, await execute(step))
        return cast(T, step.value)
