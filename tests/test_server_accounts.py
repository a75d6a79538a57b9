"""The reference server grants to the account of the API key, never to a name the client
picks, and bounds what each key may hold. Real uvicorn servers on 127.0.0.1, real keys, real
signed grants decoded and checked; `provsdk serve` itself in a subprocess where start-up or its
output is what is tested."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx
from cli_runner import provsdk_env, run_cli
from test_server import _assert_error, _body, _client, _post, _wait

from provsdk.audio.essence import essence_digest
from provsdk.credentials import Role, TrustStore
from provsdk.errors import ConfigurationError
from provsdk.grants import GRANT_STATEMENT, parse_grant
from provsdk.home import ProvsdkHome
from provsdk.jws import verify_statement
from provsdk.server import ServerConfig, ServerThread, check_host, parse_api_keys, serve

STUDIO_KEY = "sk-studio-7f3a9c01"
AGENCY_KEY = "sk-agency-52be77d4"
ANONYMOUS_KEY = "sk-anonymous-0c9e1b"
ACCOUNTS = {STUDIO_KEY: "Game Studio", AGENCY_KEY: "Ad Agency"}
ALL_KEYS = (STUDIO_KEY, AGENCY_KEY, ANONYMOUS_KEY)


def _config(home: ProvsdkHome, **changes: Any) -> ServerConfig:
    settings: dict[str, Any] = {
        "accounts": ACCOUNTS,
        "api_keys": frozenset({ANONYMOUS_KEY}),
        "rate_limit": 1000.0,
    }
    settings.update(changes)
    return ServerConfig(home=home, **settings)


@pytest.fixture(scope="module")
def server(dev_home: ProvsdkHome) -> Iterator[ServerThread]:
    with ServerThread(_config(dev_home)) as running:
        yield running


def _signed_licensee(token: str, home: ProvsdkHome) -> str:
    """Whom a grant is made out to, read from the signed bytes after checking the signature."""
    licensor = TrustStore.from_home(Role.LICENSOR, home)
    assert verify_statement(token, licensor, expected_type=GRANT_STATEMENT).trusted
    payload = token.split(".")[1]
    odrl = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    name: str = odrl["assignee"]["vcard:fn"]
    assert parse_grant(token).assignee.name == name
    return name


def _grant_of(client: httpx.Client, status: dict[str, Any]) -> str:
    answer = client.get(status["grant_url"])
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["grant"]
    return token


# -- whom grants name ---------------------------------------------------------------------------


def test_grant_for_another_licensee_is_refused_403(
    server: ServerThread, dev_home: ProvsdkHome
) -> None:
    with _client(server.url, STUDIO_KEY) as studio:
        key = uuid.uuid4().hex
        for other in ("Ad Agency", "game studio", "Game Studio "):
            refused = _post(studio, _body(licensee=other), key)
            error = _assert_error(refused, 403, "forbidden")
            assert repr(other) in error["message"] and "'Game Studio'" in error["message"]
        # Nothing was made or remembered: the same Idempotency-Key is still unused.
        accepted = _post(studio, _body(), key)
        assert accepted.status_code == 202, accepted.text
        status = _wait(studio, accepted.json()["id"])
        assert _signed_licensee(_grant_of(studio, status), dev_home) == "Game Studio"


def test_default_grant_is_made_out_to_the_account(
    server: ServerThread, dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    for key, account in ACCOUNTS.items():
        with _client(server.url, key) as c:
            created = _post(c, _body(prompt="bright synth pop", format="mp3"))
            assert created.status_code == 202, created.text
            status = _wait(c, created.json()["id"])
            assert status["status"] == "succeeded", status
            assert status["grant_url"] == f"/v1/generations/{status['id']}/grant"
            token = _grant_of(c, status)
            assert _signed_licensee(token, dev_home) == account
            # Bound to exactly the audio served, as before.
            path = tmp_path / f"{status['id']}.mp3"
            path.write_bytes(c.get(status["audio_url"]).content)
            assert parse_grant(token).target.uid == essence_digest(path)


def test_naming_ones_own_account_is_the_same_request_as_naming_none(
    server: ServerThread, dev_home: ProvsdkHome
) -> None:
    with _client(server.url, STUDIO_KEY) as studio:
        key = uuid.uuid4().hex
        first = _post(studio, _body(prompt="own name"), key)
        second = _post(studio, _body(prompt="own name", licensee="Game Studio"), key)
        assert first.status_code == 202, first.text
        assert second.status_code == 200, second.text
        assert second.json()["id"] == first.json()["id"]
        status = _wait(studio, first.json()["id"])
        assert _signed_licensee(_grant_of(studio, status), dev_home) == "Game Studio"


def test_anonymous_key_gets_no_grant(server: ServerThread) -> None:
    with _client(server.url, ANONYMOUS_KEY) as anonymous:
        status = _wait(anonymous, _post(anonymous, _body()).json()["id"])
        assert status["status"] == "succeeded"
        assert "grant_url" not in status
        missing = _assert_error(
            anonymous.get(f"/v1/generations/{status['id']}/grant"), 404, "not_found"
        )
        assert "no account" in missing["message"]
        # Nor can it ask for one in anybody's name.
        for name in ("Game Studio", "Anonymous"):
            error = _assert_error(_post(anonymous, _body(licensee=name)), 403, "forbidden")
            assert "no account" in error["message"]


def test_no_auth_server_grants_nothing(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, accounts={}, api_keys=frozenset(), insecure_no_auth=True)
    with ServerThread(config) as open_server, _client(open_server.url, key=None) as c:
        _assert_error(_post(c, _body(licensee="Game Studio")), 403, "forbidden")
        status = _wait(c, _post(c, _body()).json()["id"])
        assert status["status"] == "succeeded" and "grant_url" not in status


# -- bounds per key ---------------------------------------------------------------------------


@pytest.mark.slow
def test_outstanding_generations_bound_429(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, latency=1.0, max_outstanding=2)
    with ServerThread(config) as slow, _client(slow.url, STUDIO_KEY) as studio:
        keys = [uuid.uuid4().hex for _ in range(2)]
        accepted = [_post(studio, _body(), k) for k in keys]
        assert [a.status_code for a in accepted] == [202, 202]
        refused = _post(studio, _body())
        error = _assert_error(refused, 429, "rate_limited")
        assert "queued or running" in error["message"] and "2" in error["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        # A repeat makes nothing new, so it is answered whatever the key holds.
        assert _post(studio, _body(), keys[0]).json()["id"] == accepted[0].json()["id"]
        # The bound is per key: another key is not held up by this one.
        with _client(slow.url, AGENCY_KEY) as agency:
            assert _post(agency, _body()).status_code == 202
        # Finished generations free their places.
        for answer in accepted:
            assert _wait(studio, answer.json()["id"])["status"] == "succeeded"
        assert _post(studio, _body()).status_code == 202


def test_stored_audio_seconds_bound_429(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, max_stored_seconds=3)
    with ServerThread(config) as small, _client(small.url, STUDIO_KEY) as studio:
        (model,) = studio.get("/v1/models").json()["models"]
        assert model["max_duration"] == 3  # no longer than a key could ever store
        _assert_error(_post(studio, _body(duration=3.5)), 400, "invalid_request")

        two = _post(studio, _body(duration=2))
        assert two.status_code == 202, two.text
        refused = _post(studio, _body(duration=1.5))
        error = _assert_error(refused, 429, "rate_limited")
        assert "audio on the server" in error["message"] and "delete" in error["message"]
        # Held until the generation expires, a day after it was asked for.
        assert 3600 < int(refused.headers["Retry-After"]) <= 24 * 3600
        one = _post(studio, _body(duration=1))  # 2 + 1 is the limit exactly
        assert one.status_code == 202, one.text
        with _client(small.url, AGENCY_KEY) as agency:
            assert _post(agency, _body(duration=3)).status_code == 202


@pytest.mark.slow
def test_failed_deleted_and_expired_generations_free_their_seconds(
    dev_home: ProvsdkHome,
) -> None:
    config = _config(dev_home, max_stored_seconds=2, keep_seconds=6.0)
    with ServerThread(config) as small, _client(small.url, STUDIO_KEY) as studio:
        # Failed: moderation refuses it, no audio is kept, its seconds come back.
        failed = _wait(studio, _post(studio, _body(prompt="forbidden", duration=2)).json()["id"])
        assert failed["status"] == "failed"

        # Deleted: its seconds come back at once, and it is gone.
        spent = uuid.uuid4().hex
        kept = _wait(studio, _post(studio, _body(duration=2), spent).json()["id"])
        assert kept["status"] == "succeeded"
        _assert_error(_post(studio, _body(duration=1)), 429, "rate_limited")
        deleted = studio.delete(f"/v1/generations/{kept['id']}")
        assert deleted.status_code == 204, deleted.text
        _assert_error(studio.get(f"/v1/generations/{kept['id']}"), 404, "not_found")
        _assert_error(studio.get(f"/v1/generations/{kept['id']}/audio"), 404, "not_found")
        _assert_error(studio.delete(f"/v1/generations/{kept['id']}"), 404, "not_found")
        # Its Idempotency-Key stays spent: re-sending that POST makes no second generation.
        _assert_error(_post(studio, _body(duration=2), spent), 404, "not_found")

        # Expired: the Retry-After says when, and waiting that long is enough.
        key = uuid.uuid4().hex
        again = _post(studio, _body(duration=2), key)
        assert again.status_code == 202, again.text
        asked = time.monotonic()
        refused = _post(studio, _body(duration=2))
        _assert_error(refused, 429, "rate_limited")
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 6
        assert _wait(studio, again.json()["id"])["status"] == "succeeded"
        time.sleep(max(0.0, asked + wait + 0.2 - time.monotonic()))
        # Its Idempotency-Key is forgotten with it, so this is a new generation.
        renewed = _post(studio, _body(duration=2), key)
        assert renewed.status_code == 202, renewed.text
        assert renewed.json()["id"] != again.json()["id"]


def test_only_a_finished_generation_of_ones_own_can_be_deleted(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, latency=1.0)
    with ServerThread(config) as slow, _client(slow.url, STUDIO_KEY) as studio:
        gen_id = _post(studio, _body()).json()["id"]
        # Unfinished, it still holds a worker: deleting it would free a place it still uses.
        _assert_error(studio.delete(f"/v1/generations/{gen_id}"), 409, "not_finished")
        with _client(slow.url, AGENCY_KEY) as agency:  # another key's: as if it did not exist
            _assert_error(agency.delete(f"/v1/generations/{gen_id}"), 404, "not_found")
        assert _wait(studio, gen_id)["status"] == "succeeded"
        assert studio.delete(f"/v1/generations/{gen_id}").status_code == 204


@pytest.mark.slow
def test_concurrent_requests_cannot_exceed_bound(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, latency=3.0, max_outstanding=3, max_stored_seconds=5, workers=2)
    with ServerThread(config) as slow:

        def burst(key: str, duration: float, count: int) -> list[int]:
            ready = threading.Barrier(count)

            def one(_: int) -> int:
                with _client(slow.url, key) as c:
                    ready.wait()
                    return _post(c, _body(duration=duration)).status_code

            with concurrent.futures.ThreadPoolExecutor(count) as pool:
                return list(pool.map(one, range(count)))

        # Seconds bind first: two of 2 s fit in 5, a third would not.
        by_seconds = burst(STUDIO_KEY, 2, 12)
        assert sorted(by_seconds) == [202] * 2 + [429] * 10
        # Places bind first: three of 1 s are queued or running, a fourth would not fit.
        by_places = burst(AGENCY_KEY, 1, 12)
        assert sorted(by_places) == [202] * 3 + [429] * 9


# -- start-up and configuration ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "example.com"])
def test_insecure_no_auth_refuses_public_host(host: str, tmp_path: Path) -> None:
    # An empty home: the refusal comes before anything is loaded or bound.
    result = run_cli("serve", "--insecure-no-auth", "--host", host, home=tmp_path / "home")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provsdk: "), result.stderr
    assert "--insecure-no-auth" in lines[0] and "loopback" in lines[0] and host in lines[0]
    with pytest.raises(ConfigurationError, match="loopback"):
        check_host(host, insecure_no_auth=True)
    check_host(host, insecure_no_auth=False)  # with keys, any address is the operator's call


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_insecure_no_auth_accepts_loopback_hosts(host: str) -> None:
    check_host(host, insecure_no_auth=True)


def test_library_serve_refuses_a_public_host_without_auth(dev_home: ProvsdkHome) -> None:
    config = _config(dev_home, accounts={}, api_keys=frozenset(), insecure_no_auth=True)
    with pytest.raises(ConfigurationError, match="loopback"):
        serve(config, host="0.0.0.0", port=0)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (f"{STUDIO_KEY}=", "account name"),
        (f"{STUDIO_KEY}=   ,{AGENCY_KEY}=Ad Agency", "entry 1"),
        ("=Game Studio", "no key"),
        (f"{STUDIO_KEY}=Game Studio,{STUDIO_KEY}=Ad Agency", "entries 1 and 2"),
        (f"{STUDIO_KEY},{AGENCY_KEY},{STUDIO_KEY}=Game Studio", "entries 1 and 3"),
        (f"{STUDIO_KEY}=Game Studio,,{AGENCY_KEY}", "entry 2 is empty"),
        (f"{STUDIO_KEY}=Game Studio,", "entry 2 is empty"),
        (f"{STUDIO_KEY} {AGENCY_KEY}=Ad Agency", "space"),
        (f"{STUDIO_KEY}=Game\x01Studio", "control character"),
        (f"{STUDIO_KEY}={'x' * 201}", "200"),
    ],
    ids=[
        "blank-name",
        "spaces-name",
        "empty-key",
        "duplicate",
        "duplicate-bare",
        "empty-entry",
        "trailing-comma",
        "space-in-key",
        "control",
        "long-name",
    ],
)
def test_api_keys_config_errors(value: str, named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_api_keys(value)
    line = str(caught.value)
    assert "PROVSDK_SERVE_API_KEYS" in line and named in line
    assert "\n" not in line
    assert STUDIO_KEY not in line and AGENCY_KEY not in line


@pytest.mark.slow
def test_api_keys_config_errors_stop_serve_with_one_line(dev_home: ProvsdkHome) -> None:
    env = {"PROVSDK_SERVE_API_KEYS": f"{STUDIO_KEY}=Game Studio,{AGENCY_KEY}="}
    result = run_cli("serve", home=dev_home.root, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "entry 2" in lines[0], result.stderr
    assert STUDIO_KEY not in result.stderr and AGENCY_KEY not in result.stderr


def test_api_keys_parse_accounts_and_anonymous_keys(dev_home: ProvsdkHome) -> None:
    keys = parse_api_keys(f" {STUDIO_KEY} = Game Studio , {AGENCY_KEY}=Ad Agency,{ANONYMOUS_KEY}")
    assert dict(keys.accounts) == ACCOUNTS
    assert keys.anonymous == frozenset({ANONYMOUS_KEY})
    assert not parse_api_keys("") and not parse_api_keys(None) and not parse_api_keys("  ")
    # Two keys of one account (a rotation) are fine; each still has its own bounds.
    assert set(parse_api_keys("a=Studio,b=Studio").accounts.values()) == {"Studio"}
    for shown in (repr(keys), repr(_config(dev_home))):
        assert not any(k in shown for k in ALL_KEYS), shown


@pytest.mark.parametrize(
    "changes",
    [
        {"accounts": {STUDIO_KEY: " "}},
        {"accounts": {STUDIO_KEY: "Game\nStudio"}},
        {"accounts": {"": "Game Studio"}},
        {"accounts": {STUDIO_KEY: "Game Studio"}, "api_keys": frozenset({STUDIO_KEY})},
        {"max_outstanding": 0},
        {"max_stored_seconds": 0},
    ],
    ids=["blank-name", "newline", "empty-key", "both", "outstanding", "stored"],
)
def test_server_config_refuses_bad_accounts_and_bounds(
    dev_home: ProvsdkHome, changes: dict[str, Any]
) -> None:
    with pytest.raises(ValueError) as caught:
        _config(dev_home, **changes)
    assert STUDIO_KEY not in str(caught.value)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_api_key_never_in_logs_or_errors(dev_home: ProvsdkHome) -> None:
    port = _free_port()
    env = provsdk_env(
        dev_home.root,
        {"PROVSDK_SERVE_API_KEYS": f"{STUDIO_KEY}=Game Studio,{ANONYMOUS_KEY}"},
    )
    cmd = [sys.executable, "-m", "provsdk", "--debug", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "provsdk serve did not start"
                time.sleep(0.1)

        def record(response: httpx.Response) -> None:
            response.read()
            seen.append(f"{response.headers}\n{response.text}")

        for key in (STUDIO_KEY, f"{STUDIO_KEY}x", ANONYMOUS_KEY, f"x{ANONYMOUS_KEY}"):
            with httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
                event_hooks={"response": [record]},
            ) as c:
                c.get("/v1/models")
                _post(c, _body(licensee="Ad Agency"))
                _post(c, _body(duration=100000))
                c.post("/v1/generations", content=b"{", headers={"Idempotency-Key": "bad-json"})
                created = _post(c, _body())
                if created.status_code == 202:
                    _wait(c, created.json()["id"])
        # A request the HTTP parser rejects, carrying a key: it must not be echoed in a log.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(
                f"GET /v1/models HTTP/1.1\r\nAuthorization: Bearer {STUDIO_KEY}\r\n"
                "Host: x\r\nbroken header line\r\n\r\n".encode()
            )
            raw.recv(4096)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert len(seen) >= 16
    logs = out + err
    assert "'Game Studio'" in err and "1 anonymous key" in err  # account names may be shown
    assert "Invalid HTTP request" in err  # the malformed request was logged, without its key
    for key in ALL_KEYS:
        assert key not in logs, logs
        assert not any(key in answer for answer in seen)
