"""ElevenLabs' Eleven Music over its REST API (provider name ``elevenlabs``).

What the public documentation says, as implemented here:

* ``POST {base}/v1/music?output_format=mp3_44100_128`` with the header ``xi-api-key`` and a
  JSON body ``{"prompt", "music_length_ms", "model_id", "seed", "force_instrumental"}``; the
  answer's body is the audio (https://elevenlabs.io/docs/api-reference/music/compose; the
  official SDK's ``music/raw_client.py`` sends the same). Output formats are ``mp3_*``,
  ``pcm_*``, ``opus_*`` and telephony codecs: no WAV container.
* Errors are JSON ``{"detail": {"status": ..., "message": ...}}`` (validation errors: a
  ``detail`` list). 401 ``invalid_api_key``; ``quota_exceeded`` when the account is out of
  credits (https://help.elevenlabs.io/hc/en-us/articles/19572237925521-API-Error-Code-400-or-401).
* 429 comes in two flavours: ``too_many_concurrent_requests`` (more generations at once than
  the plan allows) and ``system_busy`` (ElevenLabs is overloaded; a later try usually works)
  (https://help.elevenlabs.io/hc/en-us/articles/19571824571921-API-Error-Code-429).
* A prompt naming artists, bands or copyrighted lyrics is refused as ``bad_prompt`` with a
  ``prompt_suggestion`` (``bad_composition_plan`` for plans)
  (https://elevenlabs.io/docs/cookbooks/music/quickstart, "Copyrighted material").
* Answers carry a ``request-id`` header; music answers may carry ``song-id``.

Choices where the documentation is silent:

* The POST carries no idempotency key, so the transport's rules for a non-idempotent request
  apply: a 5xx, a timeout or a broken connection after it left is reported with the request id,
  never sent again (it may have been accepted, and billed); a 429 (refused before any work)
  and a request that never reached the server are sent again after the wait asked for.
* ``bad_prompt`` / ``bad_composition_plan`` become ContentFilteredError whatever the status
  (the documentation gives the body, not the code), with the suggestion in the message.
* Audio is always asked for as MP3 (``output_format`` must be an ``mp3_*`` format: PCM comes
  without a header that says its layout); the client encodes other formats from it.
* No finish reason is sent: a 200 with audio is recorded as ``success``. The seed recorded is
  the one sent, since the answer does not echo it.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack
from urllib.parse import quote

from provsdk.audio.formats import AudioFormat
from provsdk.errors import ConfigurationError
from provsdk.models.disclosure import Dataset, DeclaredDisclosure
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import Capability, Generation, GenerationRequest, check_model
from provsdk.providers.commercial.frame import AdapterOptions, CommercialProvider, licensed_music
from provsdk.providers.commercial.wire import Fault, text_of
from provsdk.providers.steps import Call, Job, ask
from provsdk.providers.transport import request_id_of

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_OUTPUT_FORMAT",
    "ElevenLabsProvider",
]

API_KEY_ENV = "ELEVENLABS_API_KEY"
DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_MODEL = "music_v1"
DEFAULT_OUTPUT_FORMAT = "mp3_44100_128"  # available on every plan; 192 kbps needs Creator
PATH = "/v1/music"
NAME = "elevenlabs"

# What each documented error status means, said for a person.
_EXPLAINED = {
    "too_many_concurrent_requests": (
        "too many generations at once for this plan's concurrency limit; "
        "wait for running ones to finish"
    ),
    "system_busy": "ElevenLabs is busy right now; trying again later usually works",
    "quota_exceeded": "the account has too few credits left for this request",
    "bad_prompt": "the prompt was refused (it may name an artist or quote lyrics)",
    "bad_composition_plan": "the composition plan was refused (copyrighted styles)",
    "invalid_api_key": "the API key is not valid",
}

SOURCES = (
    # Reporting ElevenLabs' confirmation that the base model learned from licensed production
    # music, and the Kobalt and Merlin licences.
    "https://springsoundmusic.com/kobalt-elevenlabs-epidemic-ai-music-licensing-framework-africa/",
    # Reporting the Eleven Music launch and its Merlin Network and Kobalt training licences.
    "https://www.aibase.com/news/20274",
)


def declared_disclosure(model: str = DEFAULT_MODEL) -> DeclaredDisclosure:
    """What ElevenLabs says in public about Eleven Music's training data."""
    return licensed_music(
        provider=("ElevenLabs", "https://elevenlabs.io"),
        model=("Eleven Music", model),
        size=None,  # not stated
        datasets=(
            Dataset(name="Licensed production music", basis="licensed"),
            Dataset(
                name="Opt-in catalogues licensed through Merlin (recordings) and Kobalt "
                "(publishing); reported as the training data of the Pro tier's model",
                basis="licensed",
                licensor="Merlin Network; Kobalt Music Group",
            ),
        ),
        measures="declared: licensed data only; no crawled data is stated",
        sources=SOURCES,
    )


def _fault(status: int, data: dict[str, Any]) -> Fault:
    detail = data.get("detail")
    code = message = rid = suggestion = None
    if isinstance(detail, dict):
        code = text_of(detail.get("status")) or text_of(detail.get("code"))
        message = text_of(detail.get("message"))
        rid = text_of(detail.get("request_id"))
        extra = detail.get("data")
        if isinstance(extra, dict):
            suggestion = text_of(extra.get("prompt_suggestion"))
    elif isinstance(detail, list):  # request validation: [{"loc", "msg", "type"}, ...]
        found = [text_of(d.get("msg")) for d in detail if isinstance(d, dict)]
        message = "; ".join(m for m in found if m) or None
    else:
        message = text_of(detail) or text_of(data.get("message"))
    parts = [_EXPLAINED.get(code or "", ""), f"({code})" if code else "", message or ""]
    if suggestion:
        parts.append(f"; suggested prompt: {suggestion}")
    said = " ".join(p for p in parts if p).replace(" ;", ";") or None
    kind: Literal["refused", "quota"] | None = None
    if code in ("bad_prompt", "bad_composition_plan"):
        kind = "refused"
    elif code == "quota_exceeded" or status == 402:
        kind = "quota"
    return Fault(said, rid, kind)


class ElevenLabsProvider(CommercialProvider):
    """Eleven Music over ElevenLabs' API. ``model`` defaults to ``music_v1``; ``output_format``
    to ``mp3_44100_128``; ``force_instrumental`` is passed on when given. See
    :class:`CommercialProvider` for the other options; the key comes from
    ``$ELEVENLABS_API_KEY`` unless ``api_key`` is given."""

    name = NAME
    capabilities = frozenset({Capability.SYNCHRONOUS})
    key_env = API_KEY_ENV
    default_base_url = DEFAULT_BASE_URL
    models = (DEFAULT_MODEL,)  # the one music model the API documents

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        output_format: str = DEFAULT_OUTPUT_FORMAT,
        force_instrumental: bool | None = None,
        **options: Unpack[AdapterOptions],
    ) -> None:
        if not output_format.startswith("mp3_"):
            raise ConfigurationError(
                f"{NAME}: output_format must be an mp3_* format (got {output_format!r})",
                hint="PCM answers carry no header; the client encodes other formats from MP3",
            )
        check_model(self, model)
        super().__init__(**options)
        self.model = model
        self.output_format = output_format
        self.force_instrumental = force_instrumental

    def _headers(self, key: str) -> dict[str, str]:
        return {"xi-api-key": key, "Accept": "audio/mpeg"}

    _dialect = staticmethod(_fault)

    def declared_disclosure(self) -> DeclaredDisclosure:
        return declared_disclosure(self.model)

    def _generation(self, request: GenerationRequest) -> Job[Generation]:
        check_model(self, request.model)
        model = request.model or self.model
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "music_length_ms": round(request.duration * 1000),
            "model_id": model,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if self.force_instrumental is not None:
            body["force_instrumental"] = self.force_instrumental
        path = f"{PATH}?output_format={quote(self.output_format, safe='')}"
        answer = yield from ask(Call("POST", path, idempotent=False, json=body))
        audio = self.keep_answer(answer, AudioFormat.MP3)
        parameters = [
            ("endpoint", self.host),
            ("output_format", self.output_format),
            ("finish_reason", "success"),
        ]
        if song := text_of(answer.headers.get("song-id")):
            parameters.append(("song_id", song))
        record = GenerationRecord(
            provider=NAME,
            model=model,
            prompt=request.prompt,
            seed=request.seed,
            duration=request.duration,
            request_id=request_id_of(answer.headers),
            parameters=tuple(parameters),
        )
        return Generation(
            audio=audio,
            record=record,
            source_type=DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            software_agent=SoftwareAgent("Eleven Music", model),
            # ElevenLabs signs no training-data statement: what it says in public goes
            # in as declared, never as signed (see the declared module).
            # The model this request used, which the created action names too.
            declared_disclosure=declared_disclosure(model),
        )
