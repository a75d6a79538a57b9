"""Key hygiene: private key material never reaches outputs, reports, manifests or errors, and
verification opens no network connection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import clean_environ

from provsdk.providers.local import GENERATOR_VERSION

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
ROLES = ("producer", "provider", "licensor")


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    full = clean_environ()
    full.update(PROVSDK_HOME=str(home), **env)
    cmd = [sys.executable, "-m", "provsdk", *args]
    return subprocess.run(cmd, capture_output=True, env=full, timeout=300)


def _secrets(home: Path) -> list[bytes]:
    """Every base64 line of every private key (roots included): any one in an output is a leak."""
    found = []
    for key in [*(home / "keys").glob("*.key"), *(home / "ca").glob("*.key")]:
        lines = key.read_bytes().splitlines()
        found += [line for line in lines if line and not line.startswith(b"-----")]
    assert len(found) >= 6
    return found


@pytest.mark.slow
def test_no_command_leaks_key_material(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    outputs: list[bytes] = []

    def run(*args: str | Path, ok: bool = True, **env: str) -> None:
        result = _run([str(a) for a in args], home, **env)
        outputs.extend((result.stdout, result.stderr))
        assert (result.returncode == 0) is ok, result.stderr.decode()

    run("keys", "init", "--org", "Studio")
    key_pem = (home / "keys" / "producer.key").read_text()
    track = work / "t.mp3"
    run("generate", "lofi", "-o", track, "--duration", "1.5", "--json")
    run("grant", "create", "--licensor", "L", "--licensee", "Studio", "--purpose", "commercial",
        "--target", track, "-o", work / "g.json")  # fmt: skip
    run("grant", "sign", work / "g.json", "-o", work / "g.jws")
    run("grant", "show", work / "g.jws", "--json")
    # About the model that made the track: a disclosure of another model would (rightly) fail.
    run("disclosure", "create", "--provider", "P", "--model", "provsdk-local",
        "--model-version", GENERATOR_VERSION, "-o", work / "d.json")  # fmt: skip
    run("disclosure", "sign", work / "d.json", "-o", work / "d.jws")
    run("disclosure", "show", work / "d.jws", "--json")
    chain = str(home / "keys" / "producer.pem")
    run("grant", "attach", track, "--grant", work / "g.jws", "-o", work / "t2.mp3",
        PROVSDK_SIGNING_KEY=key_pem, PROVSDK_SIGNING_CERT=chain)  # fmt: skip
    run("sign", work / "t2.mp3", "-o", work / "t3.mp3", "--disclosure", work / "d.jws")
    run("verify", "--json", "--junit", work / "report.xml", work)
    run("inspect", "--json", work / "t3.mp3")
    # Errors, with and without --debug, with a secret in the environment that is not PEM.
    body = "".join(_secrets(home)[0:3][i].decode() for i in range(3))
    run("--debug", "sign", track, "-o", work / "x.mp3", ok=False,
        PROVSDK_SIGNING_KEY=body, PROVSDK_SIGNING_CERT=body)  # fmt: skip
    run("sign", track, "-o", work / "y.mp3", ok=False,
        PROVSDK_SIGNING_KEY=key_pem, PROVSDK_SIGNING_CERT="/no/such/chain.pem")  # fmt: skip

    files = [p.read_bytes() for p in work.rglob("*") if p.is_file()]
    haystacks = outputs + files
    assert len(files) >= 8
    for secret in _secrets(home):
        leaked = [i for i, h in enumerate(haystacks) if secret in h]
        assert not leaked, f"key material found in output #{leaked[0]}"
    assert not any(b"PRIVATE KEY" in h for h in haystacks)


NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network use is not allowed here")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from provsdk_cli.main import main
sys.argv = ["provsdk", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("command", [["verify", "--json"], ["inspect", "--json"]])
def test_verify_and_inspect_open_no_connection(command: list[str], tmp_path: Path) -> None:
    if not VECTORS.is_dir():
        pytest.skip("shared test vectors not present")
    env = clean_environ()
    env["PROVSDK_HOME"] = str(tmp_path / "home")
    signed = VECTORS / "sample1_signed.wav"
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, *command, str(signed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    # verify: the untrusted test signer makes it fail the policy (1), not crash (2).
    assert result.returncode in (0, 1), result.stderr
    assert "network use is not allowed" not in result.stderr
    assert '"Valid"' in result.stdout or "validation_state" in result.stdout


@pytest.mark.slow
def test_world_readable_key_file_warns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _run(["keys", "init"], home).returncode == 0
    key = home / "keys" / "producer.key"
    key.chmod(0o644)
    if not VECTORS.is_dir():
        pytest.skip("shared test vectors not present")
    signing = ["sign", str(VECTORS / "sample1.wav"), "-o", str(tmp_path / "o.wav")]
    result = _run([*signing, "--source-type", "digitalCapture"], home)
    assert result.returncode == 0
    warning = result.stderr.decode().strip().splitlines()
    assert len(warning) == 1 and "readable by other users (mode 644)" in warning[0]


@pytest.mark.slow
def test_debug_output_never_shows_a_provider_api_key(tmp_path: Path) -> None:
    """A server that echoes the key back in its error, and --debug asking for the traceback:
    the key appears nowhere in what the command prints."""
    from http_servers import Reply, ScriptedApp, serve_asgi

    key = "sk-live-0123456789abcdefSECRET"
    home = tmp_path / "home"
    assert _run(["keys", "init"], home).returncode == 0
    echo = {"error": {"code": "unauthorized", "message": f"bad key Bearer {key} for this org"}}
    app = ScriptedApp(Reply(401, json=echo))
    with serve_asgi(app) as url:
        for args in (
            ["--debug", "generate", "x", "-o", str(tmp_path / "o.wav"), "--provider", "http",
             "--endpoint", url, "--api-key", key],
            ["--debug", "generate", "x", "-o", str(tmp_path / "o.wav"), "--provider", "http",
             "--endpoint", url],
        ):  # fmt: skip
            result = _run(args, home, PROVSDK_API_KEY=key)
            assert result.returncode == 3, result.stderr.decode()
            assert b"Traceback" in result.stderr  # --debug really printed it
            assert key.encode() not in result.stdout + result.stderr
            assert b"[redacted]" in result.stderr
    assert app.seen and all(s.headers.get("authorization") == f"Bearer {key}" for s in app.seen)
