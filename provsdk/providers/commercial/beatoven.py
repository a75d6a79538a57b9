"""Beatoven.ai's track composition API (provider name ``beatoven``).

What the public documentation says, as implemented here
(https://github.com/Beatoven/public-api/blob/main/docs/api-spec.md and its
``examples/compose.py``):

* ``Authorization: Bearer <key>`` on every request; JSON bodies.
* ``POST {base}/api/v1/tracks/compose`` with ``{"prompt": {"text": ...}, "format": "mp3" |
  "aac" | "wav", "looping": false}`` starts a composition and answers
  ``{"status": "started", "task_id": ...}``.
* ``GET {base}/api/v1/tasks/{task_id}`` answers the task's ``status``: ``composing`` (queued),
  ``running``, ``composed`` (then ``meta.track_url`` is the finished track, and
  ``meta.stems_url`` its stems) or ``failed``.
* The duration is asked for in the prompt text ("30 seconds peaceful lo-fi ...").

Choices where the documentation is silent:

* The compose POST carries no idempotency key: a 5xx, a timeout or a broken connection after
  it left is reported, never sent again; a 429 (refused before any work) and a request that
  never reached the server are sent again. The status GETs are idempotent: retried by the
  transport's rules.
* The track link is downloaded *without* the API key (it is a signed link, possibly on
  another host), over https unless the API itself is plain http (a loopback test server).
* A prompt that names no duration gets "<duration> seconds " in front; the prompt recorded is
  the caller's, the one sent is recorded as ``prompt_sent``.
* Polling starts every ``poll_interval`` seconds and backs off to ``max_poll_interval``;
  ``timeout`` bounds the whole composition.
* Error bodies have no documented shape: ``message`` / ``error`` / ``detail`` are read when
  present. No moderation refusal is documented, so none is mapped; a failed task is an
  unusable answer naming its task id.
* Formats other than MP3 are asked for as WAV (lossless); AAC is not used.
* The API takes no seed and reports none: a seed asked for is not sent, and none is recorded.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal, Unpack
from urllib.parse import quote

import httpx

from provsdk.audio.formats import AudioFormat
from provsdk.errors import ConfigurationError, ProviderResponseError
from provsdk.models.disclosure import Dataset, DeclaredDisclosure
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import Capability, Generation, GenerationRequest, check_model
from provsdk.providers.commercial.frame import AdapterOptions, CommercialProvider, licensed_music
from provsdk.providers.commercial.wire import Fault, json_object, text_of
from provsdk.providers.steps import Call, Download, Job, ask, fetch
from provsdk.providers.transport import DEFAULT_TIMEOUT, request_id_of

__all__ = ["API_KEY_ENV", "DEFAULT_BASE_URL", "BeatovenProvider"]

API_KEY_ENV = "BEATOVEN_API_KEY"
DEFAULT_BASE_URL = "https://public-api.beatoven.ai"
COMPOSE = "/api/v1/tracks/compose"
TASKS = "/api/v1/tasks/"
NAME = "beatoven"
MODEL = "beatoven.ai track composition API v1"  # the API names no model
_PENDING = ("started", "composing", "running")
_HAS_DURATION = re.compile(r"\d+(\.\d+)?\s*(s|secs?|seconds?|mins?|minutes?)\b", re.IGNORECASE)

SOURCES = (
    # Beatoven.ai among the first models certified by Fairly Trained as trained on licensed data.
    "https://musically.com/2024/01/18/fairly-trained-scheme-to-certify-ai-models-that-get"
    "-consent-for-training-data/",
    # Beatoven.ai and Musical AI: a model trained on over 3 million licensed tracks, loops,
    # samples and sounds, rights holders paid for training and sharing in the output's revenue.
    "https://musicbiz.rockol.it/news-748629/il-modello-ai-di-beatoven-che-paga-i-titolari-dei"
    "-diritti",
)


def declared_disclosure() -> DeclaredDisclosure:
    """What Beatoven.ai says in public about its models' training data."""
    return licensed_music(
        provider=("Beatoven.ai", "https://www.beatoven.ai"),
        model=("Beatoven.ai", "track composition API v1"),
        size="over 3 million licensed tracks, loops, samples and sounds",
        datasets=(
            Dataset(
                name="Music licensed from its rights holders (Fairly Trained Licensed Model "
                "certification, January 2024)",
                basis="licensed",
            ),
            Dataset(
                name="Musical AI licensed catalogue of tracks, loops, samples and sounds",
                basis="licensed",
                licensor="Musical AI, for the rights holders it represents",
                size="over 3 million items",
            ),
        ),
        measures="declared: licensed data only, rights holders paid; no crawled data",
        sources=SOURCES,
    )


def _fault(status: int, data: dict[str, Any]) -> Fault:
    error = data.get("error")
    if isinstance(error, dict):
        message = text_of(error.get("message")) or text_of(error.get("code"))
    else:
        message = text_of(data.get("message")) or text_of(error) or text_of(data.get("detail"))
    kind: Literal["quota"] | None = "quota" if status == 402 else None
    return Fault(message, text_of(data.get("request_id")), kind)


def prompt_with_duration(prompt: str, duration: float) -> str:
    """The prompt as sent: Beatoven reads the length from the text."""
    if _HAS_DURATION.search(prompt):
        return prompt
    return f"{duration:g} seconds {prompt}"


class BeatovenProvider(CommercialProvider):
    """Beatoven.ai's composition API: compose, poll, download. ``timeout`` (default 600 s)
    bounds the whole composition; ``looping`` asks for more looping. See
    :class:`CommercialProvider` for the other options; the key comes from
    ``$BEATOVEN_API_KEY`` unless ``api_key`` is given."""

    name = NAME
    capabilities = frozenset({Capability.JOB_AND_POLL})
    key_env = API_KEY_ENV
    default_base_url = DEFAULT_BASE_URL
    default_timeout = 600.0
    models: tuple[str, ...] = ()  # the API takes no model: naming one is refused

    def __init__(
        self,
        *,
        looping: bool = False,
        poll_interval: float = 2.0,
        max_poll_interval: float = 10.0,
        **options: Unpack[AdapterOptions],
    ) -> None:
        if not (0 < poll_interval <= max_poll_interval):
            raise ConfigurationError(f"{NAME}: poll intervals must be positive, least first")
        self.looping = looping
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        super().__init__(**options)

    def _http_timeout(self) -> httpx.Timeout:
        return DEFAULT_TIMEOUT  # each request is short: the composition itself is polled

    _dialect = staticmethod(_fault)

    def declared_disclosure(self) -> DeclaredDisclosure:
        return declared_disclosure()

    def _generation(self, request: GenerationRequest) -> Job[Generation]:
        check_model(self, request.model)
        deadline = time.monotonic() + self.timeout
        fmt = AudioFormat.MP3 if request.format is AudioFormat.MP3 else AudioFormat.WAV
        text = prompt_with_duration(request.prompt, request.duration)
        body = {"prompt": {"text": text}, "format": fmt.extension, "looping": self.looping}
        posted = yield from ask(Call("POST", COMPOSE, idempotent=False, json=body))
        rid = request_id_of(posted.headers)
        task = text_of((json_object(posted.content) or {}).get("task_id"))
        if task is None:
            raise ProviderResponseError(
                "the compose answer has no task_id", provider=NAME, request_id=rid
            )
        meta = yield from self._poll_task(task, rid, deadline)
        url = text_of(meta.get("track_url"))
        if url is None:
            raise ProviderResponseError(
                f"task {task} was composed without a track_url", provider=NAME, request_id=rid
            )
        downloaded = yield from fetch(Download(url, fmt))
        try:
            audio = self.checked(downloaded.path, fmt, downloaded.request_id)
        except BaseException:
            downloaded.path.unlink(missing_ok=True)
            raise
        parameters = [
            ("endpoint", self.host),
            ("task_id", task),
            ("format", fmt.extension),
            ("finish_reason", "composed"),
            ("prompt_sent", text),
        ]
        if track := text_of(meta.get("track_id")):
            parameters.insert(2, ("track_id", track))
        record = GenerationRecord(
            provider=NAME,
            model=MODEL,
            prompt=request.prompt,
            seed=None,  # the API takes and returns none
            duration=request.duration,
            request_id=rid,
            parameters=tuple(parameters),
        )
        return Generation(
            audio=audio,
            record=record,
            source_type=DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            software_agent=SoftwareAgent("Beatoven.ai", "track composition API v1"),
            # Beatoven.ai signs no training-data statement: what it says in public goes
            # in as declared, never as signed (see the declared module).
            declared_disclosure=self.declared_disclosure(),
        )

    def _poll_task(self, task: str, rid: str | None, deadline: float) -> Job[dict[str, Any]]:
        def read(answer: httpx.Response) -> dict[str, Any] | None:
            data = json_object(answer.content) or {}
            status = (text_of(data.get("status")) or "").lower()
            meta = data.get("meta")
            if status == "composed" and isinstance(meta, dict):
                return meta
            if status == "failed":
                said = text_of(data.get("message")) or text_of(data.get("error"))
                raise ProviderResponseError(
                    f"composition task {task} failed" + (f": {said}" if said else ""),
                    provider=NAME,
                    request_id=rid,
                )
            if status not in _PENDING:
                raise ProviderResponseError(
                    f"composition task {task} has an unknown status {status or None!r}",
                    provider=NAME,
                    request_id=request_id_of(answer.headers) or rid,
                )
            return None

        path = TASKS + quote(task, safe="")
        return (yield from self._poll(path, read, f"composition task {task}", rid, deadline))
