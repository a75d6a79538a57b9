"""Stability AI's Stable Audio 2.5 over its REST API (provider name ``stability``).

What the public documentation says, as implemented here:

* ``POST {base}/v2beta/audio/stable-audio-2/text-to-audio``, a multipart/form-data body with
  ``prompt``, ``duration`` (seconds), ``seed``, ``output_format`` (``mp3`` or ``wav``) and
  ``model`` (``stable-audio-2.5``); ``Authorization: Bearer <key>``; ``Accept: audio/*`` to have
  the audio bytes themselves as the answer
  (https://platform.stability.ai/docs/api-reference, the Stable Audio 2 text-to-audio call).
* A successful answer carries the headers ``finish-reason`` (``SUCCESS``, or
  ``CONTENT_FILTERED`` when the output broke the content policy) and ``seed``.
* Error answers are JSON ``{"id": ..., "name": ..., "errors": [...]}``; ``id`` names the
  request for Stability's support. A 403 named ``content_moderation`` is a moderation refusal.
* The rate limit is 150 requests per 10 seconds; past it the answer is 429 and the key is timed
  out for 60 seconds (https://stabilityplatform.freshdesk.com/support/solutions/articles/
  150000186026-api-key-rate-limit-information). A 429 without ``Retry-After`` is therefore
  handed to the transport as ``Retry-After: 60``, so that a retry does not come too early.

Choices where the documentation is silent:

* The POST carries no idempotency key, so the transport's rules for a non-idempotent request
  apply: a 5xx, a timeout or a broken connection after it left is reported with the request id,
  never sent again (it may have been accepted, and billed); a 429 (refused before any work)
  and a request that never reached the server are sent again after the wait asked for.
* ``finish-reason: CONTENT_FILTERED`` raises ContentFilteredError and the audio is dropped; a
  missing ``finish-reason`` is taken as success, an unknown one as an unusable answer.
* 402 (payment required) is read as an exhausted account.
* A successful answer carries no documented request id; ``x-request-id`` / ``request-id`` are
  recorded when present.
* Formats other than MP3 are asked for as WAV (lossless): the client encodes from there.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack

import httpx

from provsdk.audio.formats import AudioFormat
from provsdk.errors import ContentFilteredError, ProviderResponseError
from provsdk.models.disclosure import Dataset, DeclaredDisclosure
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import Capability, Generation, GenerationRequest, check_model
from provsdk.providers.commercial.frame import AdapterOptions, CommercialProvider, licensed_music
from provsdk.providers.commercial.wire import Fault, text_of
from provsdk.providers.steps import Call, Job, ask
from provsdk.providers.transport import request_id_of

__all__ = ["API_KEY_ENV", "DEFAULT_BASE_URL", "DEFAULT_MODEL", "StabilityProvider"]

API_KEY_ENV = "STABILITY_API_KEY"
DEFAULT_BASE_URL = "https://api.stability.ai"
DEFAULT_MODEL = "stable-audio-2.5"
PATH = "/v2beta/audio/stable-audio-2/text-to-audio"
NAME = "stability"
LOCKOUT = 60.0  # seconds a key is timed out for once past the rate limit

# Model id -> the software agent the manifest names.
_AGENTS = {
    "stable-audio-2.5": SoftwareAgent("Stable Audio", "2.5"),
    "stable-audio-2": SoftwareAgent("Stable Audio", "2.0"),
}

SOURCES = (
    # Stability AI's announcement of Stable Audio 2.5.
    "https://stability.ai/news-updates/stability-ai-introduces-stable-audio-25-the-first-audio"
    "-model-built-for-enterprise-sound-production-at-scale",
    # A Stability AI researcher: Stable Audio 1.0, 1.1 and 2.0 were trained on AudioSparx data.
    "https://huggingface.co/stabilityai/stable-audio-open-1.0/discussions/20",
    # Comfy's partner-node guide, relaying that Stable Audio 2.5 was trained on licensed audio only.
    "https://docs.comfy.org/tutorials/api-nodes/stability-ai/stable-audio",
)


def declared_disclosure(model: str = DEFAULT_MODEL) -> DeclaredDisclosure:
    """What Stability AI says in public about Stable Audio's training data."""
    agent = _AGENTS.get(model, SoftwareAgent("Stable Audio", model))
    return licensed_music(
        provider=("Stability AI", "https://stability.ai"),
        model=(agent.name, agent.version or model),
        size=None,  # not stated for 2.5
        datasets=(
            Dataset(
                name="AudioSparx licensed music library",
                basis="licensed",
                licensor="AudioSparx",
                url="https://www.audiosparx.com",
            ),
        ),
        measures="declared: licensed data only; no crawled data is stated",
        sources=SOURCES,
    )


def _fault(status: int, data: dict[str, Any]) -> Fault:
    """``{"id", "name", "errors": [...]}``: the name, then the errors, make the message."""
    name = text_of(data.get("name"))
    errors = data.get("errors")
    details = [t for t in map(text_of, errors) if t] if isinstance(errors, list) else []
    message = ": ".join(p for p in (name, "; ".join(details)) if p) or text_of(data.get("message"))
    kind: Literal["refused", "quota"] | None = None
    if name == "content_moderation":
        kind = "refused"
    elif status == 402:
        kind = "quota"
    # Past the rate limit the key is timed out for 60 s: an earlier try would be refused too.
    wait = LOCKOUT if status == 429 else None
    return Fault(message, text_of(data.get("id")), kind, wait)


class StabilityProvider(CommercialProvider):
    """Stable Audio over Stability AI's API. ``model`` defaults to ``stable-audio-2.5``;
    ``steps`` and ``cfg_scale`` are passed on when given. See :class:`CommercialProvider` for
    the other options; the key comes from ``$STABILITY_API_KEY`` unless ``api_key`` is given."""

    name = NAME
    capabilities = frozenset({Capability.SYNCHRONOUS})
    key_env = API_KEY_ENV
    default_base_url = DEFAULT_BASE_URL
    models = tuple(_AGENTS)

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        steps: int | None = None,
        cfg_scale: float | None = None,
        **options: Unpack[AdapterOptions],
    ) -> None:
        check_model(self, model)
        super().__init__(**options)
        self.model = model
        self.steps = steps
        self.cfg_scale = cfg_scale

    def _headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Accept": "audio/*"}

    _dialect = staticmethod(_fault)

    def declared_disclosure(self) -> DeclaredDisclosure:
        return declared_disclosure(self.model)

    def _generation(self, request: GenerationRequest) -> Job[Generation]:
        check_model(self, request.model)
        model = request.model or self.model
        fmt = AudioFormat.MP3 if request.format is AudioFormat.MP3 else AudioFormat.WAV
        fields: dict[str, str] = {
            "prompt": request.prompt,
            "duration": f"{request.duration:g}",
            "output_format": fmt.extension,
            "model": model,
        }
        if request.seed is not None:
            fields["seed"] = str(request.seed)
        if self.steps is not None:
            fields["steps"] = str(self.steps)
        if self.cfg_scale is not None:
            fields["cfg_scale"] = f"{self.cfg_scale:g}"
        # Every field as a multipart part without a filename: the endpoint takes
        # multipart/form-data only, which httpx sends once there are "files".
        parts = [(key, (None, value)) for key, value in fields.items()]
        answer = yield from ask(Call("POST", PATH, idempotent=False, files=parts))
        rid = request_id_of(answer.headers)
        finish = answer.headers.get("finish-reason", "SUCCESS").strip().upper()
        if finish == "CONTENT_FILTERED":
            raise ContentFilteredError(
                "the output was withheld by content moderation (finish-reason CONTENT_FILTERED)",
                provider=NAME,
                request_id=rid,
            )
        if finish != "SUCCESS":
            raise ProviderResponseError(
                f"unknown finish-reason {text_of(finish)!r}", provider=NAME, request_id=rid
            )
        audio = self.keep_answer(answer, fmt)
        record = GenerationRecord(
            provider=NAME,
            model=model,
            prompt=request.prompt,
            seed=_seed(answer.headers),
            duration=request.duration,
            request_id=rid,
            parameters=(
                ("endpoint", self.host),
                ("output_format", fmt.extension),
                ("finish_reason", finish),
            ),
        )
        return Generation(
            audio=audio,
            record=record,
            source_type=DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            software_agent=_AGENTS.get(model, SoftwareAgent("Stable Audio", model)),
            # Stability signs no training-data statement: what it says in public goes
            # in as declared, never as signed (see the declared module).
            # The model this request used, which the created action names too.
            declared_disclosure=declared_disclosure(model),
        )


def _seed(headers: httpx.Headers) -> int | None:
    value = headers.get("seed", "").strip()
    return int(value) if value.isdigit() else None
