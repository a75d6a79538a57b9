"""Loopback emulators of the commercial providers' APIs, each as its public documentation
describes it (see the adapter modules in provsdk/providers/commercial/ for the sources).

Not a conftest: tests import it, as they import http_servers. Every emulator is a Starlette
app served by :func:`http_servers.serve_asgi` on 127.0.0.1, answers with a small real audio
file, counts the POSTs it received, and keeps every request it saw.

``fail`` is a list of failures to answer the next generation POSTs with, one each, in order:
"rate_limited" (429), "server_error" (500), and for ElevenLabs also "busy" (the second 429
flavour) and "quota". A prompt containing "forbidden" is refused by moderation where the
provider documents such a refusal. Each refusal of a bad key echoes the key it was sent, as a
careless server might: the adapters must never repeat it.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provsdk.audio.codec import encode
from provsdk.audio.formats import AudioFormat


def make_audio(folder: Path) -> dict[AudioFormat, bytes]:
    """Half a second of stereo noise, encoded as WAV and as MP3 by provsdk's own codec."""
    rng = np.random.default_rng(11)
    noise = (rng.standard_normal((22050, 2)) * 2500).astype(np.int16)
    audio = {}
    for fmt in (AudioFormat.WAV, AudioFormat.MP3):
        path = folder / f"emulated.{fmt.extension}"
        encode(noise, 44100, fmt, path)
        audio[fmt] = path.read_bytes()
    return audio


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data body (Starlette needs python-multipart for this)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return {}
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


@dataclass
class Emulator:
    """What the three emulators share: the key, the audio, the record of requests."""

    audio: dict[AudioFormat, bytes]
    key: str
    fail: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    posts: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def app(self) -> Starlette:
        raise NotImplementedError

    def request_id(self) -> str:
        return f"req-{next(self._ids):04d}"

    async def record(self, request: Request) -> Seen:
        seen = Seen(
            request.method,
            request.url.path,
            request.url.query,
            dict(request.headers),
            await request.body(),
        )
        self.seen.append(seen)
        return seen

    def next_failure(self) -> str | None:
        return self.fail.pop(0) if self.fail else None


class StabilityEmulator(Emulator):
    """``POST /v2beta/audio/stable-audio-2/text-to-audio``: multipart in, audio out, with
    ``finish-reason`` and ``seed`` headers; errors ``{"id", "name", "errors"}``. A prompt with
    "withheld" succeeds with ``finish-reason: CONTENT_FILTERED``."""

    PATH = "/v2beta/audio/stable-audio-2/text-to-audio"

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route(self.PATH, self.generate, methods=["POST"])])

    def _error(self, status: int, name: str, *errors: str) -> Response:
        # The error's id is the request's id for Stability's support: it comes in the body only.
        body = {"id": self.request_id(), "name": name, "errors": list(errors)}
        return JSONResponse(body, status)

    async def generate(self, request: Request) -> Response:
        seen = await self.record(request)
        self.posts += 1
        if seen.headers.get("authorization") != f"Bearer {self.key}":
            sent = seen.headers.get("authorization", "")
            return self._error(401, "unauthorized", f"authorization: {sent!r} is not a valid key")
        failure = self.next_failure()
        if failure == "rate_limited":
            return self._error(
                429, "rate_limit_exceeded", "You have exceeded the rate limit of 150 requests"
            )
        if failure == "server_error":
            return self._error(500, "internal_error", "An unexpected server error occurred")
        fields = form_fields(seen.headers.get("content-type", ""), seen.body)
        if "prompt" not in fields or fields.get("output_format") not in ("mp3", "wav"):
            return self._error(400, "bad_request", "prompt: is required")
        if seen.headers.get("accept") != "audio/*":
            return self._error(400, "bad_request", "accept: audio/* or application/json")
        if "forbidden" in fields["prompt"]:
            return self._error(
                403, "content_moderation", "Your request was flagged by our content moderation"
            )
        fmt = AudioFormat.MP3 if fields["output_format"] == "mp3" else AudioFormat.WAV
        finish = "CONTENT_FILTERED" if "withheld" in fields["prompt"] else "SUCCESS"
        headers = {"finish-reason": finish, "seed": fields.get("seed", "3141592")}
        return Response(self.audio[fmt], 200, headers=headers, media_type=fmt.mime_type)

    def fields(self, index: int = -1) -> dict[str, str]:
        seen = self.seen[index]
        return form_fields(seen.headers["content-type"], seen.body)


class ElevenLabsEmulator(Emulator):
    """``POST /v1/music?output_format=...``: JSON in, MP3 out; errors ``{"detail": {"status",
    "message"}}``; every answer carries ``request-id``. A prompt with "forbidden" is a
    ``bad_prompt`` with a ``prompt_suggestion``."""

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/music", self.compose, methods=["POST"])])

    def _error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        detail: dict[str, Any] = {"status": code, "message": message, **extra}
        return JSONResponse({"detail": detail}, status, headers={"request-id": self.request_id()})

    async def compose(self, request: Request) -> Response:
        seen = await self.record(request)
        self.posts += 1
        if seen.headers.get("xi-api-key") != self.key:
            sent = seen.headers.get("xi-api-key", "")
            return self._error(401, "invalid_api_key", f"Invalid API key: {sent}")
        failure = self.next_failure()
        if failure == "rate_limited":
            return self._error(
                429, "too_many_concurrent_requests", "Too many concurrent requests for your plan"
            )
        if failure == "busy":
            return self._error(429, "system_busy", "Our services are experiencing high traffic")
        if failure == "quota":
            return self._error(401, "quota_exceeded", "This request exceeds your quota")
        if failure == "server_error":
            return self._error(500, "internal_error", "Something went wrong")
        output_format = request.query_params.get("output_format", "")
        body = await request.json()
        length = body.get("music_length_ms")
        if not output_format.startswith("mp3_") or not isinstance(length, int):
            invalid = {"loc": ["body", "music_length_ms"], "msg": "invalid", "type": "value"}
            return JSONResponse({"detail": [invalid]}, 422)
        if "forbidden" in body.get("prompt", ""):
            suggestion = {"prompt_suggestion": "an upbeat 1960s British guitar pop song"}
            return self._error(
                400, "bad_prompt", "The prompt references copyrighted material", data=suggestion
            )
        headers = {"request-id": self.request_id(), "song-id": "song-42"}
        return Response(self.audio[AudioFormat.MP3], 200, headers=headers, media_type="audio/mpeg")

    def body(self, index: int = -1) -> Any:
        return json.loads(self.seen[index].body)


@dataclass
class Task:
    id: str
    body: dict[str, Any]
    polls: int = 0


@dataclass
class BeatovenEmulator(Emulator):
    """``POST /api/v1/tracks/compose`` → a task id; ``GET /api/v1/tasks/{id}`` → composing,
    running, then composed with ``meta.track_url``, a signed-looking link to ``/cdn/...`` (the
    same server stands in for the object store). A prompt with "broken" ends in a failed task.
    ``poll_errors`` answers that many status polls with 503 first; ``never_finish`` keeps the
    task running; ``track_url`` replaces the link handed out. The documentation names no
    request-id header; this emulator sends ``x-request-id`` to show that one present is kept.
    """

    polls_before_done: int = 2
    poll_errors: int = 0
    never_finish: bool = False
    track_url: str | None = None
    tasks: dict[str, Task] = field(default_factory=dict)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/tracks/compose", self.compose, methods=["POST"]),
                Route("/api/v1/tasks/{id}", self.task),
                Route("/cdn/{name}", self.cdn),
            ]
        )

    def _json(self, body: Any, status: int = 200) -> Response:
        return JSONResponse(body, status, headers={"x-request-id": self.request_id()})

    def _refused(self, seen: Seen) -> Response | None:
        if seen.headers.get("authorization") != f"Bearer {self.key}":
            sent = seen.headers.get("authorization", "")
            return self._json({"message": f"Invalid API key {sent}"}, 401)
        return None

    async def compose(self, request: Request) -> Response:
        seen = await self.record(request)
        self.posts += 1
        if refused := self._refused(seen):
            return refused
        failure = self.next_failure()
        if failure == "rate_limited":
            return self._json({"message": "Too many requests"}, 429)
        if failure == "server_error":
            return self._json({"message": "Internal server error"}, 500)
        body = await request.json()
        if not isinstance(body.get("prompt"), dict) or body.get("format") not in ("mp3", "wav"):
            return self._json({"message": "invalid request"}, 400)
        task = Task(f"task-{len(self.tasks) + 1}_1", body)
        self.tasks[task.id] = task
        return self._json({"status": "started", "task_id": task.id})

    async def task(self, request: Request) -> Response:
        seen = await self.record(request)
        if refused := self._refused(seen):
            return refused
        if self.poll_errors > 0:
            self.poll_errors -= 1
            return self._json({"message": "try again"}, 503)
        task = self.tasks.get(request.path_params["id"])
        if task is None:
            return self._json({"message": "no such task"}, 404)
        task.polls += 1
        if self.never_finish or task.polls <= self.polls_before_done:
            status = "composing" if task.polls == 1 else "running"
            return self._json({"status": status})
        if "broken" in task.body["prompt"]["text"]:
            return self._json({"status": "failed"})
        fmt = task.body["format"]
        base = str(request.base_url).rstrip("/")
        link = self.track_url or f"{base}/cdn/{task.id}.{fmt}?X-Amz-Signature=0123456789abcdef"
        meta = {
            "project_id": "project-1",
            "track_id": "track-1",
            "prompt": task.body["prompt"],
            "version": 1,
            "track_url": link,
            "stems_url": {"bass": link, "chords": link, "melody": link, "percussion": link},
        }
        return self._json({"status": "composed", "meta": meta})

    async def cdn(self, request: Request) -> Response:
        await self.record(request)
        fmt = AudioFormat.MP3 if request.path_params["name"].endswith(".mp3") else AudioFormat.WAV
        return Response(self.audio[fmt], 200, media_type=fmt.mime_type)
