"""HTTP for providers: one set of rules for retries, errors and downloads, sync and async.

Both transports run every attempt through the same rules (:class:`Rules`) and the same pure
decision, :func:`retry_delay`; only the I/O differs. The rules:

* a request that never reached the server (connection refused, connect timeout, no pooled
  connection free) is retried always: nothing can have happened on the other side;
* ``429`` is retried always: the server refused before doing any work;
* ``5xx``, a connection lost or a timeout *after* the request was sent are retried only when
  the request is idempotent (a GET, or a POST carrying an ``Idempotency-Key``): sending a
  request the server may already have acted on again could do the work twice;
* anything else is final, and so is the last attempt. A ``Retry-After`` (seconds or an
  HTTP-date) is honoured up to ``max_retry_after``; otherwise the wait is exponential with full
  jitter.

Headers given to a transport (the API key) are never logged nor put in an error message; a
server echoing them back has them redacted.
"""

from provsdk.providers.transport.clients import AsyncHttpTransport, HttpTransport
from provsdk.providers.transport.download import DownloadedFile
from provsdk.providers.transport.retry import (
    Failure,
    Outcome,
    RetryPolicy,
    parse_retry_after,
    retry_delay,
)
from provsdk.providers.transport.rules import (
    DEFAULT_MAX_DOWNLOAD,
    DEFAULT_TIMEOUT,
    request_id_of,
)

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
