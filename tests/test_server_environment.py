"""The reference server when its surroundings change under it, and what it writes about each
request. Real uvicorn servers on 127.0.0.1 (``provsdk serve`` itself in a subprocess where its
stderr is what is tested); folders and files are really deleted while the server runs."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx
from cli_runner import provsdk_env
from test_server import _assert_error, _body, _client, _post, _wait
from test_server_accounts import _free_port

from provsdk.home import ProvsdkHome
from provsdk.server import ServerConfig, ServerThread
from provsdk.server.access_log import ACCESS_LOGGER, log_request
from provsdk.server.auth import Caller

STUDIO_KEY = "sk-studio-5e1f0a77c3"
ANONYMOUS_KEY = "sk-anonymous-91c4d2e8"
# What a careless client puts in a query string: it must never reach a log.
QUERY_SECRET = "qs-secret-6b0d5f1e27"


def _config(home: ProvsdkHome, **changes: Any) -> ServerConfig:
    settings: dict[str, Any] = {
        "accounts": {STUDIO_KEY: "Game Studio"},
        "api_keys": frozenset({ANONYMOUS_KEY}),
        "rate_limit": 1000.0,
    }
    settings.update(changes)
    return ServerConfig(home=home, **settings)


def _check_audio(client: httpx.Client, status: dict[str, Any]) -> None:
    answer = client.get(status["audio_url"])
    assert answer.status_code == 200, answer.text
    assert hashlib.sha256(answer.content).hexdigest() == status["sha256"]


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    # Trouble of the disk is reported in one line; a traceback would mean a bug's path.
    assert not [r.getMessage() for r in caplog.records if r.exc_info], caplog.text


# -- storage ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_scratch_folder_deleted_while_serving_is_recreated(
    dev_home: ProvsdkHome, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parent = tmp_path / "storage"
    parent.mkdir()
    config = _config(dev_home, storage_dir=parent, max_stored_seconds=2, latency=0.5)
    with (
        caplog.at_level(logging.WARNING, logger="provsdk.server"),
        ServerThread(config) as server,
        _client(server.url, STUDIO_KEY) as studio,
    ):
        first = _wait(studio, _post(studio, _body(duration=2)).json()["id"])
        assert first["status"] == "succeeded", first
        folder = server.generations.storage_folder
        assert folder is not None and folder.parent == parent
        assert (folder / f"{first['id']}.wav").is_file()

        shutil.rmtree(folder)  # a temporary-file cleaner passes
        # Accepted, although the key had its 2 s stored: audio wiped from the disk holds none.
        second = _post(studio, _body(duration=2))
        assert second.status_code == 202, second.text
        status = _wait(studio, second.json()["id"])
        assert status["status"] == "succeeded", status
        renewed = server.generations.storage_folder
        assert renewed is not None and renewed != folder and renewed.parent == parent
        assert stat.S_IMODE(renewed.stat().st_mode) == 0o700  # private, as the first was
        _check_audio(studio, status)
        _assert_error(studio.get(first["audio_url"]), 410, "gone")

        # Deleted while a generation waits for its worker: it is rendered all the same.
        assert studio.delete(f"/v1/generations/{status['id']}").status_code == 204
        waiting = _post(studio, _body(duration=1)).json()["id"]
        shutil.rmtree(renewed)
        third = _wait(studio, waiting)
        assert third["status"] == "succeeded", third
        _check_audio(studio, third)
        assert studio.delete(f"/v1/generations/{waiting}").status_code == 204

        # The operator's own folder gone: not ours to recreate, so that generation fails,
        # saying why, and the server goes on serving.
        shutil.rmtree(parent)
        failed = _wait(studio, _post(studio, _body(duration=1)).json()["id"])
        assert failed["status"] == "failed" and failed["finish_reason"] == "error", failed
        assert failed["error"]["code"] == "unavailable"
        assert "could not store the audio" in failed["error"]["message"]
        assert str(tmp_path) not in failed["error"]["message"]
        assert studio.get("/v1/models").status_code == 200

        parent.mkdir()  # back: the next generation works again
        fourth = _wait(studio, _post(studio, _body(duration=1)).json()["id"])
        assert fourth["status"] == "succeeded", fourth
        _check_audio(studio, fourth)
    assert "vanished" in caplog.text
    _no_tracebacks(caplog)
    assert not parent.exists() or not any(parent.iterdir())  # nothing left behind on stop


def test_download_of_a_vanished_file_is_a_clear_error(
    dev_home: ProvsdkHome, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"the operator's private notes")
    config = _config(dev_home, max_stored_seconds=2)
    with (
        caplog.at_level(logging.WARNING, logger="provsdk.server"),
        ServerThread(config) as server,
        _client(server.url, STUDIO_KEY) as studio,
    ):
        made = [_wait(studio, _post(studio, _body(duration=1)).json()["id"]) for _ in range(2)]
        assert [m["status"] for m in made] == ["succeeded", "succeeded"], made
        _assert_error(_post(studio, _body(duration=1)), 429, "rate_limited")  # 2 s of 2 held
        folder = server.generations.storage_folder
        assert folder is not None
        deleted, replaced = (folder / f"{m['id']}.wav" for m in made)
        deleted.unlink()
        # Its name now leads elsewhere: what it leads to is never served.
        replaced.unlink()
        replaced.symlink_to(secret)

        for status in made:
            for _ in range(2):  # found out, then remembered
                answer = studio.get(status["audio_url"])
                error = _assert_error(answer, 410, "gone")
                assert "no longer on the server" in error["message"]
                assert status["id"] in error["message"]
                assert b"private notes" not in answer.content
            # The generation itself, and its grant, are still there.
            assert studio.get(f"/v1/generations/{status['id']}").json()["status"] == "succeeded"
            assert studio.get(status["grant_url"]).status_code == 200
        # Audio no longer stored holds no seconds: there is room for a new one.
        again = _post(studio, _body(duration=1))
        assert again.status_code == 202, again.text
        _check_audio(studio, _wait(studio, again.json()["id"]))
        assert studio.delete(f"/v1/generations/{made[0]['id']}").status_code == 204
    assert secret.read_bytes() == b"the operator's private notes"
    _no_tracebacks(caplog)


# -- the access log -----------------------------------------------------------------------------

_ACCESS_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}|-) "
    r"(?P<rid>req_[0-9a-f]{32}) account=(?P<account>-|\"[^\"]*\") \d+\.\dms$"
)


@pytest.mark.slow
def test_access_log_line_per_request_names_the_account_not_the_key(dev_home: ProvsdkHome) -> None:
    port = _free_port()
    keys = f"{STUDIO_KEY}=Game Studio,{ANONYMOUS_KEY}"
    env = provsdk_env(dev_home.root, {"PROVSDK_SERVE_API_KEYS": keys})
    cmd = [sys.executable, "-m", "provsdk", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    # (method, path as sent without its query, status, request id, account) of every answer
    sent: list[tuple[str, str, str, str, str]] = []

    def record(account: str) -> Any:
        def hook(response: httpx.Response) -> None:
            path = response.request.url.raw_path.split(b"?")[0].decode()
            rid = response.headers["X-Request-Id"]
            sent.append((response.request.method, path, str(response.status_code), rid, account))

        return hook

    def client(key: str | None, account: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        hooks = {"response": [record(account)]}
        return httpx.Client(base_url=base, headers=headers, timeout=30, event_hooks=hooks)

    try:
        with client(None, "-") as public:
            deadline = time.monotonic() + 60
            while True:
                try:
                    public.get("/openapi.json")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.communicate()[1]
                    assert time.monotonic() < deadline, "provsdk serve did not start"
                    time.sleep(0.1)
            _assert_error(public.get("/v1/models"), 401, "unauthorized")
        with client(STUDIO_KEY, '"Game Studio"') as studio:
            assert studio.get("/v1/models", params={"api_key": QUERY_SECRET}).status_code == 200
            status = _wait(studio, _post(studio, _body()).json()["id"])
            assert studio.get(status["audio_url"]).status_code == 200
            _assert_error(studio.get("/v1/generations/gen_nope"), 404, "not_found")
        with client(ANONYMOUS_KEY, "-") as anonymous:
            assert anonymous.get("/v1/models").status_code == 200
        with client(f"{STUDIO_KEY}x", "-") as wrong:
            _assert_error(wrong.get("/v1/models"), 401, "unauthorized")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert out == ""
    logged = []
    for line in err.splitlines():
        found = _ACCESS_LINE.match(line)
        if found is not None:
            logged.append(tuple(found.group("method", "path", "status", "rid", "account")))
    # One line per request, in order, naming its request id and account; nothing else logs
    # requests (uvicorn's own access log is off).
    assert logged == sent, err
    assert len({entry[3] for entry in logged}) == len(logged)
    assert "HTTP/1.1" not in err
    for secret in (STUDIO_KEY, ANONYMOUS_KEY, QUERY_SECRET):
        assert secret not in err, err


def _raw_get(port: int, target: bytes, key: str) -> tuple[int, str]:
    """``GET target`` sent byte for byte (httpx would re-encode it); (status, request id)."""
    request = (
        b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    rid = next(v for k, v in headers.items() if k.lower() == "x-request-id")
    return int(head[0].split()[1]), rid


def _inert_line(message: str) -> None:
    assert message.isprintable(), repr(message)  # no ESC, CR, LF, bidi override, ...


def test_access_log_path_with_escape_sequences_is_inert(
    dev_home: ProvsdkHome, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = [
        # Clear the screen, paint red, and forge a second, successful line.
        b"/v1/%1b%5b2J%1b%5b31mPASS%0d%0a2026-01-01T00:00:00Z%20GET%20/v1/models%20200",
        b"/v1/generations/%e2%80%aelanif.wav",  # a right-to-left override
        b"/v1/" + b"a" * 8000,  # one request must not fill the log
        b"/v1/models?api_key=" + QUERY_SECRET.encode() + b"%0a%1b%5b2J",
    ]
    with (
        caplog.at_level(logging.INFO, logger=ACCESS_LOGGER),
        ServerThread(_config(dev_home)) as server,
    ):
        port = int(server.url.rsplit(":", 1)[1])
        answers = [_raw_get(port, target, STUDIO_KEY) for target in hostile]
    assert [status for status, _ in answers] == [404, 404, 404, 200]
    records = {r.request_id: r for r in caplog.records if r.name == ACCESS_LOGGER}
    lines = [records[rid] for _, rid in answers]
    for line in lines:
        message = line.getMessage()
        _inert_line(message)
        assert len(message) < 700
        assert QUERY_SECRET not in message and "api_key" not in message
        assert line.account == '"Game Studio"' and STUDIO_KEY not in message
    # Shown as sent: percent-encoded, so nothing decodes into an ESC or a line break.
    assert lines[0].path == hostile[0].decode()
    assert lines[1].path == hostile[1].decode()
    assert lines[2].path.endswith("…")
    assert lines[3].path == "/v1/models" and lines[3].status == 200

    # What a more lenient HTTP parser than uvicorn's default might pass on raw, and a server
    # that gives no raw_path at all: made inert all the same.
    studio = Caller("x" * 32, "Game Studio")
    scopes = [
        {"method": "GET", "raw_path": b"/v1/\x1b[31m\r\nforged\xff\xe2\x80\xae", "path": ""},
        {"method": "GET", "path": "/v1/\x1b[2J\nGET /v1/models 200 \u202e"},
    ]
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        caplog.clear()
        for scope in scopes:
            log_request(scope, 404, "req_" + "0" * 32, studio, time.perf_counter())
    raw, decoded = (r.getMessage() for r in caplog.records)
    for message in (raw, decoded):
        _inert_line(message)
        assert " 404 req_" in message and 'account="Game Studio"' in message
    assert raw.startswith("GET /v1/\\x1b[31m\\x0d\\x0aforged\\xff\\u202e 404 ")
    assert decoded.startswith("GET /v1/%1B%5B2J%0AGET%20/v1/models%20200%20%E2%80%AE 404 ")
