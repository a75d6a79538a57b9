"""The reference server, end to end: a real uvicorn on 127.0.0.1, real keys, httpx as client."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx
from cli_runner import clean_environ

from provsdk.audio import AudioFormat, probe
from provsdk.audio.essence import essence_digest
from provsdk.credentials import Role, TrustStore, init_dev_pki
from provsdk.credentials.devpki import DEV_ORGANIZATION
from provsdk.disclosure.statement import DISCLOSURE_STATEMENT, parse_disclosure
from provsdk.grants import GRANT_STATEMENT, parse_grant
from provsdk.home import ProvsdkHome
from provsdk.jws import verify_statement
from provsdk.providers.local import GENERATOR_NAME, GENERATOR_VERSION
from provsdk.server import ServerConfig, ServerThread, create_app
from provsdk.server.openapi import openapi_text

KEY = "test-key-0123456789"
OTHER_KEY = "test-key-other"
OPENAPI = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> ProvsdkHome:
    home = ProvsdkHome(tmp_path_factory.mktemp("server-home"))
    init_dev_pki(home)
    return home


def _config(home: ProvsdkHome, **changes: Any) -> ServerConfig:
    settings: dict[str, Any] = {
        "accounts": {KEY: "Game Studio", OTHER_KEY: "Ad Agency"},
        "rate_limit": 1000.0,
    }
    settings.update(changes)
    return ServerConfig(home=home, **settings)


@pytest.fixture(scope="module")
def server(server_home: ProvsdkHome) -> Iterator[ServerThread]:
    with ServerThread(_config(server_home)) as running:
        yield running


def _check_request_id(response: httpx.Response) -> None:
    # Every answer, success or error, names its request.
    assert response.headers.get("X-Request-Id", "").startswith("req_"), response.request.url


def _client(url: str, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(
        base_url=url, headers=headers, timeout=30, event_hooks={"response": [_check_request_id]}
    )


@pytest.fixture(scope="module")
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with _client(server.url) as c:
        yield c


def _post(client: httpx.Client, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return client.post("/v1/generations", json=body, headers=headers)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "provsdk-local-1", "prompt": "warm lofi beat", "duration": 1}
    body.update(changes)
    return body


def _wait(client: httpx.Client, gen_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(f"/v1/generations/{gen_id}")
        assert answer.status_code == 200, answer.text
        status: dict[str, Any] = answer.json()
        if status["status"] in ("succeeded", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{gen_id} did not finish in {timeout} s")


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert error["message"] and "\n" not in error["message"]
    return error


def test_models_offer_the_local_model_with_a_provider_signed_disclosure(
    client: httpx.Client, server_home: ProvsdkHome
) -> None:
    answer = client.get("/v1/models")
    assert answer.status_code == 200
    (model,) = answer.json()["models"]
    assert model["id"] == "provsdk-local-1"
    assert (model["name"], model["version"]) == (GENERATOR_NAME, GENERATOR_VERSION)
    assert model["digital_source_type"] == "algorithmicMedia"
    assert model["formats"] == ["wav", "mp3", "flac", "m4a"]
    assert model["max_duration"] == 600
    assert model["licence_offer"] == {
        "purposes": ["commercial", "editorial"],
        "territories": ["WORLD"],
        "term_days": 3650,
        "grant": "per-output",
    }
    token = model["disclosure"]
    provider = TrustStore.from_home(Role.PROVIDER, server_home)
    assert verify_statement(token, provider, expected_type=DISCLOSURE_STATEMENT).trusted
    disclosure = parse_disclosure(token)
    assert disclosure.provider.name == DEV_ORGANIZATION  # the provider certificate's O=
    assert disclosure.model.name == GENERATOR_NAME
    # Signed by the provider key only: the licensor store must not vouch for it.
    licensor = TrustStore.from_home(Role.LICENSOR, server_home)
    assert not verify_statement(token, licensor).trusted


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {KEY}x", "Bearer", f"Basic {KEY}", KEY],
    ids=["missing", "wrong", "empty", "basic", "no-scheme"],
)
def test_a_missing_or_wrong_key_is_401(server: ServerThread, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with _client(server.url, key=None) as anonymous:
        answer = anonymous.get("/v1/models", headers=headers)
        _assert_error(answer, 401, "unauthorized")
        # Refused before the body is even read: a broken body still gets the 401.
        broken = anonymous.post(
            "/v1/generations", content=b"{", headers={**headers, "Idempotency-Key": "k"}
        )
        _assert_error(broken, 401, "unauthorized")


def test_without_configured_keys_every_request_is_refused(server_home: ProvsdkHome) -> None:
    with ServerThread(_config(server_home, accounts={})) as closed:
        for key in (KEY, "", None):
            with _client(closed.url, key=key) as c:
                _assert_error(c.get("/v1/models"), 401, "unauthorized")
                _assert_error(c.get("/v1/generations/gen_x"), 401, "unauthorized")


def test_insecure_no_auth_accepts_anyone(server_home: ProvsdkHome) -> None:
    config = _config(server_home, accounts={}, insecure_no_auth=True)
    with ServerThread(config) as open_server, _client(open_server.url, key=None) as c:
        assert c.get("/v1/models").status_code == 200


def test_a_post_without_idempotency_key_is_400(client: httpx.Client) -> None:
    error = _assert_error(client.post("/v1/generations", json=_body()), 400, "invalid_request")
    assert "Idempotency-Key" in error["message"]


def test_a_retried_post_makes_one_generation(client: httpx.Client, server: ServerThread) -> None:
    before = server.generations.jobs_run
    key = uuid.uuid4().hex
    first = _post(client, _body(prompt="idempotent piano"), key)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "queued"
    assert first.headers["Location"] == f"/v1/generations/{first.json()['id']}"
    # The same request, spelt differently, is the same request.
    raw = json.dumps(_body(prompt="idempotent piano"), indent=3, sort_keys=True).encode()
    second = client.post(
        "/v1/generations",
        content=raw,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert second.status_code in (200, 202), second.text
    assert second.json()["id"] == first.json()["id"]
    assert _wait(client, first.json()["id"])["status"] == "succeeded"
    assert server.generations.jobs_run - before == 1

    conflict = _post(client, _body(prompt="another piano"), key)
    _assert_error(conflict, 409, "idempotency_conflict")
    # Keys belong to the API key that used them: another caller's key is a fresh one.
    with _client(server.url, key=OTHER_KEY) as other:
        assert _post(other, _body(prompt="another piano"), key).status_code == 202


@pytest.mark.parametrize("fmt", [AudioFormat.WAV, AudioFormat.MP3])
def test_a_generation_runs_to_signed_audio_and_grant(
    client: httpx.Client, server_home: ProvsdkHome, tmp_path: Path, fmt: AudioFormat
) -> None:
    body = _body(prompt="bright synth pop", seed=7, format=fmt.extension, licensee="Game Studio")
    created = _post(client, body)
    assert created.status_code == 202, created.text
    gen_id = created.json()["id"]
    assert gen_id.startswith("gen_")
    status = _wait(client, gen_id)
    assert status["status"] == "succeeded", status
    assert status["finish_reason"] == "success"
    assert status["error"] is None
    assert (status["seed"], status["format"]) == (7, fmt.extension)
    assert status["content_type"] == fmt.mime_type
    assert status["audio_url"] == f"/v1/generations/{gen_id}/audio"
    assert status["grant_url"] == f"/v1/generations/{gen_id}/grant"

    audio = client.get(status["audio_url"])
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == fmt.mime_type
    assert int(audio.headers["Content-Length"]) == len(audio.content) == status["size"]
    assert hashlib.sha256(audio.content).hexdigest() == status["sha256"]
    path = tmp_path / f"out.{fmt.extension}"
    path.write_bytes(audio.content)
    info = probe(path)
    assert info.format is fmt
    assert info.duration is not None and abs(info.duration - 1.0) < 0.1

    token = client.get(status["grant_url"]).json()["grant"]
    licensor = TrustStore.from_home(Role.LICENSOR, server_home)
    assert verify_statement(token, licensor, expected_type=GRANT_STATEMENT).trusted
    assert not verify_statement(token, TrustStore.from_home(Role.PROVIDER, server_home)).trusted
    grant = parse_grant(token)
    assert grant.assignee.name == "Game Studio"
    assert grant.assigner.name == DEV_ORGANIZATION
    assert grant.target.uid == essence_digest(path)


def test_without_a_seed_one_is_drawn_and_recorded(client: httpx.Client) -> None:
    status = _wait(client, _post(client, _body()).json()["id"])
    assert status["status"] == "succeeded"
    assert isinstance(status["seed"], int)


def test_a_moderated_prompt_fails_as_content_filtered(client: httpx.Client) -> None:
    created = _post(client, _body(prompt="Something FORBIDDEN here"))
    assert created.status_code == 202
    status = _wait(client, created.json()["id"])
    assert status["status"] == "failed"
    assert status["finish_reason"] == "content_filtered"
    assert status["error"]["code"] == "content_filtered"
    assert "audio_url" not in status
    _assert_error(client.get(f"/v1/generations/{status['id']}/audio"), 404, "not_found")


def test_a_body_over_the_limit_is_413(client: httpx.Client) -> None:
    big = json.dumps(_body(prompt="x" * 100 * 1024)).encode()
    headers = {"Idempotency-Key": "big", "Content-Type": "application/json"}
    _assert_error(client.post("/v1/generations", content=big, headers=headers), 413, "too_large")

    # Chunked, announcing no length: refused all the same.
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    chunked = client.post("/v1/generations", content=chunks(), headers=headers)
    _assert_error(chunked, 413, "too_large")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"prompt": "x" * 3000}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"model": "no-such-model"}, "no-such-model"),
        ({"format": "ogg"}, "format"),
        ({"duration": 0}, "duration"),
        ({"duration": 100000}, "600"),
        ({"seed": -1}, "seed"),
        ({"licensee": "a\nb"}, "licensee"),
        ({"licencee": "typo"}, "licencee"),
    ],
    ids=lambda v: v if isinstance(v, str) else next(iter(v)),
)
def test_invalid_requests_are_400(
    client: httpx.Client, changes: dict[str, Any], named: str
) -> None:
    error = _assert_error(_post(client, _body(**changes)), 400, "invalid_request")
    assert named in error["message"]


def test_malformed_json_is_400(client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "bad-json", "Content-Type": "application/json"}
    answer = client.post("/v1/generations", content=b"{not json", headers=headers)
    _assert_error(answer, 400, "invalid_request")


def test_the_rate_limit_answers_429_with_retry_after(server_home: ProvsdkHome) -> None:
    with ServerThread(_config(server_home, rate_limit=2.0)) as limited, _client(limited.url) as c:
        answers = [c.get("/v1/models") for _ in range(6)]
    assert answers[0].status_code == 200
    refused = [a for a in answers if a.status_code == 429]
    assert refused
    _assert_error(refused[0], 429, "rate_limited")
    assert int(refused[0].headers["Retry-After"]) >= 1


def test_a_job_is_queued_then_running_then_done(server_home: ProvsdkHome) -> None:
    with ServerThread(_config(server_home, latency=0.6)) as slow, _client(slow.url) as c:
        gen_id = _post(c, _body()).json()["id"]
        # Asked at once: the job is unfinished for its whole 0.6 s latency, no sleep needed.
        status = c.get(f"/v1/generations/{gen_id}").json()
        assert status["status"] in ("queued", "running")
        assert status["finish_reason"] is None
        assert "sha256" not in status and "audio_url" not in status
        _assert_error(c.get(f"/v1/generations/{gen_id}/audio"), 404, "not_found")
        assert _wait(c, gen_id)["status"] == "succeeded"


def test_unknown_generations_are_404(client: httpx.Client, server: ServerThread) -> None:
    _assert_error(client.get("/v1/generations/gen_nope"), 404, "not_found")
    _assert_error(client.get("/v1/generations/gen_nope/audio"), 404, "not_found")
    _assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    # Another API key's generation is as unknown as one never made.
    gen_id = _post(client, _body()).json()["id"]
    with _client(server.url, key=OTHER_KEY) as other:
        _assert_error(other.get(f"/v1/generations/{gen_id}"), 404, "not_found")


def test_committed_openapi_is_current(server: ServerThread, server_home: ProvsdkHome) -> None:
    document = create_app(_config(server_home)).openapi()
    assert document["info"] == {
        "title": "provsdk licensed generator protocol",
        "version": "1",
        "description": document["info"]["description"],
    }
    assert OPENAPI.read_text("utf-8") == openapi_text(document), (
        "docs/openapi.json is stale: python -m provsdk.server.openapi > docs/openapi.json"
    )
    # What the server serves, without a key, is the same document.
    assert httpx.get(f"{server.url}/openapi.json").json() == document


def _run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = clean_environ()
    env["PROVSDK_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "provsdk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.slow
def test_serve_refuses_to_start_without_keys(server_home: ProvsdkHome, tmp_path: Path) -> None:
    result = _run_cli("serve", home=server_home.root)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and lines[0].startswith("provsdk: "), result.stderr
    assert "PROVSDK_SERVE_API_KEYS" in lines[0] and "--insecure-no-auth" in lines[0]

    empty_home = _run_cli("serve", "--insecure-no-auth", home=tmp_path / "no-keys")
    assert empty_home.returncode == 2, empty_home.stderr
    lines = [ln for ln in empty_home.stderr.strip().splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and "provsdk keys init" in lines[0], empty_home.stderr


def test_grants_are_timestamped_when_the_server_has_an_authority(
    server_home: ProvsdkHome,
) -> None:
    from tsa_responder import serve_tsa

    with serve_tsa() as (tsa_url, authority):
        config = _config(server_home, tsa_url=tsa_url)
        with ServerThread(config) as stamping, _client(stamping.url) as c:
            status = _wait(c, _post(c, _body(licensee="Game Studio")).json()["id"])
            assert status["status"] == "succeeded", status
            token = c.get(status["grant_url"]).json()["grant"]
    authorities = TrustStore(Role.TIMESTAMP, (authority.credentials.root,))
    licensor = TrustStore.from_home(Role.LICENSOR, server_home)
    check = verify_statement(token, licensor, timestamps=authorities)
    assert check.trusted
    assert check.timestamp is not None and check.timestamp.trusted
    assert len(authority.requests) == 1


@pytest.mark.slow
def test_a_grant_that_cannot_be_timestamped_fails_its_job(server_home: ProvsdkHome) -> None:
    from http_servers import unused_port

    with unused_port() as port:
        config = _config(server_home, tsa_url=f"http://127.0.0.1:{port}/tsa")
        with ServerThread(config) as stamping, _client(stamping.url) as c:
            status = _wait(c, _post(c, _body(licensee="Game Studio")).json()["id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "unavailable"
    assert "time-stamp authority" in status["error"]["message"]
