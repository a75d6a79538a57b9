"""The protocol's error shape, and the exception handlers that produce it for every failure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

__all__ = [
    "REQUEST_ID_HEADER",
    "ApiError",
    "error_body",
    "install_handlers",
    "new_request_id",
    "request_id_of",
]

REQUEST_ID_HEADER = "X-Request-Id"
_SCOPE_KEY = "provsdk.request_id"
# Codes for statuses the routes do not raise themselves (unknown path, wrong method...).
_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large"}


class ApiError(Exception):
    """An answer other than success: HTTP status, protocol error code, one-line message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def request_id_of(scope: Scope) -> str:
    """The id the middleware gave this request (a fresh one if it never passed through it)."""
    rid = scope.get(_SCOPE_KEY)
    if not isinstance(rid, str):
        rid = new_request_id()
        scope[_SCOPE_KEY] = rid
    return rid


def error_body(code: str, message: str, request_id: str) -> bytes:
    one_line = " ".join(message.split())
    detail = {"code": code, "message": one_line, "request_id": request_id}
    return json.dumps({"error": detail}).encode()


def _response(request: Request, error: ApiError) -> JSONResponse:
    rid = request_id_of(request.scope)
    body = json.loads(error_body(error.code, error.message, rid))
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    # loc is like ("body", "prompt") or ("header", "Idempotency-Key"); "body" alone is the JSON.
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def install_handlers(app: FastAPI) -> None:
    """Answer every error the framework or the routes raise in the protocol's JSON shape."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # The protocol answers a malformed request with 400, not FastAPI's default 422.
        return _response(request, ApiError(400, "invalid_request", _validation_message(exc)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _CODES.get(exc.status_code, "invalid_request")
        if exc.status_code >= 500:
            code = "internal"
        error = ApiError(exc.status_code, code, str(exc.detail), exc.headers)
        return _response(request, error)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
