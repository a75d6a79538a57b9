"""The outer layer every request passes: its id, the API key, the rate limit, the body limit,
and the last-resort 500, in that order; and, once it is answered, its access-log line.

Plain ASGI rather than a BaseHTTPMiddleware, for two reasons. The key is checked before
anything else reads the request, so an unauthenticated caller learns nothing (not even whether
its JSON parses). And it sees the raw body chunks: an oversized body is refused whatever its
Content-Length says (chunked uploads announce none), and at most ``max_body`` bytes are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provsdk.server.access_log import log_request
from provsdk.server.auth import Caller, KeyCheck, RateLimiter
from provsdk.server.errors import REQUEST_ID_HEADER, ApiError, error_body, new_request_id

__all__ = ["CALLER_KEY", "PUBLIC_PATHS", "ProtocolMiddleware"]

log = logging.getLogger("provsdk.server")

CALLER_KEY = "provsdk.caller"
# The protocol's description is public; everything else, unknown paths included, needs a key.
PUBLIC_PATHS = frozenset({"/openapi.json"})
_ID_HEADER = REQUEST_ID_HEADER.lower().encode()
# A body a little over the limit is read to its end (and dropped) before the 413, so the client,
# still sending, sees the answer instead of a reset connection. Beyond this we just hang up.
_DRAIN_LIMIT = 1 << 20


@dataclass
class _Answer:
    status: int | None = None  # None until the answer starts (it may never: the client left)


class _Disconnected(Exception):
    """The client went away while we were reading its body."""


class ProtocolMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyCheck,
        limiter: RateLimiter,
        max_body: int,
        large_bodies: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter
        self.max_body = max_body
        # Paths whose bodies are files (an asset to match, a manifest store to publish), with
        # their own limits; every other path keeps max_body.
        self.large_bodies = dict(large_bodies or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        rid = new_request_id()
        scope["provsdk.request_id"] = rid
        answer = _Answer()
        try:
            await self._answer(scope, receive, send, rid, answer)
        finally:
            # Whatever happened, even a cancellation: one line per request.
            caller = scope.get(CALLER_KEY)
            who = caller if isinstance(caller, Caller) else None
            log_request(scope, answer.status, rid, who, arrived)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, rid: str, answer: _Answer
    ) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _ID_HEADER]
                message = {**message, "headers": [*headers, (_ID_HEADER, rid.encode())]}
            await send(message)

        try:
            if scope["path"] not in PUBLIC_PATHS:
                self._admit(scope)
            body = await self._read_body(scope, receive)
        except ApiError as exc:
            await _send_error(send_with_id, exc, rid)
            return
        except _Disconnected:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            # After the body, the only thing left to hear about is the client leaving.
            return await receive()

        try:
            await self.app(scope, replay, send_with_id)
        except Exception:
            log.exception("unhandled error in request %s", rid)
            if answer.status is None:
                error = ApiError(500, "internal", "internal server error")
                await _send_error(send_with_id, error, rid)

    def _admit(self, scope: Scope) -> None:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        caller = self.keys.caller(token.strip() if scheme.lower() == "bearer" else None)
        # Known before the rate limit is checked, so that a 429 is logged with its account.
        scope[CALLER_KEY] = caller
        self.limiter.check(caller)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.large_bodies.get(scope["path"], self.max_body)
        drain = max(_DRAIN_LIMIT, limit)
        declared = Headers(scope=scope).get("content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
        if length is not None and length > drain:
            raise self._too_large(limit, drained=False)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > drain:
                raise self._too_large(limit, drained=False)
            if not message.get("more_body", False):
                break
        if size > limit:
            raise self._too_large(limit, drained=True)
        return b"".join(chunks)

    def _too_large(self, limit: int, *, drained: bool) -> ApiError:
        message = f"the request body is over the limit of {limit} bytes"
        # A body we stopped reading cannot be skipped to find the next request: close.
        return ApiError(413, "too_large", message, {} if drained else {"Connection": "close"})


async def _send_error(send: Send, error: ApiError, rid: str) -> None:
    body = error_body(error.code, error.message, rid)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
