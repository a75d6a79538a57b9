"""One line per request, on the logger ``provsdk.server.access``.

``GET /v1/models 200 req_… account="Game Studio" 1.2ms``: method, path, status, request id,
the API key's account (``-`` for none: no key accepted, a key of no account, or no
authentication) and the time taken. Never the key, nor a hash of it (a short key could be
guessed back from one), and never the query string, which is where pre-signed URLs and
careless clients put secrets.

The path is logged as it was sent, percent-encoding and all: decoded, ``%1b``, ``%0a`` and
``%20`` would be an ESC sequence, a forged second line and a space that shifts the fields.
What a lenient HTTP parser lets through raw is then made inert. The record also carries the
fields as attributes (``method``, ``path``, ``status``, ``request_id``, ``account``,
``duration_ms``) for handlers that want them structured.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

from starlette.types import Scope

from provsdk.inert import inert
from provsdk.server.auth import Caller

__all__ = ["ACCESS_LOGGER", "UtcFormatter", "log_request"]

ACCESS_LOGGER = "provsdk.server.access"
_access = logging.getLogger(ACCESS_LOGGER)
# Longer paths are cut: one request must not be able to fill the log with one line.
_MAX_PATH = 512


def _utc(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


class UtcFormatter(logging.Formatter):
    """Times in UTC, ISO 8601: lines from servers in several zones sort together."""

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt, datefmt="%Y-%m-%dT%H:%M:%SZ")
        self.converter = _utc


def _path_as_sent(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        # raw_path stops before the query string; never take it from the request line.
        text = raw.split(b"?", 1)[0].decode("utf-8", "surrogateescape")
    else:
        text = urllib.parse.quote(str(scope.get("path", "")), safe="/:@!$&'()*+,;=-._~%")
    cut = len(text) > _MAX_PATH
    return inert(text[:_MAX_PATH]) + ("…" if cut else "")


def _account(caller: Caller | None) -> str:
    account = caller.account if caller is not None else None
    # Quoted, so a name with spaces stays one field; a name cannot hold control characters,
    # but it came from configuration, and inert costs nothing.
    return "-" if account is None else inert(json.dumps(account, ensure_ascii=False))


def log_request(
    scope: Scope, status: int | None, request_id: str, caller: Caller | None, started: float
) -> None:
    """Log one finished request. ``status`` is None when no answer was sent (the client left
    first); ``caller`` is the :class:`~provsdk.server.auth.Caller`, if the key was accepted;
    ``started`` is the ``time.perf_counter()`` it arrived at."""
    if not _access.isEnabledFor(logging.INFO):
        return
    duration_ms = (time.perf_counter() - started) * 1000
    fields = {
        "method": inert(scope.get("method", "-")),
        "path": _path_as_sent(scope),
        "status": status,
        "request_id": request_id,
        "account": _account(caller),
        "duration_ms": round(duration_ms, 1),
    }
    _access.info(
        "%s %s %s %s account=%s %.1fms",
        fields["method"],
        fields["path"],
        "-" if status is None else status,
        request_id,
        fields["account"],
        duration_ms,
        extra=fields,
    )
