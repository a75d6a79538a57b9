"""The error dialects of commercial APIs, read by a small httpx transport under ours.

Each provider words its error answers its own way. An adapter places this *wire* under its
:class:`~provsdk.providers.transport.HttpTransport`:

* an error answer's body (small, and read by the transport anyway) is parsed by the provider's
  dialect. A final refusal the generic rules would misname (a moderation refusal sent as 403,
  a 401 whose hint should name the adapter's key variable, an exhausted quota) becomes the
  adapter's typed error at once; anything else is rewritten into the transport's own error
  shape, so the transport's rules decide what happens (retry, message, request id, redaction);
* a successful answer's body is capped at ``max_download`` bytes while it streams, because the
  synchronous providers send the audio itself as the answer to their POST.

Retrying stays the transport's business: the wire never retries and never sleeps.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx

from provsdk.errors import (
    AuthenticationError,
    ContentFilteredError,
    ProviderError,
    ProviderResponseError,
)
from provsdk.providers.transport import (
    request_id_of,
)

__all__ = [
    "AsyncWire",
    "Fault",
    "Wire",
    "WireRules",
    "json_object",
    "no_dialect",
    "text_of",
]

T = TypeVar("T")

# An error body longer than this is cut: what matters is at its start, and a hostile server
# must not make us hold a large one in memory.
_ERROR_BODY_LIMIT = 64 * 1024
_MESSAGE_LIMIT = 300
_REWRITTEN = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})


def json_object(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None when it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def text_of(value: object) -> str | None:
    """``value`` when it is a non-empty string, flattened to one line; else None."""
    if not isinstance(value, str):
        return None
    flat = " ".join(value.split())
    return flat or None


# -- the wire: provider error dialects under the transport ---------------------------------------


@dataclass(frozen=True)
class Fault:
    """What a provider's error answer says, in provsdk's terms.

    ``kind`` is "refused" for a moderation refusal (ContentFilteredError) and "quota" for an
    account out of credits; None leaves the status to the generic rules. ``retry_after`` is the
    wait the provider documents for this answer, for the transport to honour when the answer
    itself names none.
    """

    message: str | None = None
    request_id: str | None = None
    kind: Literal["refused", "quota"] | None = None
    retry_after: float | None = None


# What a provider's error answer says, from its status and its body (when that is a JSON object).
Dialect = Callable[[int, dict[str, Any]], Fault]


def no_dialect(status: int, data: dict[str, Any]) -> Fault:
    """For download links: their hosts (object stores) owe us no particular error shape."""
    return Fault()


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MESSAGE_LIMIT else flat[: _MESSAGE_LIMIT - 1] + "…"


@dataclass(frozen=True)
class WireRules:
    provider: str
    dialect: Dialect
    key_env: str | None  # None: nothing secret is sent (a download link)
    secrets: tuple[str, ...]
    max_answer: int

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _one_line(text)

    def judge(self, request: httpx.Request, answer: httpx.Response, body: bytes) -> httpx.Response:
        """Raise the adapter's error for a final refusal; else the answer in the transport's
        error shape, for the transport to judge."""
        status = answer.status_code
        data = json_object(body)
        fault = Fault() if data is None else self.dialect(status, data)
        rid = request_id_of(answer.headers) or (fault.request_id and _one_line(fault.request_id))
        what = f"{request.method} {request.url.path} answered HTTP {status}"
        if fault.message:
            what += f": {self.clean(fault.message)}"
        # 429 and 5xx may be worth another try: those are the transport's to decide.
        if status != 429 and status < 500:
            if fault.kind == "refused":
                raise ContentFilteredError(what, provider=self.provider, request_id=rid)
            if fault.kind == "quota":
                raise ProviderResponseError(
                    what,
                    provider=self.provider,
                    request_id=rid,
                    status=status,
                    hint="the account has no credits or quota left for this request",
                )
            if status in (401, 403) and self.key_env is not None:
                hint = f"check the API key ({self.key_env})"
                raise AuthenticationError(what, provider=self.provider, request_id=rid, hint=hint)
            if status in (401, 403):
                raise ProviderResponseError(
                    f"{what}; the download link was refused (it may have expired)",
                    provider=self.provider,
                    request_id=rid,
                    status=status,
                )
        error = {"message": fault.message, "request_id": fault.request_id}
        content = json.dumps({"error": {k: v for k, v in error.items() if v}}).encode()
        headers = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _REWRITTEN]
        headers.append(("content-type", "application/json"))
        if fault.retry_after is not None and "retry-after" not in answer.headers:
            headers.append(("retry-after", f"{fault.retry_after:g}"))
        return httpx.Response(status, headers=headers, content=content, request=request)

    def too_large(self, request: httpx.Request, answer: httpx.Response) -> ProviderError:
        return ProviderResponseError(
            f"{request.method} {request.url.path}: the answer is larger than the limit of "
            f"{self.max_answer} bytes",
            provider=self.provider,
            request_id=request_id_of(answer.headers),
            status=answer.status_code,
        )

    def passed(
        self,
        request: httpx.Request,
        answer: httpx.Response,
        stream: httpx.SyncByteStream | httpx.AsyncByteStream,
    ) -> httpx.Response:
        """A success as the transport gets it: the same answer, its body read through
        ``stream`` (which caps it)."""
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=stream,
            extensions=answer.extensions,
            request=request,
        )

    def announced_too_large(self, answer: httpx.Response) -> bool:
        try:
            length = int(answer.headers.get("content-length", ""))
        except ValueError:
            return False
        return length > self.max_answer


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, cap: int, error: ProviderError) -> None:
        self._inner, self._cap, self._error = inner, cap, error

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise self._error
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncCappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, cap: int, error: ProviderError) -> None:
        self._inner, self._cap, self._error = inner, cap, error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise self._error
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _head(chunks: Iterator[bytes]) -> bytes:
    """The start of an error answer's body: enough to read, never all a hostile server sends."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) >= _ERROR_BODY_LIMIT:
            break
    return bytes(body[:_ERROR_BODY_LIMIT])


async def _ahead(chunks: AsyncIterator[bytes]) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= _ERROR_BODY_LIMIT:
            break
    return bytes(body[:_ERROR_BODY_LIMIT])


def _env_proxy(url: httpx.URL) -> str | None:
    """The proxy the environment names for ``url``, as httpx would pick it without an explicit
    transport (which the wire is); loopback is never proxied."""
    if url.host in ("127.0.0.1", "localhost", "::1") or urllib.request.proxy_bypass(url.host):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class Wire(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport | None, rules: WireRules, url: str) -> None:
        self._owned = inner is None  # an injected transport is its owner's to close
        self._inner = inner or httpx.HTTPTransport(proxy=_env_proxy(httpx.URL(url)))
        self._rules = rules

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self._inner.handle_request(request)
        if answer.status_code >= 400:
            with contextlib.closing(answer):
                body = _head(answer.iter_bytes())
            return self._rules.judge(request, answer, body)
        if self._rules.announced_too_large(answer):
            answer.close()
            raise self._rules.too_large(request, answer)
        stream = answer.stream
        assert isinstance(stream, httpx.SyncByteStream)
        error = self._rules.too_large(request, answer)
        return self._rules.passed(
            request, answer, _CappedStream(stream, self._rules.max_answer, error)
        )

    def close(self) -> None:
        if self._owned:
            self._inner.close()


class AsyncWire(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None, rules: WireRules, url: str) -> None:
        self._owned = inner is None
        self._inner = inner or httpx.AsyncHTTPTransport(proxy=_env_proxy(httpx.URL(url)))
        self._rules = rules

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._inner.handle_async_request(request)
        if answer.status_code >= 400:
            async with contextlib.aclosing(answer):
                body = await _ahead(answer.aiter_bytes())
            return self._rules.judge(request, answer, body)
        if self._rules.announced_too_large(answer):
            await answer.aclose()
            raise self._rules.too_large(request, answer)
        stream = answer.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        error = self._rules.too_large(request, answer)
        capped = _AsyncCappedStream(stream, self._rules.max_answer, error)
        return self._rules.passed(request, answer, capped)

    async def aclose(self) -> None:
        if self._owned:
            await self._inner.aclose()
