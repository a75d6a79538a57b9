"""HTTP for providers: one set of rules for retries, errors and downloads, sync and async.

Both transports run every attempt through the same rules (:class:`_Rules`) and the same pure
decision, :func:`retry_delay`; only the I/O differs. The rules:

* a request that never reached the server (connection refused, connect timeout, no pooled
  connection free) is retried always: nothing can have happened on the other side;
* ``429``, ``5xx``, a connection lost or a timeout *after* the request was sent are retried only
  when the request is idempotent (a GET, or a POST carrying an ``Idempotency-Key``): sending a
  request the server may already have acted on again could do the work twice;
* anything else is final, and so is the last attempt. A ``Retry-After`` (seconds or an
  HTTP-date) is honoured up to ``max_retry_after``; otherwise the wait is exponential with full
  jitter.

Headers given to a transport (the API key) are never logged nor put in an error message; a
server echoing them back has them redacted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import enum
import hashlib
import ipaddress
import json
import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn, TypeVar

import httpx
import tenacity

from provsdk._version import __version__
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentFilteredError,
    InputError,
    OutputError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    RateLimitError,
)
from provsdk.sign.atomic import TEMP_SUFFIX

__all__ = [
    "DEFAULT_MAX_DOWNLOAD",
    "DEFAULT_TIMEOUT",
    "AsyncHttpTransport",
    "DownloadedFile",
    "Failure",
    "HttpTransport",
    "Outcome",
    "RetryPolicy",
    "parse_retry_after",
    "request_id_of",
    "retry_delay",
]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
DEFAULT_MAX_DOWNLOAD = 512 * 1024 * 1024
_REQUEST_ID_HEADERS = ("x-request-id", "request-id")  # httpx.Headers compares names caselessly
_MESSAGE_LIMIT = 300
_MAYBE_PROCESSED = "; the request may have been processed, so it was not sent again"

_log = logging.getLogger(__name__)
_jitter = random.Random()  # noqa: S311 - jitter only spreads load; it guards no secret
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. ``attempts`` counts the first try."""

    attempts: int = 4
    backoff: float = 0.5  # ceiling of the first wait, seconds
    factor: float = 2.0
    max_backoff: float = 20.0
    max_retry_after: float = 60.0  # a server asking for longer is waited on this long only

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("a retry policy needs at least one attempt")
        if min(self.backoff, self.max_backoff, self.max_retry_after) < 0 or self.factor < 1:
            raise ConfigurationError("retry waits must be >= 0 and the factor >= 1")

    def backoff_ceiling(self, attempt: int) -> float:
        """The longest wait after try number ``attempt`` (1-based), before jitter."""
        # The exponent is bounded so a large attempt number cannot overflow a float.
        return min(self.max_backoff, self.backoff * self.factor ** min(attempt - 1, 64))


class Failure(enum.Enum):
    """How an attempt failed when no HTTP answer arrived."""

    UNSENT = "unsent"  # never reached the server: safe to send again
    LOST = "lost"  # the connection broke after the request may have been sent
    TIMEOUT = "timeout"  # no (complete) answer in time, after the request may have been sent


@dataclass(frozen=True)
class Outcome:
    """One attempt, reduced to what the retry rules look at."""

    status: int | None = None
    retry_after: float | None = None  # seconds, already parsed
    failure: Failure | None = None


def _retryable(outcome: Outcome, idempotent: bool) -> bool:
    if outcome.failure is Failure.UNSENT:
        return True
    if outcome.status == 429:
        return True  # refused before any work was done: safe to send again, even a POST
    if not idempotent:
        return False
    if outcome.failure is not None:
        return True
    return (outcome.status or 0) >= 500


def retry_delay(
    outcome: Outcome, *, attempt: int, idempotent: bool, policy: RetryPolicy, draw: float
) -> float | None:
    """Seconds to wait before trying again after ``outcome`` of try ``attempt``, or None.

    ``draw`` is a uniform random number in [0, 1), for full jitter. The number of tries is not
    decided here: the retry loop stops after ``policy.attempts``.
    """
    if not _retryable(outcome, idempotent):
        return None
    if outcome.retry_after is not None:
        return min(outcome.retry_after, policy.max_retry_after)
    return draw * policy.backoff_ceiling(attempt)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """A ``Retry-After`` value in seconds (delta-seconds or an HTTP-date), or None if unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        # RFC 9110 says whole seconds; some servers send fractions, which are as clear.
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def request_id_of(headers: httpx.Headers) -> str | None:
    """The request id a server put in its answer's headers, if any."""
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return _one_line(value, 200)
    return None


@dataclass(frozen=True)
class _ErrorBody:
    message: str | None = None
    code: str | None = None
    request_id: str | None = None


def _error_body(response: httpx.Response) -> _ErrorBody:
    """What a JSON error body says: ``{"error": {...}}`` (the protocol), or the common shapes
    ``{"error": "..."}``, ``{"message": "..."}`` and ``{"detail": "..."}``."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return _ErrorBody()
    if not isinstance(body, dict):
        return _ErrorBody()
    error = body.get("error")
    fields = error if isinstance(error, dict) else body
    message = error if isinstance(error, str) else fields.get("message") or fields.get("detail")
    code, rid = fields.get("code"), fields.get("request_id")
    return _ErrorBody(
        message if isinstance(message, str) else None,
        code if isinstance(code, str) else None,
        rid if isinstance(rid, str) else None,
    )


def _classify(exc: httpx.RequestError) -> Failure | None:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure.UNSENT
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return Failure.TIMEOUT
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return Failure.LOST
    return None  # a local mistake (protocol misuse, bad proxy, undecodable body): final


@dataclass(frozen=True)
class _Call:
    """One attempt of one request."""

    method: str
    path: str
    idempotent: bool
    attempt: int

    @property
    def label(self) -> str:
        # Without the query: a pre-signed URL carries its signature there.
        return f"{self.method} {self.path.split('?', 1)[0]}"

    def tries(self) -> str:
        return f" (after {self.attempt} attempts)" if self.attempt > 1 else ""


class _RetryLater(Exception):
    """Raised inside an attempt that may be retried; carries the error to raise if it is not."""

    def __init__(self, delay: float, error: ProviderError) -> None:
        super().__init__(error.message)
        self.delay = delay
        self.error = error


@dataclass(frozen=True)
class DownloadedFile:
    """A downloaded file, checked: audio of ``format``, ``size`` bytes, with this SHA-256."""

    path: Path
    format: AudioFormat
    size: int
    sha256: str
    request_id: str | None


class _Rules:
    """What the sync and async transports share: URLs, verdicts, error messages."""

    def __init__(
        self,
        base_url: str,
        provider: str,
        headers: Mapping[str, str],
        policy: RetryPolicy,
        max_download: int,
        allow_insecure_http: bool = False,
    ) -> None:
        try:
            base = httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise ConfigurationError(f"{provider}: invalid endpoint URL: {exc}") from None
        if base.scheme not in ("http", "https") or not base.host:
            raise ConfigurationError(f"{provider}: the endpoint must be an http(s) URL")
        if base.userinfo:
            raise ConfigurationError(
                f"{provider}: the endpoint URL must not carry credentials; pass them as headers"
            )
        if base.scheme == "http" and not _is_loopback(base.host) and not allow_insecure_http:
            # An API key sent over plain HTTP to another machine can be read on the way.
            raise ConfigurationError(
                f"{provider}: refusing plain http:// to {base.host}; use https "
                "(plain http is allowed to this machine only)"
            )
        if max_download < 1:
            raise ConfigurationError(f"{provider}: max_download must be positive")
        self.base = base
        self.provider = provider
        self.policy = policy
        self.max_download = max_download
        # Redact whole header values and their words (a bare key from "Bearer <key>").
        words = {w for v in headers.values() for w in (v, *v.split()) if len(w) >= 8}
        self._secrets = sorted(words, key=len, reverse=True)

    def url(self, path: str) -> str:
        """``path`` to request: relative to the endpoint, or absolute on the same origin only,
        so that the headers (the API key) are never sent to another host."""
        try:
            target = httpx.URL(path)
        except httpx.InvalidURL:
            raise ProviderResponseError(f"invalid URL {path!r}", provider=self.provider) from None
        origin = (target.scheme or self.base.scheme, target.host, target.port)
        if target.host and origin != (self.base.scheme, self.base.host, self.base.port):
            raise ProviderResponseError(
                f"refusing to follow a URL outside the endpoint ({target.host})",
                provider=self.provider,
            )
        return path

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _one_line(text)

    def verdict(self, outcome: Outcome, call: _Call, error: ProviderError) -> Exception:
        """The exception an attempt ends with: retry later, or ``error`` for good."""
        delay = retry_delay(
            outcome,
            attempt=call.attempt,
            idempotent=call.idempotent,
            policy=self.policy,
            draw=_jitter.random(),
        )
        return error if delay is None else _RetryLater(delay, error)

    def check(self, response: httpx.Response, call: _Call) -> httpx.Response:
        """``response`` if it is a success; raises otherwise. Its body must have been read."""
        if response.is_success:
            return response
        status = response.status_code
        body = _error_body(response)
        rid = request_id_of(response.headers) or (body.request_id and _one_line(body.request_id))
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        outcome = Outcome(status=status, retry_after=retry_after)
        what = f"{call.label} answered HTTP {status}"
        if body.message:
            what += f": {self.clean(body.message)}"
        error: ProviderError
        if status in (401, 403):
            hint = "check the API key"
            error = AuthenticationError(what, provider=self.provider, request_id=rid, hint=hint)
        elif status == 429:
            error = RateLimitError(
                what + call.tries(), provider=self.provider, request_id=rid, retry_after=retry_after
            )
        elif body.code == "content_filtered":
            error = ContentFilteredError(what, provider=self.provider, request_id=rid)
        else:
            if status >= 500 and not call.idempotent:
                what += _MAYBE_PROCESSED
            error = ProviderResponseError(
                what + call.tries(), provider=self.provider, request_id=rid, status=status
            )
        raise self.verdict(outcome, call, error)

    def failed(
        self, exc: httpx.RequestError, call: _Call, response: httpx.Response | None
    ) -> Exception:
        """The exception to raise when an attempt ended in ``exc`` instead of a whole answer;
        ``response`` is the answer whose body was being read, if the headers had arrived."""
        failure = _classify(exc)
        rid = request_id_of(response.headers) if response is not None else None
        reason = self.clean(str(exc) or type(exc).__name__)
        error: ProviderError
        if failure is Failure.UNSENT:
            what = f"cannot reach {self.base.host} for {call.label}: {reason}{call.tries()}"
            if isinstance(exc, httpx.TimeoutException):
                error = ProviderTimeoutError(what, provider=self.provider, request_id=rid)
            else:
                error = ProviderResponseError(what, provider=self.provider, request_id=rid)
            return self.verdict(Outcome(failure=failure), call, error)
        if failure is None:
            what = f"{call.label}: {reason}"
        elif failure is Failure.TIMEOUT:
            what = f"{call.label}: no answer in time ({reason})"
        elif response is not None:
            what = f"{call.label}: the answer was cut off ({reason})"
        else:
            what = f"{call.label}: the connection was lost ({reason})"
        if failure is not None and not call.idempotent:
            what += _MAYBE_PROCESSED
        what += call.tries()
        status = response.status_code if response is not None else None
        if failure is Failure.TIMEOUT:
            error = ProviderTimeoutError(what, provider=self.provider, request_id=rid)
        else:
            error = ProviderResponseError(
                what, provider=self.provider, request_id=rid, status=status
            )
        return error if failure is None else self.verdict(Outcome(failure=failure), call, error)

    def refuse(self, message: str, call: _Call, response: httpx.Response) -> NoReturn:
        """Final: a whole answer that cannot be used (size, type, digest)."""
        raise ProviderResponseError(
            f"{call.label}: {message}",
            provider=self.provider,
            request_id=request_id_of(response.headers),
            status=response.status_code,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _content_length(headers: httpx.Headers) -> int | None:
    try:
        value = int(headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


class _Sink:
    """A download's temporary file: created in ``dest_dir``, filled, checked, and removed on
    any failure (KeyboardInterrupt and cancellation included), so nothing partial is left."""

    def __init__(
        self,
        rules: _Rules,
        call: _Call,
        dest_dir: Path,
        expect: AudioFormat | None,
        sha256: str | None,
    ) -> None:
        self._rules, self._call, self._dest_dir = rules, call, Path(dest_dir)
        self._expect, self._sha256 = expect, sha256.lower() if sha256 else None
        self._hash = hashlib.sha256()
        self._size = 0
        self._response: httpx.Response | None = None

    def __enter__(self) -> _Sink:
        try:
            fd, name = tempfile.mkstemp(prefix=".download-", suffix=TEMP_SUFFIX, dir=self._dest_dir)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(
                f"cannot create a download file: {reason}", path=self._dest_dir
            ) from exc
        self.path = Path(name)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._file.close()
            self.path.unlink(missing_ok=True)

    def begin(self, response: httpx.Response) -> None:
        """Accept the answer's status and headers; a non-success body must have been read."""
        self._rules.check(response, self._call)
        self._response = response
        length = _content_length(response.headers)
        if length is not None and length > self._rules.max_download:
            self._too_large(response)

    def _too_large(self, response: httpx.Response) -> NoReturn:
        limit = self._rules.max_download
        self._rules.refuse(
            f"the download is larger than the limit of {limit} bytes", self._call, response
        )

    def write(self, chunk: bytes) -> None:
        assert self._response is not None  # begin() comes first
        self._size += len(chunk)
        if self._size > self._rules.max_download:  # counts decoded bytes: no gzip bomb either
            self._too_large(self._response)
        self._hash.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(f"cannot write the download: {reason}", path=self._dest_dir) from exc

    def finish(self) -> DownloadedFile:
        """Check the whole file and hand it over (it is the caller's to remove from now on)."""
        response = self._response
        assert response is not None
        self._file.close()
        expected = _content_length(response.headers)
        if expected is not None and response.num_bytes_downloaded < expected:
            # httpx notices a short body itself; this covers transports that do not.
            exc = httpx.RemoteProtocolError(
                f"received {response.num_bytes_downloaded} of {expected} bytes"
            )
            raise self._rules.failed(exc, self._call, response)
        try:
            found = detect_format(self.path)
        except InputError as exc:
            self._rules.refuse(
                f"the download is not usable audio: {exc.message}", self._call, response
            )
        if self._expect is not None and found is not self._expect:
            self._rules.refuse(
                f"announced {self._expect} audio but sent {found}", self._call, response
            )
        digest = self._hash.hexdigest()
        if self._sha256 is not None and digest != self._sha256:
            self._rules.refuse(
                f"the download's SHA-256 is {digest}, not the announced {self._sha256}",
                self._call,
                response,
            )
        return DownloadedFile(self.path, found, self._size, digest, request_id_of(response.headers))


def _wait_asked(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    return exc.delay if isinstance(exc, _RetryLater) else 0.0


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _RetryLater):
        # The message names method, path and cause: never a header.
        _log.info("retrying in %.1f s: %s", exc.delay, exc.error.message)


def _retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """Tenacity settings both transports share; each adds its own sleep."""
    return {
        "stop": tenacity.stop_after_attempt(policy.attempts),
        "retry": tenacity.retry_if_exception_type(_RetryLater),
        "wait": _wait_asked,
        "before_sleep": _log_retry,
        "reraise": True,
    }


def _client_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"User-Agent": f"provsdk/{__version__}"}
    merged.update(headers or {})
    return merged


class _Base:
    _rules: _Rules

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
        self._rules = _Rules(
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
        except _RetryLater as last:
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
            call = _Call(method.upper(), path, idempotent, number)
            request = self._client.build_request(
                call.method,
                self._rules.url(path),
                json=json,
                data=data,
                files=files,
                headers=headers,
            )
            response: httpx.Response | None = None
            try:
                # Streamed so that the headers (the request id) are known if the body stalls.
                response = self._client.send(request, stream=True)
                response.read()
            except httpx.RequestError as exc:
                raise self._rules.failed(exc, call, response) from exc
            finally:
                if response is not None:
                    response.close()
            return self._rules.check(response, call)

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
            call = _Call("GET", path, True, number)
            request = self._client.build_request("GET", self._rules.url(path), headers=headers)
            with _Sink(self._rules, call, dest_dir, expect, sha256) as sink:
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
        self._rules = _Rules(
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
        except _RetryLater as last:
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
            call = _Call(method.upper(), path, idempotent, number)
            request = self._client.build_request(
                call.method,
                self._rules.url(path),
                json=json,
                data=data,
                files=files,
                headers=headers,
            )
            response: httpx.Response | None = None
            try:
                response = await self._client.send(request, stream=True)
                await response.aread()
            except httpx.RequestError as exc:
                raise self._rules.failed(exc, call, response) from exc
            finally:
                if response is not None:
                    await response.aclose()
            return self._rules.check(response, call)

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
            call = _Call("GET", path, True, number)
            request = self._client.build_request("GET", self._rules.url(path), headers=headers)
            with _Sink(self._rules, call, dest_dir, expect, sha256) as sink:
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
