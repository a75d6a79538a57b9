"""Contracts a grant binds by SHA-256, carried in the manifest as binary data.

A contract travels as the data of an ``inputTo`` ingredient (c2pa's ``c2pa.embedded-data``,
hash-bound by the claim), read back and hashed from its bytes when a file is verified, and read
back and embedded again by each later attach. Mostly through the command line (real
subprocesses, real keys, real c2pa), with one development PKI whose leaves name "Game Studio"
and one generated track, made once for the module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_runner import MEASURED, provsdk_env, run_cli

from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.errors import InputError
from provsdk.grants import MAX_DOCUMENT_BYTES, contract_document
from provsdk.home import ProvsdkHome
from provsdk.manifest import CONTRACT, EMBEDDED_DATA, ManifestSpec
from provsdk.sign import sign_file
from provsdk.verify import verify_file

# Slow as a whole: 10 MiB contracts, attached and carried forward through the CLI.
pytestmark = pytest.mark.slow

STUDIO = "Game Studio"
MODEL = "provsdk-local 2.0"
MIB = 2**20


@dataclass(frozen=True)
class Studio:
    home: Path
    track: Path  # generated and signed, no grant yet
    contract: Path  # exactly the limit, random bytes
    grant: Path  # licensor-signed, binding the contract
    plain_grant: Path  # licensor-signed, binding nothing
    producer: KeySigner
    trust: TrustConfig


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("provsdk: ") and "Traceback" not in result.stderr
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_grant(home: Path, folder: Path, name: str, purpose: str, *document: Path) -> Path:
    bound = ("--document", *document) if document else ()
    ok(
        run_cli(
            "grant", "create", "--licensor", "Harbor Music", "--licensee", STUDIO,
            "--scope-model", MODEL, "--purpose", purpose, "--territory", "US",
            "--until", "2030-12-31", *bound, "-o", folder / f"{name}.json", home=home,
        )
    )  # fmt: skip
    ok(run_cli("grant", "sign", folder / f"{name}.json", "-o", folder / f"{name}.jws", home=home))
    return folder / f"{name}.jws"


def attach(studio: Studio, source: Path, out: Path, grant: Path, *document: Path) -> None:
    bound = ("--document", *document) if document else ()
    ok(run_cli("grant", "attach", source, "--grant", grant, *bound, "-o", out, home=studio.home))


def verified(studio: Studio, path: Path) -> dict[str, Any]:
    result = run_cli("verify", "--json", path, home=studio.home)
    assert result.returncode in (0, 1), result.stderr
    entry: dict[str, Any] = json.loads(result.stdout)["files"][0]
    return entry


def active_manifest(studio: Studio, path: Path) -> dict[str, Any]:
    store = json.loads(ok(run_cli("inspect", "--json", path, home=studio.home)).stdout)
    manifest: dict[str, Any] = store["manifests"][store["active_manifest"]]
    return manifest


def embedded_contracts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i["data"]
        for i in manifest.get("ingredients", [])
        if {"type": CONTRACT} in (i.get("data_types") or [])
    ]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    root = tmp_path_factory.mktemp("contracts")
    home = root / "home"
    ok(run_cli("keys", "init", "--org", STUDIO, home=home))
    track = root / "track.wav"
    ok(
        run_cli(
            "generate", "warm lofi beat", "-o", track, "--duration", "2", "--seed", "5",
            home=home,
        )
    )  # fmt: skip
    contract = root / "contract.pdf"
    contract.write_bytes(os.urandom(MAX_DOCUMENT_BYTES))
    provsdk_home = ProvsdkHome(home)
    return Studio(
        home=home,
        track=track,
        contract=contract,
        grant=make_grant(home, root, "bound", "commercial", contract),
        plain_grant=make_grant(home, root, "plain", "promo"),
        producer=load_signer(Role.PRODUCER, home=provsdk_home, use_env=False),
        trust=TrustConfig.load(provsdk_home),
    )


@pytest.fixture(scope="module")
def bound(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The track with the contract-binding grant and its 10 MiB contract attached."""
    out = tmp_path_factory.mktemp("bound") / "bound.wav"
    attach(studio, studio.track, out, studio.grant, studio.contract)
    return out


def test_contract_10_mib_attaches_and_verifies(studio: Studio, bound: Path) -> None:
    assert studio.contract.stat().st_size == 10 * MIB == MAX_DOCUMENT_BYTES
    entry = verified(studio, bound)
    assert entry["verdict"] == "pass", entry["reasons"]
    (grant,) = entry["grants"]["items"]
    assert grant["contract"] == "contract.pdf"
    assert grant["problems"] == []

    # Binary data, not base64 in JSON: the ingredient's data is exactly the contract's bytes.
    manifest = active_manifest(studio, bound)
    (data,) = embedded_contracts(manifest)
    assert data["sha256"] == sha(studio.contract) and data["size"] == MAX_DOCUMENT_BYTES
    assert data["identifier"].rsplit("/", 1)[-1].startswith(EMBEDDED_DATA)
    assert not [a for a in manifest["assertions"] if a["label"].startswith(CONTRACT)]


def test_contract_over_limit_refused(studio: Studio, tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(os.urandom(MAX_DOCUMENT_BYTES + 1))
    document = tmp_path / "grant.json"
    created = run_cli(
        "grant", "create", "--licensor", "Harbor Music", "--licensee", STUDIO,
        "--scope-model", MODEL, "--purpose", "commercial", "--document", big, "-o", document,
        home=studio.home,
    )  # fmt: skip
    line = one_error_line(created)
    assert "big.pdf" in line and "10 MiB" in line
    assert not document.exists()

    out = tmp_path / "never.wav"
    line = one_error_line(
        run_cli(
            "grant", "attach", studio.track, "--grant", studio.grant, "--document", big,
            "-o", out, home=studio.home,
        )
    )  # fmt: skip
    assert "big.pdf" in line and "10 MiB" in line
    assert not out.exists()
    with pytest.raises(InputError, match="10 MiB"):
        contract_document(big)


def test_contract_swapped_bytes_fail(studio: Studio, bound: Path, tmp_path: Path) -> None:
    doc, _ = contract_document(studio.contract)
    token = studio.grant.read_text().strip()
    other = os.urandom(1000)

    def codes(path: Path) -> list[str]:
        report = verify_file(path, trust=studio.trust)
        assert not report.passed
        (finding,) = report.grants.grants
        assert finding.contract is None
        return [p.code for p in finding.problems]

    # A trusted producer signs a manifest over the bound file that carries the grant and
    # other bytes under the contract's name, media type and digest.
    swapped = tmp_path / "swapped.wav"
    spec = ManifestSpec(title="swapped.wav", grants=(token,), contracts=((doc, other),))
    sign_file(bound, swapped, spec, studio.producer, anchors=studio.trust.producer)
    assert "grant.contract-missing" in codes(swapped)

    # JSON that declares the digest proves nothing: not an assertion labelled as embedded
    # data, nor the older form whose base64 holds other bytes.
    declared = tmp_path / "declared.wav"
    claims = (
        (EMBEDDED_DATA, {"sha256": doc.sha256, "size": 1000, "format": doc.media_type}),
        (
            CONTRACT,
            {
                "name": doc.name,
                "media_type": doc.media_type,
                "sha256": doc.sha256,
                "data": base64.b64encode(other).decode(),
            },
        ),
    )
    spec = ManifestSpec(title="declared.wav", grants=(token,), extra_assertions=claims)
    sign_file(studio.track, declared, spec, studio.producer, anchors=studio.trust.producer)
    assert "grant.contract-missing" in codes(declared)

    # Rewriting the embedded bytes in the file itself breaks the claim's hash of them.
    content = bound.read_bytes()
    sample = studio.contract.read_bytes()[MIB : MIB + 64]
    at = content.find(sample)
    assert at > 0 and content.find(sample, at + 1) == -1
    rewritten = tmp_path / "rewritten.wav"
    rewritten.write_bytes(content[:at] + bytes(b ^ 0xFF for b in sample) + content[at + 64 :])
    entry = verified(studio, rewritten)
    assert entry["verdict"] == "fail"
    assert entry["c2pa"]["state"] == "Invalid"
    assert all(g["contract"] is None for g in entry["grants"].get("items", []))


def test_contract_carried_forward_by_second_attach(
    studio: Studio, bound: Path, tmp_path: Path
) -> None:
    second = tmp_path / "second.wav"
    attach(studio, bound, second, studio.plain_grant)  # no --document: carried from the file
    entry = verified(studio, second)
    assert entry["verdict"] == "pass", entry["reasons"]
    contracts = {g["purposes"][0]: g["contract"] for g in entry["grants"]["items"]}
    assert contracts == {"commercial": "contract.pdf", "promo": None}
    assert all(g["problems"] == [] for g in entry["grants"]["items"])
    (data,) = embedded_contracts(active_manifest(studio, second))
    assert data["sha256"] == sha(studio.contract) and data["size"] == MAX_DOCUMENT_BYTES

    # Once more, in place, naming the contract again: still one copy in the active manifest.
    third = tmp_path / "third.wav"
    third.write_bytes(second.read_bytes())
    again = make_grant(studio.home, tmp_path, "again", "broadcast", studio.contract)
    ok(
        run_cli(
            "grant", "attach", third, "--grant", again, "--document", studio.contract,
            "--in-place", home=studio.home,
        )
    )  # fmt: skip
    entry = verified(studio, third)
    assert entry["verdict"] == "pass", entry["reasons"]
    assert sorted(str(g["contract"]) for g in entry["grants"]["items"]) == [
        "None",
        "contract.pdf",
        "contract.pdf",
    ]
    assert len(embedded_contracts(active_manifest(studio, third))) == 1


def test_contract_in_the_old_base64_form_is_read_and_carried_forward(
    studio: Studio, tmp_path: Path
) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("Harbor Music licenses Game Studio, on the terms below ...")
    grant = make_grant(studio.home, tmp_path, "old", "commercial", terms)
    old_form = {
        "name": "terms.txt",
        "media_type": "text/plain",
        "sha256": sha(terms),
        "data": base64.b64encode(terms.read_bytes()).decode(),
    }
    # As provsdk wrote contracts before: a JSON assertion holding the bytes as base64.
    legacy = tmp_path / "legacy.wav"
    spec = ManifestSpec(
        title="legacy.wav",
        grants=(grant.read_text().strip(),),
        extra_assertions=((CONTRACT, old_form),),
    )
    sign_file(studio.track, legacy, spec, studio.producer, anchors=studio.trust.producer)
    entry = verified(studio, legacy)
    assert entry["verdict"] == "pass", entry["reasons"]
    assert [g["contract"] for g in entry["grants"]["items"]] == ["terms.txt"]

    carried = tmp_path / "carried.wav"
    attach(studio, legacy, carried, studio.plain_grant)
    entry = verified(studio, carried)
    assert entry["verdict"] == "pass", entry["reasons"]
    assert sorted(str(g["contract"]) for g in entry["grants"]["items"]) == ["None", "terms.txt"]
    manifest = active_manifest(studio, carried)
    (data,) = embedded_contracts(manifest)  # written in the new form only
    assert data["sha256"] == sha(terms)
    assert not [a for a in manifest["assertions"] if a["label"].startswith(CONTRACT)]


def _peak_mb(home: Path, *args: str | Path) -> int:
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *map(str, args)],
        capture_output=True,
        text=True,
        env=provsdk_env(home),
        timeout=300,
    )
    errors, _, peak = result.stderr.rpartition("peak-mb ")
    assert result.returncode in (0, 1), errors
    return int(peak.split()[0])


@pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")
def test_contract_of_10_mib_is_not_copied_a_dozen_times(studio: Studio, tmp_path: Path) -> None:
    """Attaching and verifying a 10 MiB contract costs far less than twelve copies of it
    over the same commands with a tiny one: c2pa's own copies included."""
    tiny = tmp_path / "tiny.pdf"
    tiny.write_bytes(b"%PDF-1.7 tiny")
    tiny_grant = make_grant(studio.home, tmp_path, "tiny", "commercial", tiny)
    peaks: dict[str, dict[str, int]] = {}
    for name, grant, document in (
        ("tiny", tiny_grant, tiny),
        ("big", studio.grant, studio.contract),
    ):
        out = tmp_path / f"{name}.wav"
        attaching = ("grant", "attach", studio.track, "--grant", grant, "--document", document)
        peaks[name] = {"attach": _peak_mb(studio.home, *attaching, "-o", out)}
        peaks[name]["verify"] = _peak_mb(studio.home, "verify", "--json", out)
    for step in ("attach", "verify"):
        grown = peaks["big"][step] - peaks["tiny"][step]
        assert grown < 12 * 10, f"{step} grew by {grown} MB for 10 MiB: {peaks}"
