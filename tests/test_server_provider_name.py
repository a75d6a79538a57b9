"""The name a server signs its disclosures and grants with: its own, never "provsdk" by mistake.

By default it is the organisation of the provider certificate the server loads (else its
common name); ``--provider-name`` or ``PROVSDK_SERVE_PROVIDER_NAME`` says it outright. A name
that is blank, too long or holds control characters is refused before the server starts.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx
from cli_runner import clean_environ
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provsdk.credentials import init_dev_pki
from provsdk.disclosure.statement import parse_disclosure
from provsdk.grants import parse_grant
from provsdk.home import ProvsdkHome
from provsdk.server import ServerConfig, ServerThread
from provsdk.server.config import provider_name_of
from provsdk_cli.main import cli

KEY = "test-key-provider-name"
STUDIO = "Loop Foundry Ltd"


@pytest.fixture(scope="module")
def studio_home(tmp_path_factory: pytest.TempPathFactory) -> ProvsdkHome:
    home = ProvsdkHome(tmp_path_factory.mktemp("provider-name-home"))
    init_dev_pki(home, organization=STUDIO)
    return home


def _disclosure_and_grant_names(url: str) -> tuple[str, str]:
    """The provider named by the server's disclosure, and the licensor of a grant it issues."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        (model,) = client.get("/v1/models").json()["models"]
        body = {"model": "provsdk-local-1", "prompt": "lofi", "duration": 1, "licensee": "Game"}
        created = client.post(
            "/v1/generations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert created.status_code == 202, created.text
        deadline = time.monotonic() + 30
        while (status := client.get(f"/v1/generations/{created.json()['id']}").json())[
            "status"
        ] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status["status"] == "succeeded", status
        grant = client.get(status["grant_url"]).json()["grant"]
    return parse_disclosure(model["disclosure"]).provider.name, parse_grant(grant).assigner.name


def test_server_names_the_provider_from_its_certificate_org(studio_home: ProvsdkHome) -> None:
    config = ServerConfig(home=studio_home, accounts={KEY: "Game"}, rate_limit=1000.0)
    with ServerThread(config) as running:
        assert _disclosure_and_grant_names(running.url) == (STUDIO, STUDIO)


def _certificate(*names: tuple[x509.ObjectIdentifier, str]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in names])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_provider_certificate_without_an_organisation_names_its_common_name() -> None:
    assert provider_name_of(_certificate((NameOID.COMMON_NAME, "Beat Lab signer"))) == (
        "Beat Lab signer"
    )
    assert provider_name_of(_certificate((NameOID.COUNTRY_NAME, "FR"))) == "provsdk"
    # An organisation no one should be shown raw is passed over, not signed with.
    hostile = _certificate(
        (NameOID.ORGANIZATION_NAME, "Evil\x1b[2J"), (NameOID.COMMON_NAME, "Beat Lab")
    )
    assert provider_name_of(hostile) == "Beat Lab"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(studio_home: ProvsdkHome) -> Iterator[str]:
    """``provsdk serve --provider-name …`` started as a user starts it; its URL."""
    port = _free_port()
    env = clean_environ()
    env |= {"PROVSDK_HOME": str(studio_home.root), "PROVSDK_SERVE_API_KEYS": f"{KEY}=Game"}
    args = ["serve", "--port", str(port), "--provider-name", "Northwind Music GmbH"]
    process = subprocess.Popen(
        [sys.executable, "-m", "provsdk", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                httpx.get(f"{url}/v1/models", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
def test_serve_provider_name_flag_appears_in_disclosure_and_grant(served: str) -> None:
    names = ("Northwind Music GmbH", "Northwind Music GmbH")
    assert _disclosure_and_grant_names(served) == names


@pytest.mark.parametrize(
    ("how", "name"),
    [
        ("flag", "Evil\x1b[2J Records"),
        ("flag", "Studio\nPASS"),
        ("env", "Studio \u202eoiduts"),
        ("flag", "   "),
        ("env", "x" * 201),
    ],
)
def test_provider_name_with_control_characters_is_refused(
    studio_home: ProvsdkHome, how: str, name: str
) -> None:
    args = ["--home", str(studio_home.root), "serve", "--insecure-no-auth"]
    env = {"PROVSDK_SERVE_PROVIDER_NAME": name} if how == "env" else {}
    if how == "flag":
        args += ["--provider-name", name]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provsdk: --provider-name"), result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    with pytest.raises(ValueError, match="the provider name"):
        ServerConfig(home=studio_home, provider_name=name)
