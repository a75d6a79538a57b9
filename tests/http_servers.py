"""Real HTTP servers on 127.0.0.1 for the transport and http-provider tests.

Not a conftest: the tests import it (``from http_servers import ...``); pytest puts ``tests/``
on ``sys.path`` because the test folder is not a package.

* :func:`serve_asgi` runs an ASGI app under uvicorn in a background thread, on a free port.
* :class:`ScriptedApp` answers successive requests from a script and records what it saw.
* :func:`serve_raw` runs an asyncio socket handler, for what HTTP servers will not do on
  purpose: bodies shorter than their Content-Length, answers that stall, dropped connections.
* :class:`FaultProxy` forwards to a server but drops the connection instead of passing on the
  answer to chosen requests: the server did the work, the client never heard.
* :class:`ProtocolEmulator` implements docs/protocol.md minimally, with knobs for failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import socket
import threading
import time
import wave
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from provsdk.audio.codec import encode
from provsdk.audio.formats import AudioFormat
from provsdk.credentials import Role, load_signer
from provsdk.disclosure import no_training_data, sign_disclosure
from provsdk.grants import create_grant, sign_grant
from provsdk.home import ProvsdkHome

HOST = "127.0.0.1"


def wav_bytes(frames: int = 800, rate: int = 8000) -> bytes:
    """A small, valid mono 16-bit WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * frames)
    return buffer.getvalue()


# Enough for detect_format to call it MP3 (an MPEG audio frame header), and no more.
MP3_HEAD = b"\xff\xfb\x90\x00" + b"\x00" * 60


@contextlib.contextmanager
def unused_port() -> Iterator[int]:
    """A port bound but never listened on: connecting to it is refused, and nobody else can
    take it while the generator is alive."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@contextlib.contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        yield f"http://{HOST}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass(frozen=True)
class Seen:
    """A request as a server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if self.json is not None:
            return JSONResponse(self.json, self.status, headers=self.headers)
        return Response(self.body, self.status, headers=self.headers)


class ScriptedApp:
    """Answers the n-th request with the n-th reply (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = replies
        self.seen: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        reply = self.replies[min(len(self.seen), len(self.replies)) - 1]
        await reply.response()(scope, receive, send)


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> RawRequest:
    """One HTTP/1.1 request (Content-Length bodies only: all httpx sends here)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, path, headers, body)


def raw_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """An asyncio socket server on its own loop and thread; each connection runs ``handler``
    and is closed after it (handlers still running at stop are cancelled)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: part of some tests
        except asyncio.CancelledError:
            pass  # stopped while stalling on purpose; ending quietly keeps the log clean
        finally:
            self._tasks.discard(task)
            writer.close()

    def start(self) -> str:
        self._thread.start()
        start = asyncio.start_server(self._serve, HOST, 0)
        self._server = asyncio.run_coroutine_threadsafe(start, self._loop).result(10)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://{HOST}:{port}"

    async def _shutdown(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)
        await self._server.wait_closed()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextlib.contextmanager
def serve_raw(handler: Handler) -> Iterator[tuple[str, RawServer]]:
    server = RawServer(handler)
    url = server.start()
    try:
        yield url, server
    finally:
        server.stop()


class FaultProxy:
    """Forwards connections to ``upstream``; for the first ``drops`` requests whose request
    line starts with ``prefix``, waits for the server's answer and then drops the client's
    connection instead of passing it on."""

    def __init__(self, upstream: str, prefix: bytes, drops: int = 1) -> None:
        self.upstream_port = int(upstream.rsplit(":", 1)[1])
        self.prefix = prefix
        self.drops = drops
        self.dropped = 0
        self._raw = RawServer(self._proxy)

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        drop = asyncio.Event()

        async def to_server() -> None:
            while data := await reader.read(65536):
                # httpx neither pipelines nor splits a request line: it opens a read.
                if data.startswith(self.prefix) and self.dropped < self.drops:
                    self.dropped += 1
                    drop.set()
                up_writer.write(data)
                await up_writer.drain()

        async def to_client() -> None:
            while data := await up_reader.read(65536):
                if drop.is_set():
                    writer.transport.abort()  # the server answered; the client never hears
                    return
                writer.write(data)
                await writer.drain()

        sending = asyncio.ensure_future(to_server())
        try:
            await to_client()
        finally:
            sending.cancel()
            up_writer.close()

    def __enter__(self) -> str:
        return self._raw.start()

    def __exit__(self, *exc_info: object) -> None:
        self._raw.stop()


# -- the protocol emulator ----------------------------------------------------------------------


@dataclass(frozen=True)
class EmulatorAssets:
    """Made once per session: the audio it serves and the statements it hands out."""

    folder: Path
    audio: dict[AudioFormat, Path]
    disclosure: str
    home: ProvsdkHome

    @classmethod
    def make(cls, home: ProvsdkHome, folder: Path) -> EmulatorAssets:
        rng = np.random.default_rng(7)
        noise = (rng.standard_normal((22050, 2)) * 3000).astype(np.int16)  # 0.5 s stereo
        audio = {}
        for fmt in (AudioFormat.WAV, AudioFormat.MP3):
            path = folder / f"noise.{fmt.extension}"
            encode(noise, 44100, fmt, path)
            audio[fmt] = path
        provider_key = load_signer(Role.PROVIDER, home=home, use_env=False)
        disclosure = sign_disclosure(no_training_data("emulator", "emu-model", "1.0"), provider_key)
        return cls(folder, audio, disclosure, home)


@dataclass
class Job:
    id: str
    key: str
    body: dict[str, Any]
    polls: int = 0


class ProtocolEmulator:
    """docs/protocol.md, minimally: one model, WAV and MP3, the same noise for every job.

    Knobs: ``polls_before_done`` (status polls answered "running" first), ``rate_limit_posts``
    (POSTs answered 429 first), ``never_finish``, ``wrong_sha256``, ``grant_missing``. A prompt
    containing "forbidden" ends in ``content_filtered``, one containing "broken" in an error.
    """

    def __init__(self, assets: EmulatorAssets, api_key: str) -> None:
        self.assets = assets
        self.api_key = api_key
        self.polls_before_done = 2
        self.rate_limit_posts = 0
        self.retry_after = "2"
        self.never_finish = False
        self.wrong_sha256 = False
        self.grant_missing = False
        self.jobs: dict[str, Job] = {}
        self.by_key: dict[str, str] = {}
        self.seen: list[tuple[str, str]] = []
        self.post_keys: list[str] = []
        self.post_request_ids: list[str] = []
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/v1/models", self.models),
                Route("/v1/generations", self.create, methods=["POST"]),
                Route("/v1/generations/{id}", self.status),
                Route("/v1/generations/{id}/audio", self.audio),
                Route("/v1/generations/{id}/grant", self.grant),
            ]
        )

    def _answer(self, body: Any, status: int = 200, **headers: str) -> Response:
        headers["X-Request-Id"] = f"req_{next(self._ids)}"
        return JSONResponse(body, status, headers=headers)

    def _error(self, status: int, code: str, message: str, **headers: str) -> Response:
        return self._answer({"error": {"code": code, "message": message}}, status, **headers)

    def _refused(self, request: Request) -> Response | None:
        self.seen.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "unauthorized", "missing or wrong API key")
        return None

    async def models(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        model = {
            "id": "emu-1",
            "name": "emu-model",
            "version": "1.0",
            "digital_source_type": "algorithmicMedia",
            "formats": ["wav", "mp3"],
            "max_duration": 600,
            "disclosure": self.assets.disclosure,
        }
        return self._answer({"models": [model]})

    async def create(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        key = request.headers.get("idempotency-key", "")
        self.post_keys.append(key)
        if self.rate_limit_posts > 0:
            self.rate_limit_posts -= 1
            return self._error(
                429, "rate_limited", "slow down", **{"Retry-After": self.retry_after}
            )
        body = await request.json()
        if key in self.by_key:
            job = self.jobs[self.by_key[key]]
            if job.body != body:
                return self._error(409, "idempotency_conflict", "key reused with another body")
            answer = self._answer(self._summary(job), 200)
            self.post_request_ids.append(answer.headers["x-request-id"])
            return answer
        job = Job(f"gen_{len(self.jobs) + 1}", key, body)
        self.jobs[job.id] = job
        self.by_key[key] = job.id
        answer = self._answer(self._summary(job), 202)
        self.post_request_ids.append(answer.headers["x-request-id"])
        return answer

    def _summary(self, job: Job) -> dict[str, Any]:
        return {
            "id": job.id,
            "status": "queued",
            "model": "emu-1",
            "created_at": "2025-01-01T00:00:00Z",
        }

    def _format(self, job: Job) -> AudioFormat:
        return AudioFormat.MP3 if job.body.get("format") == "mp3" else AudioFormat.WAV

    async def status(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        job = self.jobs.get(request.path_params["id"])
        if job is None:
            return self._error(404, "not_found", "no such generation")
        job.polls += 1
        answer: dict[str, Any] = {
            **self._summary(job),
            "seed": job.body.get("seed", 42),
            "finish_reason": None,
            "error": None,
        }
        if self.never_finish or job.polls <= self.polls_before_done:
            answer["status"] = "running"
        elif "forbidden" in job.body.get("prompt", ""):
            moderated = {"code": "content_filtered", "message": "the prompt was refused"}
            answer.update(status="failed", finish_reason="content_filtered", error=moderated)
        elif "broken" in job.body.get("prompt", ""):
            failed = {"code": "internal", "message": "rendering failed"}
            answer.update(status="failed", finish_reason="error", error=failed)
        else:
            fmt = self._format(job)
            data = self.assets.audio[fmt].read_bytes()
            digest = hashlib.sha256(data + (b"x" if self.wrong_sha256 else b"")).hexdigest()
            answer.update(
                status="succeeded",
                format=fmt.extension,
                content_type=fmt.mime_type,
                size=len(data),
                sha256=digest,
                finish_reason="success",
                error=None,
                audio_url=f"/v1/generations/{job.id}/audio",
            )
            if job.body.get("licensee"):
                answer["grant_url"] = f"/v1/generations/{job.id}/grant"
        return self._answer(answer)

    async def audio(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        job = self.jobs[request.path_params["id"]]
        fmt = self._format(job)
        headers = {"X-Request-Id": f"req_{next(self._ids)}"}
        return Response(
            self.assets.audio[fmt].read_bytes(), media_type=fmt.mime_type, headers=headers
        )

    async def grant(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        job = self.jobs[request.path_params["id"]]
        if self.grant_missing:
            return self._error(404, "not_found", "no grant for this generation")
        grant = create_grant(
            licensor="Emulator Licensing",
            licensee=job.body["licensee"],
            purposes=["commercial"],
            target_file=self.assets.audio[self._format(job)],
        )
        signer = load_signer(Role.LICENSOR, home=self.assets.home, use_env=False)
        return self._answer({"grant": sign_grant(grant, signer)})
