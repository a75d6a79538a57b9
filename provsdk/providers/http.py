"""The ``http`` provider: a generator that speaks the licensed generator protocol
(``docs/protocol.md``) over HTTP, blocking or asyncio.

The job is written once, as a generator of steps (:func:`HttpProvider._job` yields a request, a
download or a wait, and is sent the result); the remote-provider frame
(:mod:`provsdk.providers.remote`) carries the steps out, blocking or awaited, and polls.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.disclosure.statement import parse_disclosure
from provsdk.errors import (
    ConfigurationError,
    ContentFilteredError,
    ProviderResponseError,
    ProvsdkError,
    UnknownModelError,
)
from provsdk.grants.statement import parse_grant
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import Capability, EncodedAudio, Generation, GenerationRequest
from provsdk.providers.remote import RemoteOptions, RemoteProvider
from provsdk.providers.steps import Call, Download, Job, ask, fetch
from provsdk.providers.transport import DEFAULT_TIMEOUT, request_id_of

__all__ = ["API_KEY_ENV", "HttpProvider", "ModelInfo"]

API_KEY_ENV = "PROVSDK_API_KEY"
NAME = "http"


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


class HttpProvider(RemoteProvider):
    """A remote generator speaking the licensed generator protocol.

    ``endpoint`` is the server's base URL. ``api_key`` defaults to ``$PROVSDK_API_KEY``;
    ``model`` to the first one the server lists. Polling starts at ``poll_interval`` seconds and
    backs off to ``max_poll_interval``; ``timeout`` (default 600) bounds the whole job and
    ``http_timeout`` each request. See :class:`~provsdk.providers.remote.RemoteOptions` for the
    other options (transports, waits and the download folder, for tests).
    """

    name = NAME
    capabilities = frozenset({Capability.JOB_AND_POLL})
    key_env = API_KEY_ENV
    default_timeout = 600.0

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        model: str | None = None,
        poll_interval: float = 0.2,
        max_poll_interval: float = 2.0,
        http_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        **options: Unpack[RemoteOptions],
    ) -> None:
        if not endpoint:
            raise ConfigurationError(
                "the http provider needs an endpoint", hint="pass endpoint='https://…'"
            )
        if min(poll_interval, max_poll_interval) <= 0:
            raise ConfigurationError("http: poll intervals must be positive")
        self.model = model
        self.poll_interval = poll_interval
        self.max_poll_interval = max(poll_interval, max_poll_interval)
        self._request_timeout = http_timeout
        self._models: tuple[ModelInfo, ...] | None = None
        super().__init__(endpoint, **options)

    def __repr__(self) -> str:
        # Never the key.
        return f"HttpProvider({self.endpoint!r}, model={self.model!r})"

    @property
    def endpoint(self) -> str:
        return self.base_url

    def _http_timeout(self) -> httpx.Timeout:
        return self._request_timeout

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
        status, answer = yield from self._poll_job(job_id, request_id, deadline)
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
        known = tuple(m.id for m in self._models)
        offered = ", ".join(known)
        said = f"{self.host} offers no model {wanted!r}; it offers {offered}"
        raise UnknownModelError(self.host, wanted, known, message=said)

    def _poll_job(
        self, job_id: str, request_id: str | None, deadline: float
    ) -> Job[tuple[_Status, httpx.Response]]:
        def read(answer: httpx.Response) -> tuple[_Status, httpx.Response] | None:
            status = _Status.parse(answer)
            if status.state == "succeeded":
                return status, answer
            if status.state == "failed":
                raise _failure(job_id, status, request_id)
            if status.state not in ("queued", "running"):
                raise _bad(f"generation {job_id} has an unknown status {status.state!r}", answer)
            return None

        path = f"/v1/generations/{quote(job_id, safe='')}"
        return (yield from self._poll(path, read, f"generation {job_id}", request_id, deadline))

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
