"""The CI recipes in examples/ci/ and the composite action (action.yml) work when copied.

The GitHub Actions files are run the way a runner runs them: the YAML is parsed, each ``run:``
step's ``${{ ... }}`` expressions are replaced by their values (an unset secret or variable is
"", as on GitHub), and the script runs in bash with ``-eo pipefail``. ``uses: provsdk/provsdk@``
runs this repository's action.yml with the step's ``with:`` values as inputs; the runner's own
actions (checkout, setup-python, upload-artifact) are stood in for by the test, and ``pip`` is
a recorder, since provsdk is already installed here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runner import run_cli
from test_examples import EXAMPLES, ROOT, _env, make_studio
from tsa_responder import serve_tsa

from provsdk.credentials.roles import Role
from provsdk.credentials.trust import TrustStore
from provsdk.errors import CredentialError
from provsdk.home import ProvsdkHome

WORKFLOW = EXAMPLES / "ci" / "github-actions.yml"
ACTION = ROOT / "action.yml"
HOOK = EXAMPLES / "ci" / "pre-commit-hook.sh"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict), path
    return loaded


def evaluate(text: str, context: dict[str, dict[str, str]]) -> str:
    """``text`` with each ``${{ ctx.name }}`` replaced, as Actions does; unknown contexts fail."""

    def value(match: re.Match[str]) -> str:
        where, _, name = match.group(1).partition(".")
        assert where in context, f"the test runner does not know ${{{{ {match.group(1)} }}}}"
        if where in ("secrets", "vars"):
            return context[where].get(name, "")  # unset: the empty string
        assert name in context[where], f"{match.group(1)} is not defined"
        return context[where][name]

    return EXPRESSION.sub(value, text)


@dataclass
class Runner:
    """One job's machine: a workspace, RUNNER_TEMP, and a ``pip`` that only records."""

    workspace: Path
    temp: Path
    env: dict[str, str]
    pip_log: Path
    outputs: int = 0
    uploaded: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, base: Path) -> Runner:
        workspace, temp, tools = base / "workspace", base / "runner-temp", base / "tools"
        for folder in (workspace, temp, tools):
            folder.mkdir(parents=True)
        pip = tools / "pip"
        pip.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >> "$PIP_LOG"\n')
        pip.chmod(0o755)
        env = _env(RUNNER_TEMP=str(temp), GITHUB_WORKSPACE=str(workspace))
        env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
        env["PIP_LOG"] = str(base / "pip.log")
        return cls(workspace, temp, env, base / "pip.log")

    def run(self, step: dict[str, Any], context: dict[str, dict[str, str]]) -> dict[str, str]:
        """Run one ``run:`` step; return what it wrote to $GITHUB_OUTPUT. Failures are kept."""
        self.outputs += 1
        output = self.temp / f"output-{self.outputs}"
        output.touch()
        env = dict(self.env, GITHUB_OUTPUT=str(output))
        env.update({k: evaluate(str(v), context) for k, v in step.get("env", {}).items()})
        script = evaluate(step["run"], context)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            capture_output=True, text=True, env=env, cwd=self.workspace, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            self.failures.append(f"{step.get('name', script)}: {done.stdout}{done.stderr}")
        lines = output.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def action(self, inputs: dict[str, str]) -> dict[str, str]:
        """Run this repository's action.yml with ``inputs``; return its outputs."""
        action = _load(ACTION)
        declared: dict[str, dict[str, Any]] = action["inputs"]
        assert not set(inputs) - set(declared), f"undeclared inputs {set(inputs) - set(declared)}"
        given = {k: inputs.get(k, str(spec.get("default", ""))) for k, spec in declared.items()}
        for name, spec in declared.items():
            assert not spec.get("required") or inputs.get(name), f"required input {name} unset"
        context: dict[str, dict[str, str]] = {
            "inputs": given,
            "github": {"action_path": str(ACTION.parent), "workspace": str(self.workspace)},
            "runner": {"temp": str(self.temp)},
            "steps": {},
        }
        assert action["runs"]["using"] == "composite"
        for step in action["runs"]["steps"]:
            if "uses" in step:
                assert step["uses"].startswith("actions/setup-python@"), step["uses"]
                assert evaluate(step["with"]["python-version"], context)
                continue
            assert step.get("shell") == "bash", "a composite action's run step names its shell"
            if self.failures:
                break
            for name, value in self.run(step, context).items():
                context["steps"][f"{step['id']}.outputs.{name}"] = value
        return {k: evaluate(v["value"], context) for k, v in action["outputs"].items()}

    def workflow(self, secrets: dict[str, str], variables: dict[str, str]) -> None:
        """Run the example workflow's one job, as the runner would."""
        job = _load(WORKFLOW)["jobs"]["rights"]
        context: dict[str, dict[str, str]] = {"secrets": secrets, "vars": variables}
        for step in job["steps"]:
            uses = step.get("uses", "")
            if self.failures and step.get("if") != "always()":
                continue
            if uses.startswith("provsdk/provsdk@"):
                assert re.fullmatch(r"provsdk/provsdk@v\d+\.\d+\.\d+", uses), "pin a release"
                self.action({k: evaluate(str(v), context) for k, v in step["with"].items()})
            elif uses.startswith("actions/upload-artifact@"):
                for line in step["with"]["path"].split():
                    assert (self.workspace / line).exists(), f"nothing to upload at {line}"
                    self.uploaded.append(self.workspace / line)
            elif "run" in step:
                self.run(step, context)
            else:
                assert uses.startswith("actions/checkout@"), uses


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The examples' studio, plus a grant for France only (the policy asks for the US)."""
    made = make_studio(tmp_path_factory.mktemp("studio"))
    base, home = made["base"], made["home"]
    france = base / "france.json"
    created = run_cli(
        "grant", "create", "--licensor", "Acme Label", "--licensee", "Game Studio",
        "--purpose", "commercial", "--territory", "FR", "--until", "2030-12-31",
        "--scope-model", "provsdk-local 2.0", "-o", france, home=home,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    signed = run_cli("grant", "sign", france, "-o", base / "france.jws", home=home)
    assert signed.returncode == 0, signed.stderr
    return {**made, "france": base / "france.jws"}


def _job(studio: dict[str, Path], base: Path, grant: str = "grant") -> Runner:
    """A checked-out repository as the example workflow expects it: assets, grant, policy."""
    runner = Runner.make(base)
    shutil.copytree(studio["assets"], runner.workspace / "assets")
    (runner.workspace / "legal").mkdir()
    shutil.copyfile(studio[grant], runner.workspace / "legal" / "label-2026.jws")
    shutil.copyfile(EXAMPLES / "ci" / "provsdk.toml", runner.workspace / "provsdk.toml")
    return runner


def _settings(studio: dict[str, Path]) -> tuple[dict[str, str], dict[str, str]]:
    """The repository's secrets (the producer key) and variables (the three role anchors)."""
    keys, trust = studio["home"] / "keys", studio["home"] / "trust"
    secrets = {
        "PROVSDK_SIGNING_KEY": (keys / "producer.key").read_text(),
        "PROVSDK_SIGNING_CERT": (keys / "producer.pem").read_text(),
    }
    variables = {
        f"PROVSDK_{role.upper()}_ANCHORS": (trust / f"{role}.pem").read_text()
        for role in ("producer", "provider", "licensor")
    }
    return secrets, variables


def test_unset_anchor_variables_write_no_empty_trust_file(tmp_path: Path) -> None:
    runner = Runner.make(tmp_path)
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    step = next(s for s in _load(ACTION)["runs"]["steps"] if s.get("name") == "Trust anchors")
    inputs = {"producer-anchors": pem, "provider-anchors": "", "licensor-anchors": " \n\t"}
    inputs["tsa-anchors"] = ""
    runner.run(step, {"inputs": inputs, "runner": {"temp": str(runner.temp)}})
    assert not runner.failures, runner.failures
    trust = runner.temp / "provsdk" / "trust"
    assert sorted(p.name for p in trust.iterdir()) == ["producer.pem"]
    assert (trust / "producer.pem").read_text() == pem + "\n"

    # Why: provsdk refuses a trust file without a certificate rather than trusting nothing.
    home = ProvsdkHome(tmp_path / "home")
    home.anchors_path(Role.TIMESTAMP).parent.mkdir(parents=True)
    home.anchors_path(Role.TIMESTAMP).write_text("\n")
    with pytest.raises(CredentialError, match=r"timestamp\.pem: not a readable PEM"):
        TrustStore.from_home(Role.TIMESTAMP, home)


@pytest.mark.slow
def test_workflow_with_the_optional_timestamp_settings_timestamps_and_passes(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    runner = _job(studio, tmp_path)
    secrets, variables = _settings(studio)
    with serve_tsa() as (url, authority):
        variables["PROVSDK_TSA_URL"] = url
        variables["PROVSDK_TSA_ANCHORS"] = authority.credentials.root_pem().decode()
        runner.workflow(secrets, variables)
        assert authority.requests, "the new manifests were not timestamped"
    assert not runner.failures, runner.failures
    trust = runner.temp / "provsdk" / "trust"
    assert (trust / "timestamp.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    report = (runner.workspace / "audio-rights.xml").read_text()
    assert 'tests="2" failures="0"' in report
    assert runner.uploaded == [runner.workspace / "audio-rights.xml", runner.workspace / "assets"]
    # provsdk comes from the action's own checkout, not from PyPI.
    assert runner.pip_log.read_text().split() == ["install", str(ROOT)]


@pytest.mark.slow
def test_workflow_with_the_optional_settings_unset_still_passes(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    runner = _job(studio, tmp_path)
    secrets, variables = _settings(studio)
    runner.workflow(secrets, variables)  # no PROVSDK_TSA_URL, no PROVSDK_TSA_ANCHORS
    assert not runner.failures, runner.failures
    assert sorted(p.name for p in (runner.temp / "provsdk" / "trust").iterdir()) == [
        "licensor.pem", "producer.pem", "provider.pem",
    ]  # fmt: skip
    assert 'tests="2" failures="0"' in (runner.workspace / "audio-rights.xml").read_text()
    assert "PRIVATE KEY" not in (runner.workspace / "audio-rights.xml").read_text()


@pytest.mark.slow
def test_workflow_fails_when_the_grant_does_not_cover_the_policy_and_still_uploads(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    runner = _job(studio, tmp_path, grant="france")
    runner.workflow(*_settings(studio))
    assert len(runner.failures) == 1, runner.failures
    assert "policy.grant" in runner.failures[0]
    report = (runner.workspace / "audio-rights.xml").read_text()
    assert 'tests="2" failures="2"' in report
    assert runner.workspace / "audio-rights.xml" in runner.uploaded  # if: always()


@pytest.mark.slow
def test_action_refuses_an_asset_without_a_trusted_grant_when_licensor_anchors_are_unset(
    studio: dict[str, Path], tmp_path: Path
) -> None:
    runner = _job(studio, tmp_path)
    secrets, variables = _settings(studio)
    del variables["PROVSDK_LICENSOR_ANCHORS"]
    outputs = runner.action(
        {
            "assets": "assets", "grant": "legal/label-2026.jws", "junit": "out/report.xml",
            "signing-key": secrets["PROVSDK_SIGNING_KEY"],
            "signing-cert": secrets["PROVSDK_SIGNING_CERT"],
            "producer-anchors": variables["PROVSDK_PRODUCER_ANCHORS"],
            "provider-anchors": variables["PROVSDK_PROVIDER_ANCHORS"],
        }
    )  # fmt: skip
    assert outputs == {"report": "out/report.xml", "assets": "assets"}
    assert len(runner.failures) == 1, runner.failures
    assert "contains no certificate" not in runner.failures[0]


# --- the pre-commit hook: it checks the staged blobs, not the working tree ----------------------


def _repo(studio: dict[str, Path], base: Path) -> tuple[Path, dict[str, str], Path, Path]:
    """A git repository, the hook's environment, and a granted and an unsigned track."""
    repo, scratch = base / "repo", base / "tmp"
    scratch.mkdir()
    env = _env(
        PROVSDK_HOME=str(studio["home"]),
        PROVSDK_POLICY=str(EXAMPLES / "ci" / "provsdk.toml"),
        TMPDIR=str(scratch),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
    )  # fmt: skip
    (repo / "sfx").mkdir(parents=True)
    assert subprocess.run(["git", "init", "-q"], cwd=repo, env=env).returncode == 0
    unsigned = base / "unsigned.mp3"
    shutil.copyfile(studio["assets"] / "menu.mp3", unsigned)
    granted = base / "granted.mp3"
    done = run_cli("grant", "attach", unsigned, "--grant", studio["grant"], "-o", granted,
                   home=studio["home"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    return repo, env, granted, unsigned


def _commit(repo: Path, env: dict[str, str], staged: Path, working: Path) -> tuple[int, str]:
    """Stage ``staged`` as "sfx/boss theme.mp3", leave ``working`` there; run the hook."""
    track = repo / "sfx" / "boss theme.mp3"
    shutil.copyfile(staged, track)
    assert subprocess.run(["git", "add", "--", str(track)], cwd=repo, env=env).returncode == 0
    shutil.copyfile(working, track)
    hook = subprocess.run(
        ["bash", str(HOOK)], capture_output=True, text=True, cwd=repo, env=env, timeout=300
    )
    assert not list(Path(env["TMPDIR"]).iterdir()), "the hook left its copies behind"
    return hook.returncode, hook.stdout + hook.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    ("staged", "working", "refused"),
    [("granted", "unsigned", False), ("unsigned", "granted", True)],
    ids=["granted-staged-unsigned-in-working-tree", "unsigned-staged-granted-in-working-tree"],
)
def test_hook_judges_the_staged_copy_not_the_working_tree(
    studio: dict[str, Path], tmp_path: Path, staged: str, working: str, refused: bool
) -> None:
    repo, env, granted, unsigned = _repo(studio, tmp_path)
    files = {"granted": granted, "unsigned": unsigned}
    code, output = _commit(repo, env, staged=files[staged], working=files[working])
    assert code == (1 if refused else 0), output
    assert "sfx/boss theme.mp3" in output
    assert ("do not carry the grants" in output) == refused
