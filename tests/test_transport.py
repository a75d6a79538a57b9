"""The HTTP rules providers follow (provsdk.providers.transport), over real HTTP on 127.0.0.1.

Read timeouts are tested both ways: a server that sends its headers (with a request id) and then
stalls the body, whose request id must reach the error; and one that stalls before any header,
where no request id exists.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_servers import (
    MP3_HEAD,
    RawRequest,
    Reply,
    ScriptedApp,
    raw_head,
    read_request,
    serve_asgi,
    serve_raw,
    unused_port,
    wav_bytes,
)

from provsdk.audio.formats import AudioFormat
from provsdk.errors import (
    AuthenticationError,
    ContentFilteredError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    RateLimitError,
)
from provsdk.providers.transport import (
    AsyncHttpTransport,
    Failure,
    HttpTransport,
    Outcome,
    RetryPolicy,
    parse_retry_after,
    retry_delay,
)
from provsdk.providers.transport.rules import MAX_ANSWER

KEY = "sk-test-0123456789abcdef"
WAV = wav_bytes()
FAST_READ = httpx.Timeout(5.0, read=0.25)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make(url: str, sleeps: list[float], **options: Any) -> HttpTransport:
    return HttpTransport(
        url,
        provider="acme",
        headers={"Authorization": f"Bearer {KEY}"},
        sleep=sleeps.append,
        **options,
    )


def make_async(url: str, sleeps: list[float], **options: Any) -> AsyncHttpTransport:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncHttpTransport(
        url, provider="acme", headers={"Authorization": f"Bearer {KEY}"}, sleep=sleep, **options
    )


def error_json(message: str, code: str = "internal") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": "req_body"}}


# -- the pure rules ---------------------------------------------------------------------------

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("outcome", "idempotent", "retried"),
    [
        (Outcome(failure=Failure.UNSENT), False, True),
        (Outcome(failure=Failure.UNSENT), True, True),
        (Outcome(failure=Failure.LOST), False, False),
        (Outcome(failure=Failure.LOST), True, True),
        (Outcome(failure=Failure.TIMEOUT), False, False),
        (Outcome(failure=Failure.TIMEOUT), True, True),
        (Outcome(status=429), True, True),
        (Outcome(status=429), False, True),  # refused before any work: safe even for a POST
        (Outcome(status=503), True, True),
        (Outcome(status=503), False, False),
        (Outcome(status=400), True, False),
        (Outcome(status=401), True, False),
        (Outcome(status=404), True, False),
    ],
)
def test_retry_rules(outcome: Outcome, idempotent: bool, retried: bool) -> None:
    delay = retry_delay(outcome, attempt=1, idempotent=idempotent, policy=POLICY, draw=0.5)
    assert (delay is not None) is retried


def test_backoff_is_exponential_jittered_and_capped() -> None:
    outcome = Outcome(status=503)
    ceilings = [POLICY.backoff_ceiling(n) for n in range(1, 9)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert retry_delay(outcome, attempt=3, idempotent=True, policy=POLICY, draw=0.0) == 0.0
    assert retry_delay(outcome, attempt=3, idempotent=True, policy=POLICY, draw=0.5) == 1.0


def test_retry_after_wins_unless_longer_than_the_policy_waits() -> None:
    asked = Outcome(status=429, retry_after=7.0)
    assert retry_delay(asked, attempt=1, idempotent=True, policy=POLICY, draw=0.9) == 7.0
    longest = Outcome(status=429, retry_after=60.0)
    assert retry_delay(longest, attempt=1, idempotent=True, policy=POLICY, draw=0.9) == 60.0
    # Waiting a part of a longer wait would only be refused again: no retry at all.
    for greedy in (Outcome(status=429, retry_after=60.5), Outcome(status=503, retry_after=3600)):
        assert retry_delay(greedy, attempt=1, idempotent=True, policy=POLICY, draw=0.9) is None
    patient = RetryPolicy(max_retry_after=7200)
    greedy = Outcome(status=429, retry_after=3600.0)
    assert retry_delay(greedy, attempt=1, idempotent=True, policy=patient, draw=0.9) == 3600.0


def test_parse_retry_after() -> None:
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(later, now) == 30.0
    assert (
        parse_retry_after(email.utils.format_datetime(now, usegmt=True), now + dt.timedelta(1)) == 0
    )
    for bad in (None, "", "-1", "soon", "nan"):
        assert parse_retry_after(bad) is None


# -- requests -----------------------------------------------------------------------------------


def test_429_retry_after_is_honoured(sleeps: list[float]) -> None:
    app = ScriptedApp(
        Reply(429, json=error_json("slow down", "rate_limited"), headers={"Retry-After": "1"}),
        Reply(200, json={"ok": True}),
    )
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        response = transport.request("GET", "/v1/models", idempotent=True)
    assert response.json() == {"ok": True}
    assert sleeps == [1.0]
    assert len(app.seen) == 2


@pytest.mark.slow
def test_retry_after_really_waits() -> None:
    app = ScriptedApp(Reply(429, headers={"Retry-After": "1"}), Reply(204))
    with serve_asgi(app) as url, HttpTransport(url, provider="acme") as transport:
        started = time.monotonic()
        assert transport.request("GET", "/x", idempotent=True).status_code == 204
    assert 0.95 <= time.monotonic() - started < 5


def test_503_then_success(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(503), Reply(200, json={"ok": 1}))
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        assert transport.request("GET", "/x", idempotent=True).json() == {"ok": 1}
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5


def test_500_until_attempts_run_out(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(500, json=error_json("boom"), headers={"X-Request-Id": "req-500"}))
    with (
        serve_asgi(app) as url,
        make(url, sleeps, retry=RetryPolicy(attempts=3)) as transport,
        pytest.raises(ProviderResponseError) as caught,
    ):
        transport.request("GET", "/x", idempotent=True)
    error = caught.value
    assert (error.status, error.request_id, error.provider) == (500, "req-500", "acme")
    assert "boom" in str(error) and "after 3 attempts" in str(error)
    assert len(app.seen) == 3
    assert len(sleeps) == 2 and sleeps[0] <= 0.5 and sleeps[1] <= 1.0


def test_rate_limited_to_the_end(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(429, headers={"Retry-After": "30", "request-id": "req-429"}))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(RateLimitError) as caught,
    ):
        transport.request("GET", "/x", idempotent=True)
    assert caught.value.retry_after == 30.0
    assert caught.value.request_id == "req-429"
    assert sleeps == [30.0, 30.0, 30.0]
    assert "after 4 attempts" in str(caught.value)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_of_hours_fails_at_once(sleeps: list[float], form: str) -> None:
    # The daily quota is spent: the provider asks for three hours, far past the 60 s a client
    # waits. Waiting 60 s three times would only be refused three more times.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    value = "10800" if form == "seconds" else email.utils.format_datetime(later, usegmt=True)
    refusal = Reply(
        429,
        json=error_json("daily generation quota spent", "rate_limited"),
        headers={"Retry-After": value, "X-Request-Id": "req-quota"},
    )

    async def run_async(url: str) -> None:
        async with make_async(url, sleeps) as transport:
            await transport.request("POST", "/v1/generations", idempotent=False, json={})

    errors: list[RateLimitError] = []
    for run in ("sync", "async"):
        app = ScriptedApp(refusal, Reply(202, json={"id": "gen_1"}))
        with serve_asgi(app) as url, pytest.raises(RateLimitError) as caught:
            if run == "sync":
                with make(url, sleeps) as transport:
                    transport.request("POST", "/v1/generations", idempotent=False, json={})
            else:
                asyncio.run(run_async(url))
        assert len(app.seen) == 1, run  # given up at once: no second request
        errors.append(caught.value)
    assert sleeps == []
    for error in errors:
        assert error.request_id == "req-quota"
        assert error.retry_after is not None and 10790 <= error.retry_after <= 10800
        message = str(error)
        assert "daily generation quota spent" in message
        assert "asks to wait" in message and "3 h)" in message and "not retried" in message
        assert "60 s" in message and "request id req-quota" in message
        assert "\n" not in message


def test_non_idempotent_post_is_never_resent(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(503, headers={"X-Request-Id": "req-post"}), Reply(200))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError) as caught,
    ):
        transport.request("POST", "/v1/generations", idempotent=False, json={"a": 1})
    assert len(app.seen) == 1
    assert sleeps == []
    assert caught.value.status == 503
    assert caught.value.request_id == "req-post"
    assert "may have been processed" in str(caught.value)


def test_idempotent_post_is_resent_with_its_key(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(503), Reply(202, json={"id": "gen_1"}))
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        response = transport.request(
            "POST",
            "/v1/generations",
            idempotent=True,
            json={"a": 1},
            headers={"Idempotency-Key": "k1"},
        )
    assert response.status_code == 202
    assert [seen.headers["idempotency-key"] for seen in app.seen] == ["k1", "k1"]
    assert app.seen[0].body == app.seen[1].body


@pytest.mark.parametrize("idempotent", [True, False])
def test_connection_refused_is_retried_then_fails(sleeps: list[float], idempotent: bool) -> None:
    # Refused means the request never left: safe to retry even when not idempotent.
    with (
        unused_port() as port,
        make(f"http://127.0.0.1:{port}", sleeps) as transport,
        pytest.raises(ProviderResponseError) as caught,
    ):
        transport.request("POST", "/x", idempotent=idempotent)
    assert len(sleeps) == 3
    assert str(caught.value).startswith("acme: cannot reach 127.0.0.1 for POST /x")
    assert "may have been processed" not in str(caught.value)


async def _stall_after_headers(reader: Any, writer: Any) -> None:
    await read_request(reader)
    head = {
        "Content-Length": "100",
        "Content-Type": "application/json",
        "X-Request-Id": "req-stall",
    }
    writer.write(raw_head(200, head) + b"{")
    await writer.drain()
    await asyncio.sleep(60)


async def _stall_before_headers(reader: Any, writer: Any) -> None:
    await read_request(reader)
    await asyncio.sleep(60)


async def _drop_without_answer(reader: Any, writer: Any) -> None:
    await read_request(reader)
    writer.transport.abort()


def test_read_timeout_names_the_request_id(sleeps: list[float]) -> None:
    with serve_raw(_stall_after_headers) as (url, server):
        policy = RetryPolicy(attempts=2)
        with (
            make(url, sleeps, timeout=FAST_READ, retry=policy) as transport,
            pytest.raises(ProviderTimeoutError) as caught,
        ):
            transport.request("GET", "/slow", idempotent=True)
    assert caught.value.request_id == "req-stall"
    assert server.connections == 2


def test_read_timeout_of_a_post_is_not_resent(sleeps: list[float]) -> None:
    with (
        serve_raw(_stall_before_headers) as (url, server),
        make(url, sleeps, timeout=FAST_READ) as transport,
        pytest.raises(ProviderTimeoutError) as caught,
    ):
        transport.request("POST", "/slow", idempotent=False, json={})
    assert caught.value.request_id is None  # no header ever arrived
    assert "may have been processed" in str(caught.value)
    assert server.connections == 1


def test_connection_lost_after_a_post_is_not_resent(sleeps: list[float]) -> None:
    with (
        serve_raw(_drop_without_answer) as (url, server),
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError) as caught,
    ):
        transport.request("POST", "/x", idempotent=False, json={})
    assert "connection was lost" in str(caught.value)
    assert "may have been processed" in str(caught.value)
    assert server.connections == 1


def test_401_is_an_authentication_error_and_final(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(401, json=error_json("missing or wrong API key", "unauthorized")))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(AuthenticationError) as caught,
    ):
        transport.request("GET", "/x", idempotent=True)
    assert len(app.seen) == 1
    assert "missing or wrong API key" in str(caught.value)
    assert caught.value.request_id == "req_body"  # from the JSON body when no header names one
    assert caught.value.hint == "check the API key"


def test_403_keeps_the_providers_message_and_does_not_blame_the_key(sleeps: list[float]) -> None:
    # What the reference server answers a licensee other than the key's account: the key is
    # fine, the request is not.
    message = "the licensee 'Other Co' is not this API key's account ('Game Studio')"
    app = ScriptedApp(Reply(403, json=error_json(message, "forbidden")))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(AuthenticationError) as caught,
    ):
        transport.request("POST", "/v1/generations", idempotent=True, json={})
    assert len(app.seen) == 1 and sleeps == []
    error = caught.value
    assert "HTTP 403, the provider refused this request: " + message in str(error)
    assert error.hint is None and "API key" not in error.diagnostics().replace(message, "")


def test_error_message_is_one_line_and_bounded(sleeps: list[float]) -> None:
    message = "prompt too long\nsee the docs " + "x" * 1000
    app = ScriptedApp(Reply(400, json=error_json(message, "invalid_request")))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError) as caught,
    ):
        transport.request("POST", "/v1/generations", idempotent=True, json={})
    text = str(caught.value)
    assert "\n" not in text
    assert "prompt too long see the docs xxx" in text
    assert len(text) < 400
    assert caught.value.status == 400


def test_content_filtered_code(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(422, json=error_json("refused by moderation", "content_filtered")))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ContentFilteredError, match="refused by moderation"),
    ):
        transport.request("POST", "/v1/generations", idempotent=True, json={})


def test_the_api_key_is_never_shown(sleeps: list[float], caplog: pytest.LogCaptureFixture) -> None:
    # A careless server echoes the Authorization header into its error messages.
    echo = error_json(f"bad header Bearer {KEY}")
    app = ScriptedApp(Reply(500, json=echo), Reply(401, json={"detail": f"key {KEY} unknown"}))
    errors: list[ProviderError] = []
    with caplog.at_level(logging.DEBUG), serve_asgi(app) as url, make(url, sleeps) as transport:
        assert KEY not in repr(transport)
        with pytest.raises(AuthenticationError) as caught:
            transport.request("GET", "/x", idempotent=True)
        errors.append(caught.value)
        with pytest.raises(ProviderResponseError) as refused:
            transport.request("GET", "http://127.0.0.2/x", idempotent=True)
        errors.append(refused.value)
    with (
        unused_port() as port,
        make(f"http://127.0.0.1:{port}", sleeps) as transport,
        pytest.raises(ProviderResponseError) as unreachable,
    ):
        transport.request("GET", "/x", idempotent=True)
        errors.append(unreachable.value)
    for error in errors:
        assert KEY not in str(error) and KEY not in error.diagnostics() and KEY not in repr(error)
    assert "[redacted]" in str(errors[0])
    assert "retrying" in caplog.text and KEY not in caplog.text


def test_urls_outside_the_endpoint_are_refused(sleeps: list[float], tmp_path: Path) -> None:
    app = ScriptedApp(Reply(200))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError, match="outside the endpoint"),
    ):
        transport.request("GET", "https://elsewhere.example/x", idempotent=True)
        with pytest.raises(ProviderResponseError, match="outside the endpoint"):
            transport.download("//elsewhere.example/a", dest_dir=tmp_path, expect=None)
    assert app.seen == []
    assert list(tmp_path.iterdir()) == []


# -- downloads ----------------------------------------------------------------------------------


def test_download(sleeps: list[float], tmp_path: Path) -> None:
    headers = {"Content-Type": "audio/wav", "X-Request-Id": "req-dl"}
    app = ScriptedApp(Reply(200, body=WAV, headers=headers))
    digest = hashlib.sha256(WAV).hexdigest()
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        got = transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV, sha256=digest)
    assert got.path.parent == tmp_path and got.path.name.endswith(".provsdk-tmp")
    assert got.path.read_bytes() == WAV
    assert (got.format, got.size, got.sha256, got.request_id) == (
        AudioFormat.WAV,
        len(WAV),
        digest,
        "req-dl",
    )


def _truncating(body: bytes) -> Any:
    async def handler(reader: Any, writer: Any) -> None:
        await read_request(reader)
        writer.write(raw_head(200, {"Content-Length": str(len(body) * 10)}) + body)
        await writer.drain()

    return handler


def test_truncated_download_leaves_nothing(sleeps: list[float], tmp_path: Path) -> None:
    with (
        serve_raw(_truncating(WAV)) as (url, server),
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError, match="cut off"),
    ):
        transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV)
    assert server.connections == 4  # a download is idempotent: retried, each from scratch
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "expect", "sha256", "message"),
    [
        (b"<html>gateway says hello</html>", None, None, "not usable audio"),
        (b"", AudioFormat.WAV, None, "not usable audio"),
        (MP3_HEAD, AudioFormat.WAV, None, "announced wav audio but sent mp3"),
        (WAV, AudioFormat.WAV, "00" * 32, "SHA-256"),
    ],
)
def test_unusable_download_leaves_nothing(
    sleeps: list[float],
    tmp_path: Path,
    body: bytes,
    expect: AudioFormat | None,
    sha256: str | None,
    message: str,
) -> None:
    app = ScriptedApp(Reply(200, body=body))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError, match=message),
    ):
        transport.download("/a", dest_dir=tmp_path, expect=expect, sha256=sha256)
    assert len(app.seen) == 1  # the answer was whole: trying again would get the same
    assert list(tmp_path.iterdir()) == []


def test_oversized_download_declared(sleeps: list[float], tmp_path: Path) -> None:
    app = ScriptedApp(Reply(200, body=WAV))
    with (
        serve_asgi(app) as url,
        make(url, sleeps, max_download=1000) as transport,
        pytest.raises(ProviderResponseError, match="larger than the limit"),
    ):
        transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV)
    assert list(tmp_path.iterdir()) == []


async def _chunked_wav(reader: Any, writer: Any) -> None:
    # No Content-Length: the limit must be enforced while the bytes arrive.
    await read_request(reader)
    writer.write(raw_head(200, {"Transfer-Encoding": "chunked"}))
    for start in range(0, len(WAV), 256):
        chunk = WAV[start : start + 256]
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def test_oversized_download_streamed(sleeps: list[float], tmp_path: Path) -> None:
    with (
        serve_raw(_chunked_wav) as (url, _),
        make(url, sleeps, max_download=1000) as transport,
        pytest.raises(ProviderResponseError, match="larger than the limit"),
    ):
        transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV)
    assert list(tmp_path.iterdir()) == []


def test_download_error_status(sleeps: list[float], tmp_path: Path) -> None:
    app = ScriptedApp(Reply(404, json=error_json("no such generation", "not_found")))
    with (
        serve_asgi(app) as url,
        make(url, sleeps) as transport,
        pytest.raises(ProviderResponseError, match="no such generation") as caught,
    ):
        transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV)
    assert caught.value.status == 404
    assert list(tmp_path.iterdir()) == []


class _Interrupting(httpx.BaseTransport):
    """Real HTTP underneath; the body stream raises KeyboardInterrupt after its first chunk."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        stream: httpx.SyncByteStream = response.stream

        class Interrupted(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield from stream
                raise KeyboardInterrupt

            def close(self) -> None:
                stream.close()

        return httpx.Response(response.status_code, headers=response.headers, stream=Interrupted())

    def close(self) -> None:
        self.inner.close()


def test_interrupted_download_leaves_nothing(sleeps: list[float], tmp_path: Path) -> None:
    app = ScriptedApp(Reply(200, body=WAV))
    with (
        serve_asgi(app) as url,
        make(url, sleeps, transport=_Interrupting()) as transport,
        pytest.raises(KeyboardInterrupt),
    ):
        transport.download("/a", dest_dir=tmp_path, expect=AudioFormat.WAV)
    assert list(tmp_path.iterdir()) == []


# -- the asyncio twin -----------------------------------------------------------------------------


def test_async_429_retry_after(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(429, headers={"Retry-After": "1"}), Reply(200, json={"ok": True}))

    async def run(url: str) -> httpx.Response:
        async with make_async(url, sleeps) as transport:
            return await transport.request("GET", "/x", idempotent=True)

    with serve_asgi(app) as url:
        assert asyncio.run(run(url)).json() == {"ok": True}
    assert sleeps == [1.0]


def test_async_non_idempotent_post_is_never_resent(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(503, headers={"X-Request-Id": "req-a"}), Reply(200))

    async def run(url: str) -> None:
        async with make_async(url, sleeps) as transport:
            await transport.request("POST", "/v1/generations", idempotent=False, json={})

    with serve_asgi(app) as url, pytest.raises(ProviderResponseError) as caught:
        asyncio.run(run(url))
    assert len(app.seen) == 1
    assert "may have been processed" in str(caught.value)
    assert caught.value.request_id == "req-a"


def test_async_read_timeout_names_the_request_id(sleeps: list[float]) -> None:
    async def run(url: str) -> None:
        policy = RetryPolicy(attempts=2)
        async with make_async(url, sleeps, timeout=FAST_READ, retry=policy) as transport:
            await transport.request("GET", "/slow", idempotent=True)

    with serve_raw(_stall_after_headers) as (url, _), pytest.raises(ProviderTimeoutError) as caught:
        asyncio.run(run(url))
    assert caught.value.request_id == "req-stall"
    assert len(sleeps) == 1


def test_async_downloads(sleeps: list[float], tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    digest = hashlib.sha256(WAV).hexdigest()

    async def fetch(url: str, dest: Path, sha256: str | None) -> Any:
        async with make_async(url, sleeps) as transport:
            return await transport.download(
                "/a", dest_dir=dest, expect=AudioFormat.WAV, sha256=sha256
            )

    with serve_asgi(ScriptedApp(Reply(200, body=WAV))) as url:
        got = asyncio.run(fetch(url, good, digest))
    assert got.path.read_bytes() == WAV and got.sha256 == digest
    with (
        serve_raw(_truncating(WAV)) as (url, server),
        pytest.raises(ProviderResponseError, match="cut off"),
    ):
        asyncio.run(fetch(url, bad, None))
    assert server.connections == 4
    assert list(bad.iterdir()) == []


def test_request_reaches_the_server_as_sent(sleeps: list[float]) -> None:
    app = ScriptedApp(Reply(200, json={}))
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        transport.request("POST", "/v1/generations", idempotent=False, json={"prompt": "p"})
    seen = app.seen[0]
    assert (seen.method, seen.path, seen.body) == ("POST", "/v1/generations", b'{"prompt":"p"}')
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.headers["user-agent"].startswith("provsdk/")


def test_raw_request_helper_parses_headers() -> None:
    # The raw servers above rely on it; a malformed request would hang them silently.
    async def parse() -> RawRequest:
        reader = asyncio.StreamReader()
        reader.feed_data(b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        reader.feed_eof()
        return await read_request(reader)

    request = asyncio.run(parse())
    assert (request.method, request.path, request.body) == ("POST", "/p", b"hi")


@pytest.mark.parametrize("host", ["http://example.com", "http://10.0.0.8:8765"])
def test_plain_http_to_another_machine_is_refused(host: str) -> None:
    from provsdk.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="refusing plain http"):
        HttpTransport(host, provider="p", headers={"Authorization": "Bearer secret-key-123"})
    HttpTransport(host, provider="p", allow_insecure_http=True).close()
    HttpTransport("http://127.0.0.1:9", provider="p").close()
    HttpTransport("http://localhost:9", provider="p").close()


# -- answers that are not what a JSON answer should be ----------------------------------------


def test_endless_answer_is_cut_off_at_the_cap(sleeps: list[float]) -> None:
    """A hostile or broken server streaming a huge JSON answer: refused, never read whole."""
    huge = b"[" + b"0," * (MAX_ANSWER // 2 + 10) + b"0]"
    app = ScriptedApp(Reply(200, body=huge, headers={"Content-Type": "application/json"}))
    refused = pytest.raises(ProviderResponseError, match="larger than")
    with serve_asgi(app) as url, make(url, sleeps) as transport, refused as caught:
        transport.request("GET", "/v1/models", idempotent=True)
    assert "\n" not in str(caught.value)
    assert len(app.seen) == 1  # a size refusal is final, not retried

    async def run(url: str) -> None:
        async with make_async(url, sleeps) as transport:
            await transport.request("GET", "/v1/models", idempotent=True)

    with serve_asgi(app) as url, pytest.raises(ProviderResponseError, match="larger than"):
        asyncio.run(run(url))


def test_compressed_answer_is_decoded_once(sleeps: list[float]) -> None:
    import gzip
    import json as json_module

    document = {"models": ["a", "b"], "pad": "x" * 5000}
    packed = gzip.compress(json_module.dumps(document).encode())
    app = ScriptedApp(
        Reply(
            200,
            body=packed,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    )
    with serve_asgi(app) as url, make(url, sleeps) as transport:
        assert transport.request("GET", "/v1/models", idempotent=True).json() == document
