"""The ``http`` provider: a generator that speaks the licensed generator protocol
(``docs/protocol.md``) over HTTP, blocking or asyncio.

The job is written once, as a generator of steps (:func:`HttpProvider._job` yields a request, a
download or a wait, and is sent the result); a blocking and an asyncio driver carry the steps
out. So the protocol logic exists once and only the I/O is doubled.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.disclosure.statement import parse_disclosure
from provsdk.errors import (
    ConfigurationError,
    ContentFilteredError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProvsdkError,
)
from provsdk.grants.statement import parse_grant
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import Capability, EncodedAudio, Generation, GenerationRequest
from provsdk.providers.jobs import (
    Call,
    Download,
    Job,
    Step,
    Wait,
    acall,
    arun_job,
    ask,
    call,
    fetch,
    run_job,
)
from provsdk.providers.transport import (
    DEFAULT_TIMEOUT,
    AsyncHttpTransport,
    HttpTransport,
    RetryPolicy,
    request_id_of,
)

__all__ = ["API_KEY_ENV", "HttpProvider", "ModelInfo"]

API_KEY_ENV = "PROVSDK_API_KEY"
NAME = "http"
T = TypeVar("T")


@dataclass(frozen=True)
class ModelInfo:
    """One entry of ``GET /v1/models``."""

    id: str
    name: str
    version: str
    source_type: DigitalSourceType
    formats: tuple[str, ...]
    disclosure: str | None  # the provider-signed training-data disclosure (JWS)


def _bad(message: str, response: httpx.Response | None = None) -> ProviderResponseError:
    rid = request_id_of(response.headers) if response is not None else None
    status = response.status_code if response is not None else None
    return ProviderResponseError(message, provider=NAME, request_id=rid, status=status)


def _object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise _bad(f"{what} is not JSON", response) from None
    if not isinstance(body, dict):
        raise _bad(f"{what} is not a JSON object", response)
    return body


def _text(body: Mapping[str, Any], key: str, what: str, response: httpx.Response) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"{what} has no {key!r}", response)
    return value


def _models(response: httpx.Response) -> tuple[ModelInfo, ...]:
    entries = _object(response, "the model list").get("models")
    if not isinstance(entries, list):
        raise _bad("the model list has no 'models' array", response)
    models: list[ModelInfo] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _bad("the model list holds something that is not a model", response)
        what = f"model {entry.get('id')!r}"
        try:
            source_type = DigitalSourceType.parse(
                _text(entry, "digital_source_type", what, response)
            )
        except ValueError as exc:
            raise _bad(f"{what}: {exc}", response) from None
        formats = entry.get("formats")
        disclosure = entry.get("disclosure")
        models.append(
            ModelInfo(
                id=_text(entry, "id", "a model", response),
                name=_text(entry, "name", what, response),
                version=_text(entry, "version", what, response),
                source_type=source_type,
                formats=tuple(f for f in formats if isinstance(f, str)) if formats else (),
                disclosure=disclosure if isinstance(disclosure, str) and disclosure else None,
            )
        )
    if not models:
        raise _bad("the endpoint offers no models", response)
    return tuple(models)


@dataclass(frozen=True)
class _Status:
    """``GET /v1/generations/{id}``, the fields the provider uses."""

    state: str
    seed: int | None
    format: str | None
    sha256: str | None
    finish_reason: str | None
    error_code: str | None
    error: str | None
    audio_url: str | None
    grant_url: str | None

    @classmethod
    def parse(cls, response: httpx.Response) -> _Status:
        body = _object(response, "the generation status")

        def text(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) and value else None

        # The protocol's error is {"code", "message"}; a bare string is taken as the message.
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        seed = body.get("seed")
        return cls(
            state=_text(body, "status", "the generation status", response),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            format=text("format"),
            sha256=text("sha256"),
            finish_reason=text("finish_reason"),
            error_code=code if isinstance(code, str) else None,
            error=" ".join(message.split())[:300] if isinstance(message, str) else None,
            audio_url=text("audio_url"),
            grant_url=text("grant_url"),
        )


class HttpProvider:
    """A remote generator speaking the licensed generator protocol.

    ``endpoint`` is the server's base URL. ``api_key`` defaults to ``$PROVSDK_API_KEY``;
    ``model`` to the first one the server lists. Polling starts at ``poll_interval`` seconds and
    backs off to ``max_poll_interval``; ``timeout`` bounds the whole job. ``transport`` /
    ``async_transport`` and ``sleep`` / ``async_sleep`` are for tests. Audio is downloaded into
    ``download_dir`` (default: a private folder under the system temporary folder).
    """

    name = NAME
    capabilities = frozenset({Capability.JOB_AND_POLL})

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        poll_interval: float = 0.2,
        max_poll_interval: float = 2.0,
        timeout: float = 600.0,
        http_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_download: int | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        download_dir: str | Path | None = None,
    ) -> None:
        if not endpoint:
            raise ConfigurationError(
                "the http provider needs an endpoint", hint="pass endpoint='https://…'"
            )
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        if not key.strip():
            # Checked here, before any request: a job is never started without credentials.
            raise ConfigurationError(
                "the http provider needs an API key",
                hint=f"set {API_KEY_ENV} or pass api_key",
            )
        if not key.isprintable():
            raise ConfigurationError("the API key holds characters a header cannot carry")
        if min(poll_interval, max_poll_interval, timeout) <= 0:
            raise ConfigurationError("poll intervals and the timeout must be positive")
        self.endpoint = endpoint
        self.model = model
        self.poll_interval = poll_interval
        self.max_poll_interval = max(poll_interval, max_poll_interval)
        self.timeout = timeout
        self._options: dict[str, Any] = {
            "provider": NAME,
            "headers": {"Authorization": f"Bearer {key.strip()}"},
            "timeout": http_timeout,
            "retry": retry,
        }
        if max_download is not None:
            self._options["max_download"] = max_download
        self._transport, self._async_transport = transport, async_transport
        self._sleep, self._async_sleep = sleep, async_sleep
        self._download_dir = Path(download_dir) if download_dir is not None else None
        self._own_download_dir = False
        # Validates the URL now, so a bad endpoint fails before any job.
        self._sync: HttpTransport | None = self._new_transport()
        self._models: tuple[ModelInfo, ...] | None = None

    def __repr__(self) -> str:
        # Never the key.
        return f"HttpProvider({self.endpoint!r}, model={self.model!r})"

    def _new_transport(self) -> HttpTransport:
        return HttpTransport(
            self.endpoint, transport=self._transport, sleep=self._sleep, **self._options
        )

    @property
    def host(self) -> str:
        return httpx.URL(self.endpoint).host

    def downloads(self) -> Path:
        """The folder audio is downloaded into (made, private, on first use)."""
        if self._download_dir is None:
            self._download_dir = Path(tempfile.mkdtemp(prefix="provsdk-http-"))
            self._own_download_dir = True
        return self._download_dir

    # -- blocking -----------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Generation:
        if self._sync is None:
            self._sync = self._new_transport()
        transport = self._sync

        def execute(step: Step) -> object:
            if isinstance(step, Call):
                return call(transport, step)
            if isinstance(step, Download):
                return transport.download(
                    step.path, dest_dir=self.downloads(), expect=step.expect, sha256=step.sha256
                )
            self._sleep(step.seconds)
            return None

        return run_job(self._job(request), execute)

    def close(self) -> None:
        """Close connections and remove the private download folder if it is empty."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._own_download_dir and self._download_dir is not None:
            try:
                self._download_dir.rmdir()
            except OSError:
                return  # not empty: a caller still owns a file in it, so the folder stays
            self._download_dir, self._own_download_dir = None, False

    def __enter__(self) -> HttpProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- asyncio ------------------------------------------------------------------------------

    async def agenerate(self, request: GenerationRequest) -> Generation:
        # A client per call: an httpx.AsyncClient belongs to the event loop that opened it.
        async with AsyncHttpTransport(
            self.endpoint, transport=self._async_transport, sleep=self._async_sleep, **self._options
        ) as transport:

            async def execute(step: Step) -> object:
                if isinstance(step, Call):
                    return await acall(transport, step)
                if isinstance(step, Download):
                    return await transport.download(
                        step.path, dest_dir=self.downloads(), expect=step.expect, sha256=step.sha256
                    )
                await self._async_sleep(step.seconds)
                return None

            return await arun_job(self._job(request), execute)

    # -- the job, once ------------------------------------------------------------------------

    def _job(self, request: GenerationRequest) -> Job[Generation]:
        deadline = time.monotonic() + self.timeout
        fmt = request.format or AudioFormat.WAV
        model = yield from self._model(request.model or self.model)
        if model.formats and fmt.extension not in model.formats:
            offered = ", ".join(model.formats)
            raise ConfigurationError(f"model {model.id!r} does not make {fmt}; it makes {offered}")
        body: dict[str, Any] = {
            "model": model.id,
            "prompt": request.prompt,
            "duration": request.duration,
            "format": fmt.extension,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.licensee is not None:
            body["licensee"] = request.licensee
        # One key for every retry of this POST: the server makes at most one generation per key.
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        posted = yield from ask(Call("POST", "/v1/generations", json=body, headers=headers))
        request_id = request_id_of(posted.headers)
        job_id = _text(_object(posted, "the generation"), "id", "the generation", posted)
        status, answer = yield from self._poll(job_id, request_id, deadline)
        if status.format is not None and status.format != fmt.extension:
            raise _bad(f"generation {job_id} is {status.format}, not the {fmt} asked for", answer)
        if status.audio_url is None:
            raise _bad(f"generation {job_id} succeeded without an audio_url", answer)
        audio = yield from fetch(Download(status.audio_url, expect=fmt, sha256=status.sha256))
        try:
            grants = yield from self._grants(status)
            try:
                info = probe(audio.path)
            except ProvsdkError as exc:
                raise _bad(f"the audio of generation {job_id} is unusable: {exc.message}") from None
        except BaseException:  # GeneratorExit included: the file is ours until we return it
            audio.path.unlink(missing_ok=True)
            raise
        record = GenerationRecord(
            provider=NAME,
            model=f"{model.name} {model.version}",
            prompt=request.prompt,
            seed=status.seed,
            duration=request.duration,
            request_id=request_id,
            parameters=(
                ("endpoint", self.host),
                ("generation_id", job_id),
                ("finish_reason", status.finish_reason or "success"),
            ),
        )
        return Generation(
            audio=EncodedAudio(
                audio.path, audio.format, info.duration, info.sample_rate, info.channels
            ),
            record=record,
            source_type=model.source_type,
            software_agent=SoftwareAgent(model.name, model.version),
            disclosure=model.disclosure,
            grants=grants,
        )

    def _model(self, wanted: str | None) -> Job[ModelInfo]:
        if self._models is None:
            answer = yield from ask(Call("GET", "/v1/models"))
            models = _models(answer)
            for model in models:
                if model.disclosure is not None:
                    _check_token(model.disclosure, parse_disclosure, "disclosure", answer)
            self._models = models
        if wanted is None:
            return self._models[0]
        for model in self._models:
            if model.id == wanted:
                return model
        offered = ", ".join(m.id for m in self._models)
        raise ConfigurationError(f"{self.host} offers no model {wanted!r}; it offers {offered}")

    def _poll(
        self, job_id: str, request_id: str | None, deadline: float
    ) -> Job[tuple[_Status, httpx.Response]]:
        path = f"/v1/generations/{quote(job_id, safe='')}"
        interval = self.poll_interval
        while True:
            answer = yield from ask(Call("GET", path))
            status = _Status.parse(answer)
            if status.state == "succeeded":
                return status, answer
            if status.state == "failed":
                raise _failure(job_id, status, request_id)
            if status.state not in ("queued", "running"):
                raise _bad(f"generation {job_id} has an unknown status {status.state!r}", answer)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeoutError(
                    f"generation {job_id} did not finish within {self.timeout:g} s",
                    provider=NAME,
                    request_id=request_id,
                )
            yield Wait(min(interval, remaining))
            interval = min(interval * 1.5, self.max_poll_interval)

    def _grants(self, status: _Status) -> Job[tuple[str, ...]]:
        if status.grant_url is None:
            return ()
        answer = yield from ask(Call("GET", status.grant_url))
        token = _text(_object(answer, "the grant"), "grant", "the grant", answer)
        _check_token(token, parse_grant, "grant", answer)
        return (token,)


def _check_token(
    token: str, parse: Callable[..., object], what: str, response: httpx.Response
) -> None:
    """A signed statement the provider sent must at least parse; trust is the verifier's job."""
    try:
        parse(token)
    except ProvsdkError as exc:
        raise _bad(f"the {what} the server sent is unusable: {exc.message}", response) from None


def _failure(job_id: str, status: _Status, request_id: str | None) -> Exception:
    detail = f": {status.error}" if status.error else ""
    if "content_filtered" in (status.finish_reason, status.error_code):
        return ContentFilteredError(
            f"generation {job_id} was refused by moderation{detail}",
            provider=NAME,
            request_id=request_id,
        )
    return ProviderResponseError(
        f"generation {job_id} failed ({status.finish_reason or 'no reason given'}){detail}",
        provider=NAME,
        request_id=request_id,
    )
