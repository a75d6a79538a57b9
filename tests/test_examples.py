"""The examples run as documented and do what they say: one per user story."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import clean_environ

# Slow as a whole: the examples run end to end as subprocesses, on a studio made through the CLI.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _env(**extra: str) -> dict[str, str]:
    env = clean_environ()
    # The scripts call `provsdk` by name, as a user's shell would.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def make_studio(base: Path) -> dict[str, Path]:
    """A studio's home (org "Game Studio"), two generated tracks, and a signed scope grant."""
    home = base / "home"
    env = _env(PROVSDK_HOME=str(home))
    provsdk = [sys.executable, "-m", "provsdk"]
    assert _run([*provsdk, "keys", "init", "--org", "Game Studio"], env).returncode == 0
    assets = base / "assets"
    (assets / "music").mkdir(parents=True)
    for i, name in enumerate(["music/theme.wav", "menu.mp3"]):
        out = assets / name
        done = _run(
            [*provsdk, "generate", f"epic theme {i}", "-o", str(out), "--duration", "2"], env
        )
        assert done.returncode == 0, done.stderr
    grant = base / "grant.jws"
    made = _run(
        [*provsdk, "grant", "create", "--licensor", "Acme Label", "--licensee", "Game Studio",
         "--purpose", "commercial", "--territory", "US", "--until", "2030-12-31",
         "--scope-model", "provsdk-local 2.0", "-o", str(base / "grant.json")],
        env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    signed = _run([*provsdk, "grant", "sign", str(base / "grant.json"), "-o", str(grant)], env)
    assert signed.returncode == 0, signed.stderr
    return {"base": base, "home": home, "assets": assets, "grant": grant}


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_studio(tmp_path_factory.mktemp("studio"))


def test_generate_and_verify_example(studio: dict[str, Path], tmp_path: Path) -> None:
    env = _env(PROVSDK_HOME=str(studio["home"]))
    result = _run([sys.executable, str(EXAMPLES / "generate_and_verify.py"), str(tmp_path)], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict pass, C2PA state Trusted" in result.stdout
    assert "AI-generated: True" in result.stdout
    assert (tmp_path / "beat.mp3").is_file()


def test_ci_script_attaches_and_gates_with_environment_credentials(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    # The CI machine has trust anchors but no keys on disk: the producer key is a secret.
    ci_home = tmp_path / "ci-home"
    shutil.copytree(studio["home"] / "trust", ci_home / "trust")
    assets = tmp_path / "assets"
    shutil.copytree(studio["assets"], assets)
    keys = studio["home"] / "keys"
    env = _env(
        PROVSDK_HOME=str(ci_home),
        PROVSDK_SIGNING_KEY=(keys / "producer.key").read_text(),
        PROVSDK_SIGNING_CERT=(keys / "producer.pem").read_text(),
    )
    report = tmp_path / "report.xml"
    script = str(EXAMPLES / "ci" / "attach_and_gate.sh")
    policy = str(EXAMPLES / "ci" / "provsdk.toml")
    result = _run(["bash", script, str(assets), str(studio["grant"]), policy, str(report)], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr + report.read_text()
    assert 'tests="2" failures="0"' in report.read_text()

    checked = _run(
        [sys.executable, str(EXAMPLES / "verify_received.py"), str(assets / "menu.mp3"), policy],
        env,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "grant: Acme Label -> Game Studio: commercial in US" in checked.stdout


def test_ci_script_fails_the_build_when_an_asset_lacks_a_grant(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    env = _env(PROVSDK_HOME=str(studio["home"]))
    policy = str(EXAMPLES / "ci" / "provsdk.toml")
    unlicensed = tmp_path / "unlicensed.wav"
    shutil.copyfile(studio["assets"] / "music" / "theme.wav", unlicensed)
    result = _run(
        [sys.executable, str(EXAMPLES / "verify_received.py"), str(unlicensed), policy], env
    )
    assert result.returncode == 1
    assert "FAIL policy.grant" in result.stdout


# The pre-commit hook and the GitHub Actions recipes: tests/test_ci_recipes.py.
