"""The http provider against a protocol emulator (tests/http_servers.py) over 127.0.0.1.

The emulator implements docs/protocol.md minimally; the reference server is tested elsewhere.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_servers import EmulatorAssets, FaultProxy, ProtocolEmulator, serve_asgi

from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentFilteredError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from provsdk.grants import parse_grant
from provsdk.home import ProvsdkHome
from provsdk.models.origin import DigitalSourceType, SoftwareAgent
from provsdk.providers import EncodedAudio, Generation, GenerationRequest, get_provider
from provsdk.providers.http import API_KEY_ENV, HttpProvider

KEY = "sk-emulator-0123456789"
REQUEST = GenerationRequest("warm lofi beat", 0.5, seed=7, licensee="Game Studio")


@pytest.fixture(scope="session")
def assets(dev_home: ProvsdkHome, tmp_path_factory: pytest.TempPathFactory) -> EmulatorAssets:
    return EmulatorAssets.make(dev_home, tmp_path_factory.mktemp("emulator"))


@pytest.fixture
def emulator(assets: EmulatorAssets) -> ProtocolEmulator:
    return ProtocolEmulator(assets, KEY)


@pytest.fixture
def url(emulator: ProtocolEmulator) -> Iterator[str]:
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


def make(endpoint: str, sleeps: list[float], **options: Any) -> HttpProvider:
    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    options.setdefault("api_key", KEY)
    return HttpProvider(endpoint, sleep=sleeps.append, async_sleep=async_sleep, **options)


def check_generation(result: Generation, emulator: ProtocolEmulator, fmt: AudioFormat) -> None:
    audio = result.audio
    assert isinstance(audio, EncodedAudio)
    assert audio.format is fmt
    assert audio.path.read_bytes() == emulator.assets.audio[fmt].read_bytes()
    assert (audio.sample_rate, audio.channels) == (44100, 2)
    assert audio.duration == probe(emulator.assets.audio[fmt]).duration  # MP3 pads: not 0.5
    assert result.disclosure == emulator.assets.disclosure
    assert result.source_type is DigitalSourceType.ALGORITHMIC_MEDIA
    assert result.software_agent == SoftwareAgent("emu-model", "1.0")
    record = result.record
    assert (record.provider, record.model, record.prompt) == (
        "http",
        "emu-model 1.0",
        REQUEST.prompt,
    )
    assert (record.seed, record.duration) == (7, 0.5)
    assert record.request_id == emulator.post_request_ids[-1]
    assert dict(record.parameters) == {
        "endpoint": "127.0.0.1",
        "generation_id": f"gen_{len(emulator.jobs)}",
        "finish_reason": "success",
    }


def test_happy_path(url: str, emulator: ProtocolEmulator, sleeps: list[float]) -> None:
    with make(url, sleeps) as provider:
        result = provider.generate(REQUEST)
        check_generation(result, emulator, AudioFormat.WAV)
        assert len(result.grants) == 1
        assert parse_grant(result.grants[0]).assignee.name == "Game Studio"
        # Downloads land in a private folder under the system temporary folder.
        assert isinstance(result.audio, EncodedAudio)
        folder = result.audio.path.parent
        assert folder.parent == Path(tempfile.gettempdir())
        assert folder.name.startswith("provsdk-http-")
        result.audio.path.unlink()  # the consumer's job, as the client does after signing
    assert not folder.exists()  # close() removes the folder once it is empty
    assert sleeps == [0.2, pytest.approx(0.3)]  # two "running" polls, backing off
    assert body_of(emulator)["licensee"] == "Game Studio"


def body_of(emulator: ProtocolEmulator) -> dict[str, Any]:
    (job,) = emulator.jobs.values()
    return job.body


def test_mp3_without_licensee_and_models_cached(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    request = GenerationRequest("warm lofi beat", 0.5, seed=7, format=AudioFormat.MP3)
    with make(url, sleeps, download_dir=downloads) as provider:
        first = provider.generate(request)
        check_generation(first, emulator, AudioFormat.MP3)
        provider.generate(request)
    assert first.grants == ()
    assert [path for method, path in emulator.seen if path.endswith("/grant")] == []
    assert emulator.seen.count(("GET", "/v1/models")) == 1
    assert "licensee" not in emulator.jobs["gen_1"].body
    assert emulator.jobs["gen_1"].body["format"] == "mp3"
    assert len(list(downloads.iterdir())) == 2


def test_connection_dropped_after_the_post_was_accepted(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    proxy = FaultProxy(url, b"POST /v1/generations ")
    with proxy as proxied, make(proxied, sleeps, download_dir=downloads) as provider:
        result = provider.generate(REQUEST)
    assert proxy.dropped == 1
    check_generation(result, emulator, AudioFormat.WAV)
    assert len(emulator.jobs) == 1  # the retry found the generation the first POST made
    assert len(emulator.post_keys) == 2 and len(set(emulator.post_keys)) == 1


def test_rate_limited_post_is_retried(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    emulator.rate_limit_posts = 1
    with make(url, sleeps, download_dir=downloads) as provider:
        result = provider.generate(REQUEST)
    check_generation(result, emulator, AudioFormat.WAV)
    assert sleeps[0] == 2.0  # the server's Retry-After
    assert len(emulator.post_keys) == 2 and len(set(emulator.post_keys)) == 1


def test_content_filtered(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    with (
        make(url, sleeps, download_dir=downloads) as provider,
        pytest.raises(ContentFilteredError, match="refused by moderation") as caught,
    ):
        provider.generate(GenerationRequest("forbidden chords", 0.5))
    assert caught.value.request_id == emulator.post_request_ids[0]
    assert list(downloads.iterdir()) == []


def test_failed_generation(url: str, sleeps: list[float], downloads: Path) -> None:
    with (
        make(url, sleeps, download_dir=downloads) as provider,
        pytest.raises(ProviderResponseError, match=r"failed \(error\): rendering failed"),
    ):
        provider.generate(GenerationRequest("broken record", 0.5))


def test_polling_timeout(url: str, emulator: ProtocolEmulator) -> None:
    emulator.never_finish = True
    provider = HttpProvider(url, api_key=KEY, timeout=0.3, poll_interval=0.05)
    with (
        provider,
        pytest.raises(ProviderTimeoutError, match=r"did not finish within 0\.3 s") as caught,
    ):
        provider.generate(REQUEST)
    assert caught.value.request_id == emulator.post_request_ids[0]


def test_missing_api_key_fails_before_any_request(
    url: str, emulator: ProtocolEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="needs an API key") as caught:
        get_provider("http", endpoint=url)
    assert API_KEY_ENV in caught.value.diagnostics()
    with pytest.raises(ConfigurationError, match="needs an endpoint"):
        get_provider("http", api_key=KEY)
    assert emulator.seen == []


def test_api_key_from_the_environment(
    url: str, emulator: ProtocolEmulator, monkeypatch: pytest.MonkeyPatch, downloads: Path
) -> None:
    monkeypatch.setenv(API_KEY_ENV, KEY)
    provider = get_provider("http", endpoint=url, download_dir=downloads)
    assert isinstance(provider, HttpProvider)
    assert KEY not in repr(provider)
    with provider:
        provider.generate(REQUEST)
    assert len(emulator.jobs) == 1


def test_wrong_api_key(url: str, sleeps: list[float]) -> None:
    wrong = "sk-wrong-0123456789"
    with make(url, sleeps, api_key=wrong) as provider, pytest.raises(AuthenticationError) as caught:
        provider.generate(REQUEST)
    assert wrong not in caught.value.diagnostics()
    assert sleeps == []


def test_announced_digest_mismatch_leaves_nothing(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    emulator.wrong_sha256 = True
    with (
        make(url, sleeps, download_dir=downloads) as provider,
        pytest.raises(ProviderResponseError, match="SHA-256"),
    ):
        provider.generate(REQUEST)
    assert list(downloads.iterdir()) == []


def test_failure_after_the_download_leaves_nothing(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    emulator.grant_missing = True
    with (
        make(url, sleeps, download_dir=downloads) as provider,
        pytest.raises(ProviderResponseError, match="no grant for this generation"),
    ):
        provider.generate(REQUEST)
    assert ("GET", "/v1/generations/gen_1/audio") in emulator.seen
    assert list(downloads.iterdir()) == []


def test_unknown_model(url: str, sleeps: list[float]) -> None:
    with (
        make(url, sleeps, model="nope") as provider,
        pytest.raises(ConfigurationError, match="offers no model 'nope'; it offers emu-1"),
    ):
        provider.generate(REQUEST)


def test_agenerate(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    with make(url, sleeps, download_dir=downloads) as provider:
        result = asyncio.run(provider.agenerate(REQUEST))
    check_generation(result, emulator, AudioFormat.WAV)
    assert len(result.grants) == 1
    assert sleeps == [0.2, pytest.approx(0.3)]


def test_agenerate_connection_dropped_after_the_post_was_accepted(
    url: str, emulator: ProtocolEmulator, sleeps: list[float], downloads: Path
) -> None:
    proxy = FaultProxy(url, b"POST /v1/generations ")
    with proxy as proxied, make(proxied, sleeps, download_dir=downloads) as provider:
        result = asyncio.run(provider.agenerate(REQUEST))
    assert proxy.dropped == 1
    check_generation(result, emulator, AudioFormat.WAV)
    assert len(emulator.jobs) == 1
    assert len(emulator.post_keys) == 2 and len(set(emulator.post_keys)) == 1
