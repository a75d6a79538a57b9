"""The Stability AI, ElevenLabs and Beatoven.ai adapters against loopback emulators of their
APIs (tests/provider_emulators.py). Nothing here reaches the internet: every base_url is a
server on 127.0.0.1, and every wait between retries or polls is recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from http_servers import FaultProxy, serve_asgi
from provider_emulators import (
    BeatovenEmulator,
    ElevenLabsEmulator,
    Emulator,
    StabilityEmulator,
    make_audio,
)

from provsdk import Client
from provsdk.audio.formats import AudioFormat
from provsdk.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentFilteredError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    RateLimitError,
)
from provsdk.home import ProvsdkHome
from provsdk.models.disclosure import Disclosure
from provsdk.models.origin import DigitalSourceType, SoftwareAgent
from provsdk.providers import EncodedAudio, GenerationRequest, get_provider, provider_names
from provsdk.providers.commercial import beatoven, elevenlabs, stability
from provsdk.providers.commercial.frame import CommercialProvider
from provsdk.providers.transport import RetryPolicy

KEY = "sk-emulated-0123456789abcdef"
WRONG_KEY = "sk-wrong-key-9876543210"
REQUEST = GenerationRequest("warm lofi beat", 0.5, seed=7, format=AudioFormat.MP3)


@dataclass(frozen=True)
class Case:
    name: str
    emulator: type[Emulator]
    provider: type[CommercialProvider]
    key_env: str
    model: str
    agent: SoftwareAgent
    post: bytes  # the start of the generation POST's request line
    # The request id the record holds on success: Stability's successful answer carries none.
    success_id: str | None


CASES = [
    Case(
        "stability",
        StabilityEmulator,
        stability.StabilityProvider,
        "STABILITY_API_KEY",
        "stable-audio-2.5",
        SoftwareAgent("Stable Audio", "2.5"),
        b"POST /v2beta/audio/stable-audio-2/text-to-audio ",
        None,
    ),
    Case(
        "elevenlabs",
        ElevenLabsEmulator,
        elevenlabs.ElevenLabsProvider,
        "ELEVENLABS_API_KEY",
        "music_v1",
        SoftwareAgent("Eleven Music", "music_v1"),
        b"POST /v1/music?",
        "req-0001",
    ),
    Case(
        "beatoven",
        BeatovenEmulator,
        beatoven.BeatovenProvider,
        "BEATOVEN_API_KEY",
        beatoven.MODEL,
        SoftwareAgent("Beatoven.ai", "track composition API v1"),
        b"POST /api/v1/tracks/compose ",
        "req-0001",
    ),
]
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[AudioFormat, bytes]:
    return make_audio(tmp_path_factory.mktemp("emulated"))


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    chosen: Case = request.param
    return chosen


def emulator_for(name: str, audio: dict[AudioFormat, bytes]) -> Any:
    return BY_NAME[name].emulator(audio, KEY)


@pytest.fixture
def emulator(case: Case, audio: dict[AudioFormat, bytes]) -> Any:
    return emulator_for(case.name, audio)


@pytest.fixture
def url(emulator: Emulator) -> Iterator[str]:
    with serve_asgi(emulator.app) as base:
        yield base


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def make(
    name: str, url: str, sleeps: list[float], downloads: Path, **options: Any
) -> CommercialProvider:
    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    options.setdefault("api_key", KEY)
    return BY_NAME[name].provider(
        base_url=url,
        sleep=sleeps.append,
        async_sleep=async_sleep,
        download_dir=downloads,
        **options,
    )


def failing(
    case: Case, url: str, sleeps: list[float], downloads: Path, **options: Any
) -> ProviderError:
    """The error a generation ends in."""
    with (
        make(case.name, url, sleeps, downloads, **options) as provider,
        pytest.raises(ProviderError) as caught,
    ):
        provider.generate(REQUEST)
    assert list(downloads.iterdir()) == []  # nothing half-received is left behind
    return caught.value


# -- what every adapter does ---------------------------------------------------------------------


def test_generates(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    with make(case.name, url, sleeps, downloads) as provider:
        result = provider.generate(REQUEST)
        declared = provider.declared_disclosure()
    audio = result.audio
    assert isinstance(audio, EncodedAudio)
    assert audio.format is AudioFormat.MP3
    assert audio.path.read_bytes() == emulator.audio[AudioFormat.MP3]
    assert audio.path.parent == downloads
    assert (audio.sample_rate, audio.channels) == (44100, 2)
    record = result.record
    assert (record.provider, record.model, record.prompt) == (case.name, case.model, REQUEST.prompt)
    assert record.duration == 0.5 and record.request_id == case.success_id
    assert dict(record.parameters)["endpoint"] == "127.0.0.1"
    assert "finish_reason" in dict(record.parameters)
    assert result.source_type is DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA
    assert result.software_agent == case.agent
    # Nothing is presented as signed by the provider: what it says publicly goes as declared.
    assert result.disclosure is None and result.unsigned_disclosure is None
    assert result.declared_disclosure == declared
    assert emulator.posts == 1


def test_agenerate(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    with make(case.name, url, sleeps, downloads) as provider:
        result = asyncio.run(provider.agenerate(REQUEST))
    assert isinstance(result.audio, EncodedAudio)
    assert result.audio.path.read_bytes() == emulator.audio[AudioFormat.MP3]
    assert result.record.model == case.model and emulator.posts == 1


def test_client_signs_a_file_that_verifies(
    case: Case, url: str, sleeps: list[float], downloads: Path, dev_home: ProvsdkHome
) -> None:
    out = downloads.parent / "x.mp3"
    provider = make(case.name, url, sleeps, downloads)
    with provider:
        track = Client(provider=provider, home=dev_home).generate(
            "warm lofi beat", duration=0.5, seed=7, out=out
        )
    report = track.report
    assert report.passed, report.reasons
    origin = report.origin
    assert origin.digital_source_type == DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.value
    assert (origin.provider, origin.model) == (case.name, case.model)
    assert (origin.generator, origin.generator_version) == (case.agent.name, case.agent.version)
    disclosure = report.disclosure
    assert disclosure.present and disclosure.declared and disclosure.trusted is False
    assert disclosure.sources == provider.declared_disclosure().sources
    assert disclosure.training_bases == ("licensed",)
    assert list(downloads.iterdir()) == []  # the client removed the provider's file


def test_bad_key(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    error = failing(case, url, sleeps, downloads, api_key=WRONG_KEY)
    assert isinstance(error, AuthenticationError)
    assert error.request_id == "req-0001"
    assert WRONG_KEY not in str(error) and WRONG_KEY not in error.diagnostics()
    assert case.key_env in error.diagnostics()
    assert emulator.posts == 1 and sleeps == []


def test_rate_limited_post_is_sent_again_then_reported(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    # A 429 is a refusal before any work: the transport sends even a plain POST again.
    emulator.fail = ["rate_limited"] * 3
    error = failing(case, url, sleeps, downloads, retry=RetryPolicy(attempts=3))
    assert isinstance(error, RateLimitError)
    assert "after 3 attempts" in str(error)
    assert emulator.posts == 3 and len(sleeps) == 2
    if case.name == "stability":  # its documented 60 s lockout, as the wait between tries
        assert sleeps == [60.0, 60.0] and error.retry_after == 60.0


def test_rate_limited_once_then_generated(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    emulator.fail = ["rate_limited"]
    with make(case.name, url, sleeps, downloads) as provider:
        provider.generate(REQUEST)
    assert emulator.posts == 2 and len(sleeps) >= 1


def test_server_error_on_the_post_is_not_sent_again(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    emulator.fail = ["server_error"]
    error = failing(case, url, sleeps, downloads)
    assert isinstance(error, ProviderResponseError) and error.status == 500
    assert error.request_id == "req-0001" and "(request id req-0001)" in str(error)
    assert "may have been processed, so it was not sent again" in str(error)
    assert emulator.posts == 1 and sleeps == []


def test_answer_lost_after_the_post_is_not_sent_again(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    with FaultProxy(url, case.post) as proxied:
        error = failing(case, proxied, sleeps, downloads)
    assert isinstance(error, ProviderResponseError)
    assert "not sent again" in str(error)
    assert emulator.posts == 1


def test_missing_key_fails_before_any_request(
    case: Case, emulator: Emulator, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(case.key_env, raising=False)
    for key in (None, "   "):
        with pytest.raises(ConfigurationError, match="needs an API key") as caught:
            get_provider(case.name, api_key=key, base_url=url)
        assert case.key_env in caught.value.diagnostics()
    with pytest.raises(ConfigurationError, match="cannot carry"):
        get_provider(case.name, api_key="sk key\nX-Evil: 1", base_url=url)
    assert emulator.seen == []


def test_key_from_the_environment_never_shown(
    case: Case,
    emulator: Emulator,
    url: str,
    sleeps: list[float],
    downloads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(case.key_env, KEY)
    provider = get_provider(case.name, base_url=url, sleep=sleeps.append, download_dir=downloads)
    assert isinstance(provider, CommercialProvider)
    assert KEY not in repr(provider)
    with provider:
        provider.generate(REQUEST)
    assert emulator.posts == 1


def test_answer_over_the_size_limit(
    case: Case, emulator: Emulator, url: str, sleeps: list[float], downloads: Path
) -> None:
    error = failing(case, url, sleeps, downloads, max_download=1000)
    assert isinstance(error, ProviderResponseError)
    assert "larger than the limit of 1000 bytes" in str(error)


def test_registered_by_name() -> None:
    assert {"stability", "elevenlabs", "beatoven"} <= set(provider_names())


@pytest.mark.parametrize("module", [stability, elevenlabs, beatoven], ids=lambda m: m.NAME)
def test_declared_disclosures_are_valid_and_sourced(module: Any) -> None:
    declared = module.declared_disclosure()
    disclosure = declared.disclosure
    assert Disclosure.from_dict(disclosure.to_dict()) == disclosure  # passes the schema
    assert disclosure.training_bases() == frozenset({"licensed"})
    assert declared.sources and all(s.startswith("https://") for s in declared.sources)
    assert "public statements" in declared.declared_by


# -- Stability AI ----------------------------------------------------------------------------


@pytest.fixture
def stability_emulator(audio: dict[AudioFormat, bytes]) -> StabilityEmulator:
    emulator: StabilityEmulator = emulator_for("stability", audio)
    return emulator


@pytest.fixture
def stability_url(stability_emulator: StabilityEmulator) -> Iterator[str]:
    with serve_asgi(stability_emulator.app) as base:
        yield base


def test_stability_sends_the_documented_form(
    stability_emulator: StabilityEmulator,
    stability_url: str,
    sleeps: list[float],
    downloads: Path,
) -> None:
    with make("stability", stability_url, sleeps, downloads, steps=8) as provider:
        seeded = provider.generate(REQUEST)
        unseeded = provider.generate(GenerationRequest("rain", 3, format=AudioFormat.FLAC))
    assert stability_emulator.fields(0) == {
        "prompt": "warm lofi beat",
        "duration": "0.5",
        "output_format": "mp3",
        "model": "stable-audio-2.5",
        "seed": "7",
        "steps": "8",
    }
    headers = stability_emulator.seen[0].headers
    assert headers["authorization"] == f"Bearer {KEY}" and headers["accept"] == "audio/*"
    assert seeded.record.seed == 7 and dict(seeded.record.parameters)["finish_reason"] == "SUCCESS"
    # FLAC is asked for as lossless WAV; the seed is the one the answer reports.
    assert stability_emulator.fields(1)["output_format"] == "wav"
    assert isinstance(unseeded.audio, EncodedAudio) and unseeded.audio.format is AudioFormat.WAV
    assert unseeded.record.seed == 3141592


@pytest.mark.parametrize(
    ("prompt", "said"),
    [("forbidden chords", "content_moderation"), ("withheld melody", "CONTENT_FILTERED")],
)
def test_stability_moderation(
    prompt: str,
    said: str,
    stability_emulator: StabilityEmulator,
    stability_url: str,
    sleeps: list[float],
    downloads: Path,
) -> None:
    with (
        make("stability", stability_url, sleeps, downloads) as provider,
        pytest.raises(ContentFilteredError, match=said) as caught,
    ):
        provider.generate(GenerationRequest(prompt, 1, format=AudioFormat.MP3))
    if said == "content_moderation":  # the refusal's id names the request
        assert caught.value.request_id == "req-0001"
    assert stability_emulator.posts == 1 and list(downloads.iterdir()) == []


# -- ElevenLabs ------------------------------------------------------------------------------


@pytest.fixture
def eleven_emulator(audio: dict[AudioFormat, bytes]) -> ElevenLabsEmulator:
    emulator: ElevenLabsEmulator = emulator_for("elevenlabs", audio)
    return emulator


@pytest.fixture
def eleven_url(eleven_emulator: ElevenLabsEmulator) -> Iterator[str]:
    with serve_asgi(eleven_emulator.app) as base:
        yield base


def test_elevenlabs_sends_the_documented_request(
    eleven_emulator: ElevenLabsEmulator, eleven_url: str, sleeps: list[float], downloads: Path
) -> None:
    with make("elevenlabs", eleven_url, sleeps, downloads, force_instrumental=True) as provider:
        result = provider.generate(REQUEST)
    seen = eleven_emulator.seen[0]
    assert seen.query == "output_format=mp3_44100_128"
    assert seen.headers["xi-api-key"] == KEY and "authorization" not in seen.headers
    assert eleven_emulator.body() == {
        "prompt": "warm lofi beat",
        "music_length_ms": 500,
        "model_id": "music_v1",
        "seed": 7,
        "force_instrumental": True,
    }
    assert result.record.seed == 7
    assert dict(result.record.parameters)["song_id"] == "song-42"


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("rate_limited", "too many generations at once for this plan's concurrency limit"),
        ("busy", "ElevenLabs is busy right now; trying again later usually works"),
    ],
)
def test_elevenlabs_two_kinds_of_429(
    failure: str,
    said: str,
    eleven_emulator: ElevenLabsEmulator,
    eleven_url: str,
    sleeps: list[float],
    downloads: Path,
) -> None:
    eleven_emulator.fail = [failure]
    error = failing(
        BY_NAME["elevenlabs"], eleven_url, sleeps, downloads, retry=RetryPolicy(attempts=1)
    )
    assert isinstance(error, RateLimitError) and said in str(error)
    assert error.request_id == "req-0001"


def test_elevenlabs_bad_prompt_is_content_filtered(
    eleven_emulator: ElevenLabsEmulator, eleven_url: str, sleeps: list[float], downloads: Path
) -> None:
    with (
        make("elevenlabs", eleven_url, sleeps, downloads) as provider,
        pytest.raises(ContentFilteredError, match="bad_prompt") as caught,
    ):
        provider.generate(GenerationRequest("forbidden: sounds like a famous band", 1))
    assert "suggested prompt: an upbeat 1960s British guitar pop song" in str(caught.value)
    assert caught.value.request_id == "req-0001" and eleven_emulator.posts == 1


def test_elevenlabs_quota_is_not_a_key_problem(
    eleven_emulator: ElevenLabsEmulator, eleven_url: str, sleeps: list[float], downloads: Path
) -> None:
    eleven_emulator.fail = ["quota"]
    error = failing(BY_NAME["elevenlabs"], eleven_url, sleeps, downloads)
    assert type(error) is ProviderResponseError and "quota_exceeded" in str(error)
    assert error.hint is not None and "credits" in error.hint


def test_elevenlabs_takes_mp3_formats_only() -> None:
    with pytest.raises(ConfigurationError, match="mp3_"):
        elevenlabs.ElevenLabsProvider(
            api_key=KEY, base_url="http://127.0.0.1:9", output_format="pcm_44100"
        )


# -- Beatoven.ai -----------------------------------------------------------------------------


@pytest.fixture
def beatoven_emulator(audio: dict[AudioFormat, bytes]) -> BeatovenEmulator:
    emulator: BeatovenEmulator = emulator_for("beatoven", audio)
    return emulator


@pytest.fixture
def beatoven_url(beatoven_emulator: BeatovenEmulator) -> Iterator[str]:
    with serve_asgi(beatoven_emulator.app) as base:
        yield base


def test_beatoven_composes_polls_and_downloads_without_the_key(
    beatoven_emulator: BeatovenEmulator, beatoven_url: str, sleeps: list[float], downloads: Path
) -> None:
    with make("beatoven", beatoven_url, sleeps, downloads) as provider:
        result = provider.generate(REQUEST)
    posted, *polls, link = beatoven_emulator.seen
    assert (posted.method, posted.path) == ("POST", "/api/v1/tracks/compose")
    assert json.loads(posted.body) == {
        "prompt": {"text": "0.5 seconds warm lofi beat"},
        "format": "mp3",
        "looping": False,
    }
    assert posted.headers["authorization"] == f"Bearer {KEY}"
    assert [p.path for p in polls] == ["/api/v1/tasks/task-1_1"] * 3
    assert link.path == "/cdn/task-1_1.mp3" and "authorization" not in link.headers
    assert sleeps == [2.0, 3.0]  # two unfinished polls, backing off
    parameters = dict(result.record.parameters)
    assert parameters["task_id"] == "task-1_1" and parameters["track_id"] == "track-1"
    assert parameters["prompt_sent"] == "0.5 seconds warm lofi beat"
    assert result.record.prompt == "warm lofi beat"


def test_beatoven_status_polls_are_retried(
    beatoven_emulator: BeatovenEmulator, beatoven_url: str, sleeps: list[float], downloads: Path
) -> None:
    beatoven_emulator.poll_errors = 2  # 503s on an idempotent GET: sent again
    with make("beatoven", beatoven_url, sleeps, downloads) as provider:
        provider.generate(REQUEST)
    assert beatoven_emulator.posts == 1 and len(sleeps) == 4  # 2 retries + 2 poll waits


def test_beatoven_failed_task(
    beatoven_emulator: BeatovenEmulator, beatoven_url: str, sleeps: list[float], downloads: Path
) -> None:
    with (
        make("beatoven", beatoven_url, sleeps, downloads) as provider,
        pytest.raises(ProviderResponseError, match="composition task task-1_1 failed") as caught,
    ):
        provider.generate(GenerationRequest("broken record", 1))
    assert caught.value.request_id == "req-0001"


def test_beatoven_gives_up_after_its_timeout(
    beatoven_emulator: BeatovenEmulator, beatoven_url: str, downloads: Path
) -> None:
    beatoven_emulator.never_finish = True
    provider = beatoven.BeatovenProvider(
        api_key=KEY,
        base_url=beatoven_url,
        timeout=0.3,
        poll_interval=0.05,
        max_poll_interval=0.05,
        download_dir=downloads,
    )
    with provider, pytest.raises(ProviderTimeoutError, match=r"did not finish within 0\.3 s"):
        provider.generate(REQUEST)


@pytest.mark.parametrize(
    "link", ["ftp://127.0.0.1/track.mp3", "https://user:pass@cdn.invalid/track.mp3"]
)
def test_beatoven_refuses_unsafe_links(
    link: str,
    beatoven_emulator: BeatovenEmulator,
    beatoven_url: str,
    sleeps: list[float],
    downloads: Path,
) -> None:
    beatoven_emulator.track_url = link
    error = failing(BY_NAME["beatoven"], beatoven_url, sleeps, downloads)
    assert "refusing the download link" in str(error)
    assert "pass" not in str(error)


def test_beatoven_prompt_duration() -> None:
    assert beatoven.prompt_with_duration("calm piano", 30) == "30 seconds calm piano"
    assert beatoven.prompt_with_duration("2 min calm piano", 30) == "2 min calm piano"
