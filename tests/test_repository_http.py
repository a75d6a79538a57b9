"""A repository served over the C2PA soft-binding resolution API on 127.0.0.1, and the
HttpRepository client against it: a real uvicorn, real keys, the same API-key auth as
generations."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx
from test_repository import _music, mp3_excerpt, random_print, reencoded, store_of

from provsdk.credentials import init_dev_pki
from provsdk.errors import AuthenticationError, ConfigurationError
from provsdk.home import ProvsdkHome
from provsdk.repository import open_repository
from provsdk.repository.http import HttpRepository
from provsdk.repository.limits import LabelTaken
from provsdk.repository.sqlite import SqliteRepository
from provsdk.server import ServerConfig, ServerThread
from provsdk.softbinding.audio_code import ALG, audio_code
from provsdk.softbinding.fingerprint import fingerprint_file

KEY = "repo-test-key-0123456789"


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> ProvsdkHome:
    home = ProvsdkHome(tmp_path_factory.mktemp("repo-server-home"))
    init_dev_pki(home)
    return home


@pytest.fixture(scope="module")
def repository_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("served") / "repository.sqlite"
    SqliteRepository(path, create=True).close()
    return path


@pytest.fixture(scope="module")
def server(server_home: ProvsdkHome, repository_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(
        home=server_home, api_keys=frozenset({KEY}), rate_limit=1000.0, repository=repository_path
    )
    with ServerThread(config) as running:
        yield running


@pytest.fixture
def remote(server: ServerThread) -> Iterator[HttpRepository]:
    repository = open_repository(server.url, api_key=KEY)
    assert isinstance(repository, HttpRepository)
    yield repository
    repository.close()


def test_publish_find_and_fetch_over_http(remote: HttpRepository) -> None:
    rng = random.Random(21)
    fp = random_print(rng)
    code = audio_code(fp)
    store = store_of("urn:c2pa:over-http")
    remote.publish(store, "urn:c2pa:over-http", code, fp)
    remote.publish(store, "urn:c2pa:over-http", code, fp)  # again: nothing changes
    found = remote.matches_by_content(reencoded(fp, rng))
    assert [m.manifest for m in found] == ["urn:c2pa:over-http"]
    assert found[0].score > 0.95
    assert [m.manifest for m in remote.matches_by_binding(ALG, code.iscc)] == ["urn:c2pa:over-http"]
    assert remote.manifest_store("urn:c2pa:over-http") == store
    assert remote.manifest_store("urn:c2pa:nobody") is None
    assert remote.matches_by_content(random_print(rng)) == []


def test_another_store_under_a_taken_label_is_refused_over_http(remote: HttpRepository) -> None:
    fp = random_print(random.Random(22))
    remote.publish(store_of("urn:c2pa:first"), "urn:c2pa:first", audio_code(fp), fp)
    with pytest.raises(LabelTaken, match="already holds another manifest store"):
        remote.publish(store_of("urn:c2pa:first", 4), "urn:c2pa:first", audio_code(fp), fp)


@pytest.mark.parametrize("key", [None, "wrong-key-0123456789"], ids=["no-key", "wrong-key"])
def test_the_api_needs_a_key(server: ServerThread, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for method, path in [
        ("GET", "/v1/matches/byBinding?alg=io.iscc.v0&value=x"),
        ("POST", "/v1/matches/byContent"),
        ("GET", "/v1/manifests/urn:c2pa:over-http"),
        ("POST", "/v1/manifests"),
    ]:
        answer = httpx.request(method, server.url + path, headers=headers, content=b"{}")
        assert answer.status_code == 401, path
    with (
        HttpRepository(server.url, api_key=key) as anonymous,
        pytest.raises(AuthenticationError, match="401"),
    ):
        anonymous.matches_by_binding(ALG, "x")


def _client(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)


def test_the_answers_have_the_apis_shape(server: ServerThread, remote: HttpRepository) -> None:
    fp = random_print(random.Random(23))
    code = audio_code(fp)
    remote.publish(store_of("urn:c2pa:shape"), "urn:c2pa:shape", code, fp)
    with _client(server) as client:
        by_get = client.get("/v1/matches/byBinding", params={"alg": ALG, "value": code.iscc})
        by_post = client.post("/v1/matches/byBinding", json={"alg": ALG, "value": code.iscc})
        store = client.get("/v1/manifests/urn:c2pa:shape")
        algorithms = client.get("/v1/services/supportedAlgorithms")
        other_alg = client.post("/v1/matches/byContent?alg=com.example.wm", content=b"x")
    for answer in (by_get, by_post):
        assert answer.status_code == 200
        (match,) = answer.json()["matches"]
        assert match["manifestId"] == "urn:c2pa:shape"
        assert match["similarityScore"] == 100
    assert store.headers["content-type"] == "application/c2pa"
    assert store.content == store_of("urn:c2pa:shape")
    assert algorithms.json() == {"watermarks": [], "fingerprints": [{"alg": ALG}]}
    assert other_alg.status_code == 400


def test_by_content_fingerprints_the_uploaded_audio(
    server: ServerThread, remote: HttpRepository, tmp_path: Path, ffmpeg: Any
) -> None:
    track = tmp_path / "track.wav"
    _music(track, 30, seed=42)
    remote.publish(
        store_of("urn:c2pa:audio"), "urn:c2pa:audio", audio_code(fp := fingerprint_file(track)), fp
    )
    # A 14 s excerpt (10 s must overlap once Chromaprint's edges are lost) at 32 kbit/s: small
    # enough for the server's default request body limit.
    excerpt = mp3_excerpt(ffmpeg.exe, track, start=8, seconds=14, rate="32k")
    with _client(server) as client:
        answer = client.post(
            "/v1/matches/byContent",
            content=excerpt.read_bytes(),
            headers={"Content-Type": "audio/mpeg"},
        )
        garbage = client.post(
            "/v1/matches/byContent",
            content=b"not audio" * 100,
            headers={"Content-Type": "audio/mpeg"},
        )
    assert answer.status_code == 200, answer.text
    assert [m["manifestId"] for m in answer.json()["matches"]] == ["urn:c2pa:audio"]
    assert garbage.status_code == 400
    assert "\n" not in garbage.json()["error"]["message"]


def test_a_malformed_publication_is_400(server: ServerThread) -> None:
    body = {
        "manifestId": "urn:c2pa:bad",
        "store": "%%%",
        "alg": ALG,
        "value": "ISCC:EIAWUJFCEZZOJYVD",
        "fingerprint": base64.b64encode(b"\0" * 400).decode(),
    }
    with _client(server) as client:
        answer = client.post("/v1/manifests", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"


def test_without_a_repository_the_routes_do_not_exist(server_home: ProvsdkHome) -> None:
    config = ServerConfig(home=server_home, api_keys=frozenset({KEY}), rate_limit=1000.0)
    with ServerThread(config) as plain, _client(plain) as client:
        assert client.get("/v1/matches/byBinding?alg=a&value=b").status_code == 404
        assert client.get("/v1/manifests/urn:c2pa:x").status_code == 404


def test_plain_http_to_another_machine_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="refusing plain http"):
        HttpRepository("http://repository.example.com", api_key=KEY)


def test_a_real_signed_files_store_round_trips(
    remote: HttpRepository, signed_files: dict[str, Path]
) -> None:
    from provsdk.registration import embedded_store, register_file

    registered = register_file(remote, signed_files["wav"])
    found = remote.matches_by_binding(ALG, registered.code.iscc)
    assert registered.manifest in [m.manifest for m in found]
    assert remote.manifest_store(registered.manifest) == embedded_store(signed_files["wav"])


def test_a_whole_track_uploaded_to_by_content_is_matched(
    server: ServerThread, remote: HttpRepository, tmp_path: Path
) -> None:
    """A real asset is megabytes, far over the generation API's small JSON bodies: the
    soft-binding upload routes have limits of their own."""
    track = tmp_path / "whole.wav"
    _music(track, 30, seed=43)
    assert track.stat().st_size > 1_000_000
    remote.publish(
        store_of("urn:c2pa:whole"), "urn:c2pa:whole", audio_code(fp := fingerprint_file(track)), fp
    )
    with _client(server) as client:
        answer = client.post(
            "/v1/matches/byContent",
            content=track.read_bytes(),
            headers={"Content-Type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    assert [m["manifestId"] for m in answer.json()["matches"]] == ["urn:c2pa:whole"]
