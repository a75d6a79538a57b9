"""The CI job, simulated: a studio makes tracks and gets a grant; a CI runner that holds only
the producer credentials (in environment variables) and the trust stores attaches the grant to
every asset and gates the build on ``provsdk verify --policy --junit``.

Two subprocess environments, as on two machines: the studio's PROVSDK_HOME with every key, and
the runner's, a copy of the trust stores only, with the producer key and chain as PEM text in
PROVSDK_SIGNING_KEY / PROVSDK_SIGNING_CERT.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_runner import run_cli as run

POLICY = """\
[producer]
require = "trusted"
[disclosure]
require = true
training = ["licensed", "public-domain", "none"]
[[grant]]
purpose = "commercial"
territory = "US"
"""
ASSETS = ("assets/menu.wav", "assets/levels/forest.wav", "assets/levels/boss/boss.wav")
GRANT_LABEL = "io.provsdk.rights-grant"


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def active_grants(inspected: str) -> int:
    store = json.loads(inspected)
    manifest = store["manifests"][store["active_manifest"]]
    return sum(1 for a in manifest["assertions"] if a["label"].split("__")[0] == GRANT_LABEL)


@pytest.mark.slow
def test_ci_attaches_the_grant_and_gates_on_the_policy(tmp_path: Path) -> None:
    # --- the studio: keys, tracks, and a grant from the licensor --------------------------------
    studio = tmp_path / "studio"
    home = studio / "home"
    home.parent.mkdir()
    ok(run("keys", "init", "--org", "Game Studio", home=home, cwd=studio))
    workspace = tmp_path / "workspace"  # the repository the CI job checks out
    for i, asset in enumerate(ASSETS):
        (workspace / asset).parent.mkdir(parents=True, exist_ok=True)
        ok(
            run(
                "generate", f"level theme {i}", "-o", workspace / asset, "--duration", "2",
                "--seed", str(100 + i), home=home, cwd=studio,
            )
        )  # fmt: skip
    ok(
        run(
            "grant", "create", "--licensor", "Harbor Music", "--licensee", "Game Studio",
            "--scope-model", "provsdk-local 2.0", "--purpose", "commercial", "--territory", "US",
            "--until", "2030-12-31", "-o", "grant.json", home=home, cwd=studio,
        )
    )  # fmt: skip
    ok(run("grant", "sign", "grant.json", "-o", workspace / "grant.jws", home=home, cwd=studio))
    (workspace / "provsdk.toml").write_text(POLICY)

    # --- the runner: trust stores only, the producer credential in its environment ------------
    runner_home = workspace / ".provsdk"
    shutil.copytree(home / "trust", runner_home / "trust")
    assert not (runner_home / "keys").exists()
    secrets = {
        "PROVSDK_SIGNING_KEY": (home / "keys" / "producer.key").read_text(),
        "PROVSDK_SIGNING_CERT": (home / "keys" / "producer.pem").read_text(),
    }
    assert secrets["PROVSDK_SIGNING_KEY"].startswith("-----BEGIN PRIVATE KEY-----")
    outputs: list[subprocess.CompletedProcess[str]] = []

    def ci(*args: str, expect: int = 0, env: dict[str, str] | None = secrets) -> str:
        result = run(*args, home=runner_home, cwd=workspace, env=env)
        outputs.append(result)
        assert result.returncode == expect, (args, result.stdout[-2000:], result.stderr[-2000:])
        return result.stdout

    # Without the variables the runner has no producer key at all.
    ci("grant", "attach", "assets/**/*.wav", "--grant", "grant.jws", "--in-place", expect=2, env={})
    assert "no producer credentials" in outputs[-1].stderr
    untouched = {asset: sha(workspace / asset) for asset in ASSETS}

    attached = ci("grant", "attach", "assets/**/*.wav", "--grant", "grant.jws", "--in-place")
    assert attached.count("grant attached (1 in all)") == 3, attached
    for asset in ASSETS:
        assert sha(workspace / asset) != untouched[asset]

    ci("verify", "--policy", "provsdk.toml", "--junit", "report.xml", "assets/")
    suite = ET.parse(workspace / "report.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "0")
    names = sorted(case.get("name") or "" for case in suite.findall("testcase"))
    assert names == sorted(str(Path(a)) for a in ASSETS)
    assert not suite.findall("testcase/failure") and not suite.findall("testcase/error")

    # The job runs again (a retry, the next commit): nothing changes, one grant per file.
    attached_files = {asset: sha(workspace / asset) for asset in ASSETS}
    again = ci("grant", "attach", "assets/**/*.wav", "--grant", "grant.jws", "--in-place")
    assert again.count("already there, unchanged (1 in all)") == 3, again
    for asset in ASSETS:
        assert sha(workspace / asset) == attached_files[asset]
        assert active_grants(ci("inspect", "--json", asset)) == 1
    report = json.loads(ci("verify", "--json", "--policy", "provsdk.toml", "assets/"))
    assert [f["verdict"] for f in report["files"]] == ["pass"] * 3
    assert {f["producer"]["organization"] for f in report["files"]} == {"Game Studio"}
    assert {f["grants"]["count"] for f in report["files"]} == {1}

    # No private key anywhere in what the job printed or left behind.
    for result in outputs:
        assert "PRIVATE KEY" not in result.stdout + result.stderr
    for path in workspace.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
    assert not list(workspace.rglob("*.key"))
