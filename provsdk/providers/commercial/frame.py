"""The frame the commercial adapters share: API keys, and their work as a generator of steps
(calls, downloads, waits) carried out blocking or awaited over the HTTP transports.

**Declared disclosures.** Stability AI, ElevenLabs and Beatoven.ai sign no training-data
statement. Each adapter says what the provider has said in public about its training data as a
:class:`~provsdk.models.disclosure.DeclaredDisclosure` (the disclosure, its source addresses,
who wrote it down), returned by ``declared_disclosure()`` and put on every generation as
``Generation.declared_disclosure``, never as ``disclosure`` (which means "signed by the
provider") nor as ``unsigned_disclosure`` (which the client would sign with the caller's
provider key, making it the caller's own statement).
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Self, TypeVar

import httpx

from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import (
    ConfigurationError,
    InputError,
    OutputError,
    ProviderResponseError,
)
from provsdk.models.disclosure import DeclaredDisclosure
from provsdk.providers.base import Capability, EncodedAudio, Generation, GenerationRequest
from provsdk.providers.commercial.wire import AsyncWire, Fault, Wire, WireRules, no_dialect
from provsdk.providers.jobs import Call, Download, Job, Step, acall, arun_job, call, run_job
from provsdk.providers.transport import (
    DEFAULT_MAX_DOWNLOAD,
    DEFAULT_TIMEOUT,
    AsyncHttpTransport,
    DownloadedFile,
    HttpTransport,
    RetryPolicy,
    request_id_of,
)
from provsdk.sign.atomic import TEMP_SUFFIX

__all__ = ["CommercialProvider", "resolve_api_key"]

T = TypeVar("T")


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


# -- jobs: an adapter's work as a generator of steps, carried out blocking or awaited ------------


class CommercialProvider:
    """The frame of an adapter: options, key, transports, the job runner, downloaded files.

    ``timeout`` is the most seconds to wait for one generation. ``transport`` /
    ``async_transport`` replace the network (tests); ``sleep`` / ``async_sleep`` replace the
    waits between retries and polls. Audio lands in ``download_dir`` (default: a private folder
    under the system temporary folder, removed on :meth:`close` once it is empty).
    """

    name: str
    capabilities: frozenset[Capability]
    key_env: str  # the environment variable the key comes from by default
    default_base_url: str

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        max_download: int | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        download_dir: str | Path | None = None,
    ) -> None:
        # A missing key fails here, before any transport exists, let alone a request.
        self._key = resolve_api_key(api_key, self.key_env, self.name)
        if not (math.isfinite(timeout) and timeout > 0):
            raise ConfigurationError(f"{self.name}: the timeout must be a positive number")
        self.base_url = base_url or self.default_base_url
        self.timeout = timeout
        self._retry = retry
        self._max_download = max_download if max_download is not None else DEFAULT_MAX_DOWNLOAD
        self._transport, self._async_transport = transport, async_transport
        self._sleep, self._async_sleep = sleep, async_sleep
        self._download_dir = Path(download_dir) if download_dir is not None else None
        self._own_download_dir = False
        # Built now so that a bad base_url fails here, before any generation is asked for.
        self._sync: HttpTransport | None = self._api()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"  # never the key

    # -- what each adapter provides -------------------------------------------------------------

    def _headers(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    def _dialect(self, status: int, body: bytes) -> Fault:
        raise NotImplementedError

    def _job(self, request: GenerationRequest) -> Job[Generation]:
        raise NotImplementedError

    def declared_disclosure(self) -> DeclaredDisclosure:
        """What the provider says in public about its training data, with the sources: put on
        every generation as declared, never as provider-signed."""
        raise NotImplementedError

    def _http_timeout(self) -> httpx.Timeout:
        """Per-request timeouts; a synchronous provider waits ``timeout`` for its answer."""
        return httpx.Timeout(connect=10.0, read=self.timeout, write=60.0, pool=10.0)

    # -- transports ------------------------------------------------------------------------------

    def _rules(self, keyed: bool) -> WireRules:
        if keyed:
            return WireRules(
                self.name, self._dialect, self.key_env, (self._key,), self._max_download
            )
        return WireRules(self.name, no_dialect, None, (), self._max_download)

    def _api(self) -> HttpTransport:
        return HttpTransport(
            self.base_url,
            provider=self.name,
            headers=self._headers(self._key),
            timeout=self._http_timeout(),
            retry=self._retry,
            transport=Wire(self._transport, self._rules(True), self.base_url),
            max_download=self._max_download,
            sleep=self._sleep,
        )

    def _async_api(self) -> AsyncHttpTransport:
        return AsyncHttpTransport(
            self.base_url,
            provider=self.name,
            headers=self._headers(self._key),
            timeout=self._http_timeout(),
            retry=self._retry,
            transport=AsyncWire(self._async_transport, self._rules(True), self.base_url),
            max_download=self._max_download,
            sleep=self._async_sleep,
        )

    def _link(self, url: str) -> str:
        """The origin of a download link, once the link is found acceptable."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise ProviderResponseError(
                "the download link is not a URL", provider=self.name
            ) from None
        # Plain http only where the API itself is plain http (a test server on loopback).
        allowed = {"https", httpx.URL(self.base_url).scheme}
        if target.scheme not in allowed or not target.host or target.userinfo:
            raise ProviderResponseError(
                f"refusing the download link on {target.host or 'no host'} "
                f"({target.scheme or 'no scheme'}): not an https URL without credentials",
                provider=self.name,
            )
        return str(target.copy_with(raw_path=b"/", fragment=None))

    # -- running a job ---------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Generation:
        if self._sync is None:
            self._sync = self._api()
        api = self._sync

        def execute(step: Step) -> object:
            if isinstance(step, Call):
                return call(api, step)
            if isinstance(step, Download):
                return self._download(step)
            self._sleep(step.seconds)
            return None

        return run_job(self._job(request), execute)

    def _download(self, step: Download) -> DownloadedFile:
        origin = self._link(step.path)
        with HttpTransport(
            origin,
            provider=self.name,
            timeout=DEFAULT_TIMEOUT,
            retry=self._retry,
            transport=Wire(self._transport, self._rules(False), origin),
            max_download=self._max_download,
            sleep=self._sleep,
        ) as links:
            return links.download(step.path, dest_dir=self.downloads(), expect=step.expect)

    async def agenerate(self, request: GenerationRequest) -> Generation:
        # A client per call: an httpx.AsyncClient belongs to the event loop that opened it.
        async with self._async_api() as api:

            async def execute(step: Step) -> object:
                if isinstance(step, Call):
                    return await acall(api, step)
                if isinstance(step, Download):
                    return await self._adownload(step)
                await self._async_sleep(step.seconds)
                return None

            return await arun_job(self._job(request), execute)

    async def _adownload(self, step: Download) -> DownloadedFile:
        origin = self._link(step.path)
        async with AsyncHttpTransport(
            origin,
            provider=self.name,
            timeout=DEFAULT_TIMEOUT,
            retry=self._retry,
            transport=AsyncWire(self._async_transport, self._rules(False), origin),
            max_download=self._max_download,
            sleep=self._async_sleep,
        ) as links:
            return await links.download(step.path, dest_dir=self.downloads(), expect=step.expect)

    # -- audio files -----------------------------------------------------------------------------

    def downloads(self) -> Path:
        """The folder audio is written into (made, private, on first use)."""
        if self._download_dir is None:
            self._download_dir = Path(tempfile.mkdtemp(prefix=f"provsdk-{self.name}-"))
            self._own_download_dir = True
        return self._download_dir

    def keep_answer(self, answer: httpx.Response, expect: AudioFormat | None) -> EncodedAudio:
        """The audio an answer carries as its body, written to a checked file of our own."""
        rid = request_id_of(answer.headers)
        content = answer.content
        if len(content) > self._max_download:  # decoded size: the wire capped the encoded one
            raise ProviderResponseError(
                f"the audio is larger than the limit of {self._max_download} bytes",
                provider=self.name,
                request_id=rid,
            )
        folder = self.downloads()
        try:
            fd, name = tempfile.mkstemp(prefix=".answer-", suffix=TEMP_SUFFIX, dir=folder)
        except OSError as exc:
            raise OutputError(
                f"cannot create an audio file: {exc.strerror or exc}", path=folder
            ) from exc
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            return self.checked(path, expect, rid)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise OutputError(
                f"cannot write the audio: {exc.strerror or exc}", path=folder
            ) from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def checked(self, path: Path, expect: AudioFormat | None, rid: str | None) -> EncodedAudio:
        """``path`` as EncodedAudio once it is found to be usable audio of ``expect``."""
        try:
            found = detect_format(path)
            if expect is not None and found is not expect:
                raise ProviderResponseError(
                    f"asked for {expect} audio but received {found}",
                    provider=self.name,
                    request_id=rid,
                )
            info = probe(path)
        except InputError as exc:
            raise ProviderResponseError(
                f"the audio received is not usable: {exc.message}",
                provider=self.name,
                request_id=rid,
            ) from None
        return EncodedAudio(path, found, info.duration, info.sample_rate, info.channels)

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close connections and remove the private download folder if it is empty."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._own_download_dir and self._download_dir is not None:
            try:
                self._download_dir.rmdir()
            except OSError:
                return  # a caller still owns a file in it: the folder stays
            self._download_dir, self._own_download_dir = None, False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
