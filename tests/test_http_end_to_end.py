"""The reference server and the http provider together, over real loopback HTTP: a file made
by `provsdk serve` verifies with the provider's signed disclosure and grant, made out to the
account of the API key that asked."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import clean_environ

from provsdk import Client
from provsdk.credentials import TrustConfig
from provsdk.home import ProvsdkHome
from provsdk.providers.http import HttpProvider
from provsdk.server import ServerConfig, ServerThread

KEY = "test-key-0123456789"
ACCOUNT = "My Studio"


@pytest.fixture(scope="module")
def server(dev_home: ProvsdkHome) -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(home=dev_home, accounts={KEY: ACCOUNT})) as running:
        yield running


def _generate(
    server: ServerThread, home: ProvsdkHome, out: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    env = clean_environ()
    env.update(PROVSDK_HOME=str(home.root), PROVSDK_API_KEY=KEY)
    cmd = [
        sys.executable, "-m", "provsdk", "generate", "warm lofi beat", "-o", str(out),
        "--provider", "http", "--endpoint", server.url, "--duration", "2", "--seed", "5",
        *options,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_cli_generates_through_the_reference_server(
    server: ServerThread, dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    out = tmp_path / "remote.mp3"
    # No --licensee: the server grants the output to the key's account all the same.
    result = _generate(server, dev_home, out, "--json")
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    data = json.loads(result.stdout)
    report = data["report"]
    assert (report["verdict"], report["c2pa"]["state"]) == ("pass", "Trusted")
    assert data["request_id"] and data["request_id"].startswith("req_")
    origin = report["origin"]
    assert origin["provider"] == "http" and origin["model"].startswith("provsdk-local")
    disclosure = report["disclosure"]
    assert disclosure["signature_valid"] and disclosure["trusted"]
    assert "provider" in (disclosure["signer"] or "")
    (grant,) = report["grants"]["items"]
    assert grant["signature_valid"] and grant["trusted"] and grant["covers"]
    assert grant["licensee"] == ACCOUNT
    assert "licensor" in (grant["signer"] or "")
    assert [p.name for p in tmp_path.iterdir()] == ["remote.mp3"]


@pytest.mark.slow
def test_cli_licensee_of_another_account_fails_naming_the_request(
    server: ServerThread, dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    out = tmp_path / "theirs.mp3"
    result = _generate(server, dev_home, out, "--licensee", "Other Company Ltd")
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provsdk: "), result.stderr
    assert "403" in lines[0] and "Other Company Ltd" in lines[0] and ACCOUNT in lines[0]
    assert "request id req_" in lines[0]
    assert KEY not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_library_generation_embeds_the_servers_disclosure_and_grant(
    server: ServerThread, dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    provider = HttpProvider(server.url, api_key=KEY)
    before = server.generations.jobs_run
    with Client(provider, home=dev_home, trust=TrustConfig.load(dev_home)) as client:
        track = client.generate(
            "dark techno",
            out=tmp_path / "x.m4a",
            duration=2,
            seed=1,
            licensee=ACCOUNT,  # naming one's own account is the same as naming none
        )
    assert server.generations.jobs_run == before + 1
    report = track.report
    assert report.passed and report.integrity.state.value == "Trusted"
    assert report.disclosure.trusted and report.disclosure.training_bases == ("none",)
    (grant,) = report.grants.grants
    # The server rendered the format asked for, so its grant is bound to exactly this audio.
    assert grant.covers and grant.trusted and grant.in_force
    assert grant.licensee == ACCOUNT
    assert track.generation.request_id is not None
    assert [p.name for p in tmp_path.iterdir()] == ["x.m4a"]
