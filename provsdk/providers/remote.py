"""The frame every remote provider stands in: the API key, the transports, the job driver
(blocking or awaited), downloads, polling, the download folder and closing.

A remote provider writes its protocol once, as a job of steps (:mod:`provsdk.providers.steps`),
and keeps here only what differs from the others, through a few hooks: the headers that carry
the key, the httpx transport under ours (the commercial adapters read their error dialects
there), where a download comes from and the per-request timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Self, TypedDict, TypeVar, Unpack

import httpx

from provsdk.errors import ConfigurationError, ProviderTimeoutError
from provsdk.providers.base import Capability, Generation, GenerationRequest
from provsdk.providers.steps import (
    Call,
    Download,
    Job,
    Step,
    Wait,
    acall,
    arun_job,
    ask,
    call,
    run_job,
)
from provsdk.providers.transport import (
    DEFAULT_MAX_DOWNLOAD,
    DEFAULT_TIMEOUT,
    AsyncHttpTransport,
    DownloadedFile,
    HttpTransport,
    RetryPolicy,
)

__all__ = ["RemoteOptions", "RemoteProvider", "resolve_api_key"]

T = TypeVar("T")


class RemoteOptions(TypedDict, total=False):
    """The options every remote provider takes, all by keyword and all optional."""

    api_key: str | None  # default: the provider's environment variable (``key_env``)
    timeout: float  # the most seconds one generation may take (default: ``default_timeout``)
    retry: RetryPolicy | None
    max_download: int | None  # bytes (default: the transport's cap)
    transport: httpx.BaseTransport | None  # replaces the network (tests)
    async_transport: httpx.AsyncBaseTransport | None
    sleep: Callable[[float], None]  # replaces the waits between retries and polls (tests)
    async_sleep: Callable[[float], Awaitable[None]]
    download_dir: str | Path | None  # default: a private folder under the temporary folder


def resolve_api_key(api_key: str | None, env: str, provider: str) -> str:
    """The key given, else ``$env``. Unusable: a one-line ConfigurationError that never shows it."""
    key = (api_key if api_key is not None else os.environ.get(env, "")).strip()
    if not key:
        raise ConfigurationError(
            f"the {provider} provider needs an API key", hint=f"set {env} or pass api_key"
        )
    # A header carries ASCII without spaces; anything else would fail mid-request, or worse,
    # split into another header.
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise ConfigurationError(
            f"the {provider} API key holds characters an HTTP header cannot carry",
            hint=f"check {env} or the api_key option",
        )
    return key


class RemoteProvider:
    """A generator behind an HTTP API. See :class:`RemoteOptions` for the options.

    Subclasses write ``_job`` and set ``name``, ``capabilities``, ``key_env`` and
    ``default_timeout``; those that poll a job set ``poll_interval`` and ``max_poll_interval``.
    """

    name: str
    capabilities: frozenset[Capability]
    key_env: str  # the environment variable the key comes from by default
    default_timeout: float
    poll_interval: float  # seconds before the first poll; half as long again each time after
    max_poll_interval: float

    def __init__(self, base_url: str, **options: Unpack[RemoteOptions]) -> None:
        # A missing key fails here, before any transport exists, let alone a request.
        self._key = resolve_api_key(options.get("api_key"), self.key_env, self.name)
        timeout = options.get("timeout", self.default_timeout)
        if not (math.isfinite(timeout) and timeout > 0):
            raise ConfigurationError(f"{self.name}: the timeout must be a positive number")
        self.base_url = base_url
        self.timeout = timeout
        self._retry = options.get("retry")
        cap = options.get("max_download")
        self._max_download = DEFAULT_MAX_DOWNLOAD if cap is None else cap
        self._transport = options.get("transport")
        self._async_transport = options.get("async_transport")
        self._sleep = options.get("sleep", time.sleep)
        self._async_sleep = options.get("async_sleep", asyncio.sleep)
        folder = options.get("download_dir")
        self._download_dir = Path(folder) if folder is not None else None
        self._own_download_dir = False
        # Built now so that a bad base URL fails here, before any generation is asked for.
        self._sync: HttpTransport | None = self._open(base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"  # never the key

    @property
    def host(self) -> str:
        return httpx.URL(self.base_url).host

    # -- what a provider writes, or may change --------------------------------------------------

    def _job(self, request: GenerationRequest) -> Job[Generation]:
        raise NotImplementedError

    def _headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def _http_timeout(self) -> httpx.Timeout:
        return DEFAULT_TIMEOUT

    def _wire(
        self, inner: httpx.BaseTransport | None, url: str, keyed: bool
    ) -> httpx.BaseTransport | None:
        """The httpx transport under ours for ``url`` (None: the network itself)."""
        return inner

    def _async_wire(
        self, inner: httpx.AsyncBaseTransport | None, url: str, keyed: bool
    ) -> httpx.AsyncBaseTransport | None:
        return inner

    def _origin(self, step: Download) -> str | None:
        """Where a download comes from: None for the API itself (with the key), else the origin
        of a link, fetched without it."""
        return None

    # -- transports -------------------------------------------------------------------------------

    def _options(self, keyed: bool) -> dict[str, Any]:
        return {
            "provider": self.name,
            "headers": self._headers(self._key) if keyed else None,
            "timeout": self._http_timeout() if keyed else DEFAULT_TIMEOUT,
            "retry": self._retry,
            "max_download": self._max_download,
        }

    def _open(self, url: str, *, keyed: bool = True) -> HttpTransport:
        wire = self._wire(self._transport, url, keyed)
        return HttpTransport(url, transport=wire, sleep=self._sleep, **self._options(keyed))

    def _async_open(self, url: str, *, keyed: bool = True) -> AsyncHttpTransport:
        wire = self._async_wire(self._async_transport, url, keyed)
        return AsyncHttpTransport(
            url, transport=wire, sleep=self._async_sleep, **self._options(keyed)
        )

    # -- running a job ----------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Generation:
        if self._sync is None:
            self._sync = self._open(self.base_url)
        api = self._sync

        def execute(step: Step) -> object:
            if isinstance(step, Call):
                return call(api, step)
            if isinstance(step, Download):
                return self._download(api, step)
            self._sleep(step.seconds)
            return None

        return run_job(self._job(request), execute)

    def _download(self, api: HttpTransport, step: Download) -> DownloadedFile:
        origin = self._origin(step)
        with contextlib.ExitStack() as stack:
            via = api if origin is None else stack.enter_context(self._open(origin, keyed=False))
            return via.download(
                step.path, dest_dir=self.downloads(), expect=step.expect, sha256=step.sha256
            )

    async def agenerate(self, request: GenerationRequest) -> Generation:
        # A client per call: an httpx.AsyncClient belongs to the event loop that opened it.
        async with self._async_open(self.base_url) as api:

            async def execute(step: Step) -> object:
                if isinstance(step, Call):
                    return await acall(api, step)
                if isinstance(step, Download):
                    return await self._adownload(api, step)
                await self._async_sleep(step.seconds)
                return None

            return await arun_job(self._job(request), execute)

    async def _adownload(self, api: AsyncHttpTransport, step: Download) -> DownloadedFile:
        origin = self._origin(step)
        async with contextlib.AsyncExitStack() as stack:
            link = None if origin is None else self._async_open(origin, keyed=False)
            via = api if link is None else await stack.enter_async_context(link)
            return await via.download(
                step.path, dest_dir=self.downloads(), expect=step.expect, sha256=step.sha256
            )

    def _poll(
        self,
        path: str,
        read: Callable[[httpx.Response], T | None],
        what: str,
        request_id: str | None,
        deadline: float,
    ) -> Job[T]:
        """GET ``path`` until ``read`` makes a result of the answer (it raises for a failed or
        unknown state), backing off between polls; past ``deadline`` (monotonic), time out."""
        interval = self.poll_interval
        while True:
            answer = yield from ask(Call("GET", path))
            done = read(answer)
            if done is not None:
                return done
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeoutError(
                    f"{what} did not finish within {self.timeout:g} s",
                    provider=self.name,
                    request_id=request_id,
                )
            yield Wait(min(interval, remaining))
            interval = min(interval * 1.5, self.max_poll_interval)

    # -- files and lifetime -----------------------------------------------------------------------

    def downloads(self) -> Path:
        """The folder audio is written into (made, private, on first use)."""
        if self._download_dir is None:
            self._download_dir = Path(tempfile.mkdtemp(prefix=f"provsdk-{self.name}-"))
            self._own_download_dir = True
        return self._download_dir

    def close(self) -> None:
        """Close connections and remove the private download folder if it is empty."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._own_download_dir and self._download_dir is not None:
            try:
                self._download_dir.rmdir()
            except OSError:
                return  # not empty: a caller still owns a file in it, so the folder stays
            self._download_dir, self._own_download_dir = None, False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
