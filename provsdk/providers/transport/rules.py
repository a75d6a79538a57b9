"""What both transports share: URLs, error verdicts and messages, request ids."""

from __future__ import annotations

import ipaddress
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

import httpx

from provsdk.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentFilteredError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    RateLimitError,
)
from provsdk.providers.transport.retry import (
    Failure,
    Outcome,
    RetryPolicy,
    asks_too_long,
    describe_wait,
    parse_retry_after,
    retry_delay,
    retryable,
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
DEFAULT_MAX_DOWNLOAD = 512 * 1024 * 1024
REQUEST_ID_HEADERS = ("x-request-id", "request-id")  # httpx.Headers compares names caselessly
MESSAGE_LIMIT = 300
MAYBE_PROCESSED = "; the request may have been processed, so it was not sent again"

log = logging.getLogger(__name__)
jitter = random.Random()  # noqa: S311 - jitter only spreads load; it guards no secret


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def request_id_of(headers: httpx.Headers) -> str | None:
    """The request id a server put in its answer's headers, if any."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return one_line(value, 200)
    return None


@dataclass(frozen=True)
class ErrorBody:
    message: str | None = None
    code: str | None = None
    request_id: str | None = None


def error_body(response: httpx.Response) -> ErrorBody:
    """What a JSON error body says: ``{"error": {...}}`` (the protocol), or the common shapes
    ``{"error": "..."}``, ``{"message": "..."}`` and ``{"detail": "..."}``."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return ErrorBody()
    if not isinstance(body, dict):
        return ErrorBody()
    error = body.get("error")
    fields = error if isinstance(error, dict) else body
    message = error if isinstance(error, str) else fields.get("message") or fields.get("detail")
    code, rid = fields.get("code"), fields.get("request_id")
    return ErrorBody(
        message if isinstance(message, str) else None,
        code if isinstance(code, str) else None,
        rid if isinstance(rid, str) else None,
    )


def classify(exc: httpx.RequestError) -> Failure | None:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure.UNSENT
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return Failure.TIMEOUT
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return Failure.LOST
    return None  # a local mistake (protocol misuse, bad proxy, undecodable body): final


@dataclass(frozen=True)
class Call:
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


class RetryLater(Exception):
    """Raised inside an attempt that may be retried; carries the error to raise if it is not."""

    def __init__(self, delay: float, error: ProviderError) -> None:
        super().__init__(error.message)
        self.delay = delay
        self.error = error


# A JSON or error answer is a few kilobytes; audio comes through download(), capped on its own.
MAX_ANSWER = 4 * 1024 * 1024


class Rules:
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
        if base.scheme == "http" and not is_loopback(base.host) and not allow_insecure_http:
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
        return one_line(text)

    def verdict(self, outcome: Outcome, call: Call, error: ProviderError) -> Exception:
        """The exception an attempt ends with: retry later, or ``error`` for good."""
        delay = retry_delay(
            outcome,
            attempt=call.attempt,
            idempotent=call.idempotent,
            policy=self.policy,
            draw=jitter.random(),
        )
        return error if delay is None else RetryLater(delay, error)

    def take(self, body: bytearray, chunk: bytes, response: httpx.Response, call: Call) -> None:
        """Add ``chunk`` to an answer's ``body``, refusing one larger than :data:`MAX_ANSWER`."""
        body += chunk
        if len(body) > MAX_ANSWER:
            raise ProviderResponseError(
                f"{call.label}: the answer is larger than {MAX_ANSWER} bytes; not reading on",
                provider=self.provider,
                request_id=request_id_of(response.headers),
            )

    @staticmethod
    def with_body(response: httpx.Response, body: bytes) -> httpx.Response:
        """``response`` holding ``body``, already decoded, so nothing decodes it twice."""
        skip = {"content-encoding", "content-length", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip]
        return httpx.Response(
            response.status_code, headers=headers, content=body, request=response.request
        )

    def check(self, response: httpx.Response, call: Call) -> httpx.Response:
        """``response`` if it is a success; raises otherwise. Its body must have been read."""
        if response.is_success:
            return response
        status = response.status_code
        body = error_body(response)
        rid = request_id_of(response.headers) or (body.request_id and one_line(body.request_id))
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        outcome = Outcome(status=status, retry_after=retry_after)
        what = f"{call.label} answered HTTP {status}"
        if status == 403:
            # Refused for what was asked, not for who asked: the key may be fine (our server
            # answers 403 to a licensee other than the key's account).
            what += ", the provider refused this request"
        if body.message:
            what += f": {self.clean(body.message)}"
        gave_up = ""
        too_long = asks_too_long(outcome, self.policy) and retryable(outcome, call.idempotent)
        if retry_after is not None and too_long:
            gave_up = (
                f"; the provider asks to wait {describe_wait(retry_after)}, longer than "
                f"the {self.policy.max_retry_after:g} s this client waits, so it was not "
                "retried"
            )
        error: ProviderError
        if status == 401:
            hint = "check the API key"
            error = AuthenticationError(what, provider=self.provider, request_id=rid, hint=hint)
        elif status == 403:
            error = AuthenticationError(what, provider=self.provider, request_id=rid)
        elif status == 429:
            error = RateLimitError(
                what + call.tries() + gave_up,
                provider=self.provider,
                request_id=rid,
                retry_after=retry_after,
            )
        elif body.code == "content_filtered":
            error = ContentFilteredError(what, provider=self.provider, request_id=rid)
        else:
            if status >= 500 and not call.idempotent:
                what += MAYBE_PROCESSED
            error = ProviderResponseError(
                what + call.tries() + gave_up,
                provider=self.provider,
                request_id=rid,
                status=status,
            )
        raise self.verdict(outcome, call, error)

    def failed(
        self, exc: httpx.RequestError, call: Call, response: httpx.Response | None
    ) -> Exception:
        """The exception to raise when an attempt ended in ``exc`` instead of a whole answer;
        ``response`` is the answer whose body was being read, if the headers had arrived."""
        failure = classify(exc)
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
            what += MAYBE_PROCESSED
        what += call.tries()
        status = response.status_code if response is not None else None
        if failure is Failure.TIMEOUT:
            error = ProviderTimeoutError(what, provider=self.provider, request_id=rid)
        else:
            error = ProviderResponseError(
                what, provider=self.provider, request_id=rid, status=status
            )
        return error if failure is None else self.verdict(Outcome(failure=failure), call, error)

    def refuse(self, message: str, call: Call, response: httpx.Response) -> NoReturn:
        """Final: a whole answer that cannot be used (size, type, digest)."""
        raise ProviderResponseError(
            f"{call.label}: {message}",
            provider=self.provider,
            request_id=request_id_of(response.headers),
            status=response.status_code,
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def content_length(headers: httpx.Headers) -> int | None:
    try:
        value = int(headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None
