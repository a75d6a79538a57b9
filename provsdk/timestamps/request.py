"""Asking a time-stamp authority for a token (RFC 3161 over HTTP, RFC 3161 §3.4).

Plain ``http://`` is accepted here, unlike for generators: the answer is signed by the TSA and
checked, and the request carries only a digest, so transport security adds nothing but a
second way to fail. Many public TSAs serve only plain HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response
from rfc3161_client.tsp import PKIStatus

from provsdk.errors import ConfigurationError, TimestampError
from provsdk.timestamps.check import MAX_RESPONSE

if TYPE_CHECKING:
    import httpx

__all__ = ["QUERY_TYPE", "REPLY_TYPE", "check_tsa_url", "request_timestamp"]

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
ATTEMPTS = 3  # asking again is harmless: every request is answered with a fresh token


class _Retry(Exception):
    """A failure worth another attempt (no answer, or the TSA said it was busy)."""


def _post(client: httpx.Client, url: str, body: bytes) -> bytes:
    import httpx

    try:
        with client.stream(
            "POST", url, content=body, headers={"Content-Type": QUERY_TYPE}
        ) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retry(f"answered HTTP {response.status_code}")
            if response.status_code != 200:
                raise TimestampError(f"time-stamp authority {url}: HTTP {response.status_code}")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind != REPLY_TYPE:
                raise TimestampError(
                    f"time-stamp authority {url}: answered {kind or 'no type'}, not {REPLY_TYPE}"
                )
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_RESPONSE:
                    raise TimestampError(
                        f"time-stamp authority {url}: answer larger than {MAX_RESPONSE} bytes"
                    )
            return bytes(data)
    except httpx.TransportError as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None


def check_tsa_url(url: str) -> str:
    """``url`` if it can name a time-stamp authority; ConfigurationError otherwise.

    Checked before any work, whoever asks the authority (c2pa for manifests, provsdk for
    statements), so a bad URL is one error of ours rather than a failure deep in signing.
    """
    # Here, not at the top: verifying never asks an authority and should not load httpx.
    import httpx

    try:
        host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
    except httpx.InvalidURL:
        host = ""
    if not host:
        raise ConfigurationError(f"time-stamp authority URL must be http(s): {url!r}")
    return url


def request_timestamp(
    url: str,
    message: bytes,
    *,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """A granted RFC 3161 response (DER) over SHA-256 of ``message``, from the TSA at ``url``.

    The answer is checked to be granted and to answer this request (its imprint and nonce);
    whether its TSA is trusted is for the verifier to judge, with its own anchors.
    """
    import httpx
    import tenacity

    check_tsa_url(url)
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=0.5, max=5),
        retry=tenacity.retry_if_exception_type(_Retry),
        reraise=True,
    )
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
        try:
            body = retrying(_post, client, url, request.as_bytes())
        except _Retry as exc:
            raise TimestampError(
                f"time-stamp authority {url}: {exc} (after {ATTEMPTS} attempts)"
            ) from None
    try:
        response = decode_timestamp_response(body)
        status = PKIStatus(response.status)
    except ValueError as exc:
        raise TimestampError(f"time-stamp authority {url}: unreadable answer: {exc}") from None
    if status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"time-stamp authority {url}: refused ({status.name.lower()})")
    info = response.tst_info
    if info.nonce != request.nonce or info.message_imprint.message != (
        request.message_imprint.message
    ):
        raise TimestampError(f"time-stamp authority {url}: the token answers another request")
    return body
