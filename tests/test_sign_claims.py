"""Signing an existing file claims nothing about its origin that nobody stated.

A file with no manifest gets a ``c2pa.created`` action only from a source type the caller
gives, and an AI source type only with the program that made the audio named; a file that
already carries a manifest is opened, its origin left to the manifest that stated it. Through
the command line (a real subprocess) and through the library, with real keys and c2pa.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli

from provsdk.credentials import TrustConfig
from provsdk.credentials.signers import KeySigner
from provsdk.errors import ConfigurationError
from provsdk.home import ProvsdkHome
from provsdk.manifest import ACTIONS, ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file
from provsdk.verify import verify_file
from provsdk.verify.read import read_evidence

AI_TYPES = [t.short for t in DigitalSourceType if t.is_ai_generated]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("provsdk: ") and "Traceback" not in result.stderr
    return lines[0]


def verified(path: Path, home: ProvsdkHome) -> dict[str, Any]:
    result = run_cli("verify", "--json", path, home=home.root)
    assert result.returncode in (0, 1), result.stderr
    entry: dict[str, Any] = json.loads(result.stdout)["files"][0]
    return entry


def first_action(path: Path, trust: TrustConfig) -> dict[str, Any]:
    store = read_evidence(path, trust.producer).store
    assert store is not None and store.active is not None
    action: dict[str, Any] = store.active.assertion(ACTIONS)["actions"][0]
    return action


def test_sign_without_source_type_claims_nothing(
    vectors: Path, dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "signed.wav"
    out.parent.mkdir()
    line = one_error_line(run_cli("sign", vectors / "sample1.wav", "-o", out, home=dev_home.root))
    assert "sample1.wav" in line and "--source-type" in line
    # Every choice is listed with what it means, so the person can pick one from the error.
    for kind in DigitalSourceType:
        assert f"{kind.short} ({kind.meaning})" in line
    assert "trainedAlgorithmicMedia (a trained AI model made it)" in line
    assert "digitalCapture (recorded)" in line
    assert list(out.parent.iterdir()) == []  # no output, no temporary file


@pytest.mark.slow
@pytest.mark.parametrize("source_type", AI_TYPES)
@pytest.mark.parametrize("generator", [None, "unknown", "  "])
def test_sign_ai_type_without_generator_refused(
    source_type: str,
    generator: str | None,
    vectors: Path,
    dev_home: ProvsdkHome,
    tmp_path: Path,
) -> None:
    out = tmp_path / "signed.wav"
    named = ("--generator", generator) if generator is not None else ()
    result = run_cli(
        "sign", vectors / "sample1.wav", "-o", out, "--source-type", source_type, *named,
        home=dev_home.root,
    )  # fmt: skip
    line = one_error_line(result)
    assert source_type in line and "--generator" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sign_digital_capture_needs_no_generator(
    vectors: Path, dev_home: ProvsdkHome, trust: TrustConfig, tmp_path: Path
) -> None:
    out = tmp_path / "recorded.flac"
    result = run_cli(
        "sign", vectors / "sample1.flac", "-o", out, "--source-type", "digitalCapture",
        home=dev_home.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entry = verified(out, dev_home)
    assert entry["verdict"] == "pass", entry["reasons"]
    origin = entry["origin"]
    assert origin["ai_generated"] is False
    assert origin["digital_source_type"].endswith("/digitalCapture")
    assert origin["generator"] is None and origin["generator_version"] is None
    action = first_action(out, trust)
    assert action["action"] == "c2pa.created" and "softwareAgent" not in action

    # A generator may still be named; a version nobody gave is left out, not made up.
    named = tmp_path / "named.flac"
    result = run_cli(
        "sign", vectors / "sample1.flac", "-o", named, "--source-type", "digitalCapture",
        "--generator", "Field Recorder", home=dev_home.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert first_action(named, trust)["softwareAgent"] == {"name": "Field Recorder"}
    assert verified(named, dev_home)["origin"]["generator_version"] is None


@pytest.mark.slow
def test_sign_signed_input_needs_no_source_type(
    signed_files: dict[str, Path], dev_home: ProvsdkHome, trust: TrustConfig, tmp_path: Path
) -> None:
    before = verified(signed_files["wav"], dev_home)["origin"]
    out = tmp_path / "again.wav"
    result = run_cli("sign", signed_files["wav"], "-o", out, home=dev_home.root)
    assert result.returncode == 0, result.stderr
    assert "not recorded" not in result.stdout
    action = first_action(out, trust)
    assert action["action"] == "c2pa.opened" and "digitalSourceType" not in action
    assert action["softwareAgent"]["name"] == "provsdk"
    after = verified(out, dev_home)
    assert after["verdict"] == "pass", after["reasons"]
    assert after["origin"]["digital_source_type"] == before["digital_source_type"]
    assert after["origin"]["generator"] == before["generator"] == "tests"

    # Origin options on a signed input are ignored, and the output says so: the origin
    # stays the one the creating manifest stated.
    ignored = tmp_path / "ignored.wav"
    result = run_cli(
        "sign", signed_files["wav"], "-o", ignored, "--source-type", "digitalCapture",
        "--generator", "Field Recorder", home=dev_home.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "not recorded" in " ".join(result.stdout.split())
    origin = verified(ignored, dev_home)["origin"]
    assert origin["digital_source_type"] == before["digital_source_type"]
    assert origin["ai_generated"] is True and origin["generator"] == "tests"


def test_library_refuses_an_ai_origin_without_a_named_agent(
    vectors: Path,
    signed_files: dict[str, Path],
    producer_signer: KeySigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    for agent in (None, SoftwareAgent("unknown"), SoftwareAgent(""), SoftwareAgent("N/A", "1")):
        for kind in DigitalSourceType:
            if kind.is_ai_generated:
                with pytest.raises(ConfigurationError, match="software agent"):
                    ManifestSpec(title="t", source_type=kind, software_agent=agent)
            else:
                ManifestSpec(title="t", source_type=kind, software_agent=agent)
    ManifestSpec(
        title="t",
        source_type=DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("Harbor Music Model"),  # a name is enough; no version
    )

    # No source type: refused for a file with no manifest, before anything is written...
    unstated = ManifestSpec(title="t")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ConfigurationError, match="source type") as raised:
        sign_file(vectors / "sample1.wav", out / "o.wav", unstated, producer_signer)
    assert raised.value.path == vectors / "sample1.wav"
    assert "digitalCapture (recorded)" in str(raised.value)
    assert list(out.iterdir()) == []
    # ... and not needed for one that has: it is opened, its origin kept from its history.
    result = sign_file(signed_files["mp3"], out / "o.mp3", unstated, producer_signer)
    assert result.parent
    report = verify_file(out / "o.mp3", trust=trust)
    assert report.passed, report.reasons
    assert report.origin.ai_generated is True and report.origin.generator == "tests"
