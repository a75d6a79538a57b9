"""The blocking and the asyncio transport: the same rules, different I/O."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import tenacity

from provsdk._version import __version__
from provsdk.audio.formats import AudioFormat
from provsdk.providers.transport.download import DownloadedFile, Sink
from provsdk.providers.transport.retry import RetryPolicy
from provsdk.providers.transport.rules import (
    DEFAULT_MAX_DOWNLOAD,
    DEFAULT_TIMEOUT,
    Call,
    RetryLater,
    Rules,
    log,
)

T = TypeVar("T")


def _wait_asked(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    return exc.delay if isinstance(exc, RetryLater) else 0.0


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RetryLater):
        # The message names method, path and cause: never a header.
        log.info("retrying in %.1f s: %s", exc.delay, exc.error.message)


def _retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """Tenacity settings both transports share; each adds its own sleep."""
    return {
        "stop": tenacity.stop_after_attempt(policy.attempts),
        "retry": tenacity.retry_if_exception_type(RetryLater),
        "wait": _wait_asked,
        "before_sleep": _log_retry,
        "reraise": True,
    }


def _client_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"User-Agent": f"provsdk/{__version__}"}
    merged.update(headers or {})
    return merged


class _Base:
    _rules: Rules

    @property
    def provider(self) -> str:
        return self._rules.provider

    @property
    def base_url(self) -> str:
        return str(self._rules.base)

    def __repr__(self) -> str:
        # Never the headers: they hold the API key.
        return f"{type(self).__name__}({self.base_url!r}, provider={self.provider!r})"


class HttpTransport(_Base):
    """Blocking HTTP with the provider rules (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        max_download: int = DEFAULT_MAX_DOWNLOAD,
        sleep: Callable[[float], None] = time.sleep,
        allow_insecure_http: bool = False,
    ) -> None:
        self._rules = Rules(
            base_url,
            provider,
            headers or {},
            retry or RetryPolicy(),
            max_download,
            allow_insecure_http,
        )
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url,
            headers=_client_headers(headers),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect is an answer to report, not to chase with a key
        )

    def _retrying(self, attempt: Callable[[int], T]) -> T:
        try:
            for state in tenacity.Retrying(sleep=self._sleep, **_retry_options(self._rules.policy)):
                with state:
                    return attempt(state.retry_state.attempt_number)
        except RetryLater as last:
            raise last.error from last.__cause__
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request, retried by the rules; a read 2xx response, or a ProviderError.

        ``files`` are re-sent on a retry: give bytes, not open files, when it may be retried.
        """

        def attempt(number: int) -> httpx.Response:
            call = Call(method.upper(), path, idempotent, number)
            request = self._client.build_request(
                call.method,
                self._rules.url(path),
                json=json,
                data=data,
                files=files,
                headers=headers,
            )
            response: httpx.Response | None = None
            body = bytearray()
            try:
                # Streamed so that the headers (the request id) are known if the body stalls,
                # and so that an endless answer is cut off at the cap instead of read whole.
                response = self._client.send(request, stream=True)
                for chunk in response.iter_bytes():
                    self._rules.take(body, chunk, response, call)
            except httpx.RequestError as exc:
                raise self._rules.failed(exc, call, response) from exc
            finally:
                if response is not None:
                    response.close()
            return self._rules.check(self._rules.with_body(response, bytes(body)), call)

        return self._retrying(attempt)

    def download(
        self,
        path: str,
        *,
        dest_dir: Path,
        expect: AudioFormat | None,
        sha256: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DownloadedFile:
        """GET ``path`` into a new file in ``dest_dir``, checked; a retry starts over."""

        def attempt(number: int) -> DownloadedFile:
            call = Call("GET", path, True, number)
            request = self._client.build_request("GET", self._rules.url(path), headers=headers)
            with Sink(self._rules, call, dest_dir, expect, sha256) as sink:
                response: httpx.Response | None = None
                try:
                    response = self._client.send(request, stream=True)
                    if not response.is_success:
                        response.read()  # for the error message
                    sink.begin(response)
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                except httpx.RequestError as exc:
                    raise self._rules.failed(exc, call, response) from exc
                finally:
                    if response is not None:
                        response.close()
                return sink.finish()

        return self._retrying(attempt)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHttpTransport(_Base):
    """The asyncio twin of :class:`HttpTransport`: the same rules, awaited I/O."""

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_download: int = DEFAULT_MAX_DOWNLOAD,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        self._rules = Rules(
            base_url,
            provider,
            headers or {},
            retry or RetryPolicy(),
            max_download,
            allow_insecure_http,
        )
        self._sleep = sleep or asyncio.sleep
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=_client_headers(headers),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    async def _retrying(self, attempt: Callable[[int], Awaitable[T]]) -> T:
        options = _retry_options(self._rules.policy)
        try:
            async for state in tenacity.AsyncRetrying(sleep=self._sleep, **options):
                with state:
                    return await attempt(state.retry_state.attempt_number)
        except RetryLater as last:
            raise last.error from last.__cause__
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """See :meth:`HttpTransport.request`."""

        async def attempt(number: int) -> httpx.Response:
            call = Call(method.upper(), path, idempotent, number)
            request = self._client.build_request(
                call.method,
                self._rules.url(path),
                json=json,
                data=data,
                files=files,
                headers=headers,
            )
            response: httpx.Response | None = None
            body = bytearray()
            try:
                response = await self._client.send(request, stream=True)
                async for chunk in response.aiter_bytes():
                    self._rules.take(body, chunk, response, call)
            except httpx.RequestError as exc:
                raise self._rules.failed(exc, call, response) from exc
            finally:
                if response is not None:
                    await response.aclose()
            return self._rules.check(self._rules.with_body(response, bytes(body)), call)

        return await self._retrying(attempt)

    async def download(
        self,
        path: str,
        *,
        dest_dir: Path,
        expect: AudioFormat | None,
        sha256: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DownloadedFile:
        """See :meth:`HttpTransport.download`. The file writes block briefly: chunks are small."""

        async def attempt(number: int) -> DownloadedFile:
            call = Call("GET", path, True, number)
            request = self._client.build_request("GET", self._rules.url(path), headers=headers)
            with Sink(self._rules, call, dest_dir, expect, sha256) as sink:
                response: httpx.Response | None = None
                try:
                    response = await self._client.send(request, stream=True)
                    if not response.is_success:
                        await response.aread()
                    sink.begin(response)
                    async for chunk in response.aiter_bytes():
                        sink.write(chunk)
                except httpx.RequestError as exc:
                    raise self._rules.failed(exc, call, response) from exc
                finally:
                    if response is not None:
                        await response.aclose()
                return sink.finish()

        return await self._retrying(attempt)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
