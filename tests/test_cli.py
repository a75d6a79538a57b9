"""The command line, end to end: real subprocesses, real keys, real c2pa, the exit-code contract."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_runner import run_cli as run

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
HOSTILE = ["sample3.invalid.wav", "riff_bomb_1000.wav", "id3v23_compression_underflow.mp3"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def needs_vectors() -> None:
    if not VECTORS.is_dir():
        pytest.skip("shared test vectors not present")


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    result = run("keys", "init", home=home)
    assert result.returncode == 0, result.stderr
    return home


def verify_json(path: Path, home: Path, *extra: str) -> tuple[int, dict]:
    result = run("verify", "--json", str(path), *extra, home=home)
    return result.returncode, json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # The error is one line; the one thing that may follow it is a "hint: " line.
    errors = [line for line in lines if not line.startswith("hint: ")]
    assert len(errors) >= 1 and lines[0] == errors[0]
    assert all(line.startswith("provsdk: ") for line in errors), result.stderr
    assert len(lines) - len(errors) <= 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_keys_init_writes_documented_paths_and_refuses_to_overwrite(cli_home: Path) -> None:
    for role in ("producer", "provider", "licensor"):
        assert (cli_home / "keys" / f"{role}.key").stat().st_mode & 0o777 == 0o600
        assert b"BEGIN CERTIFICATE" in (cli_home / "keys" / f"{role}.pem").read_bytes()
        assert b"BEGIN CERTIFICATE" in (cli_home / "trust" / f"{role}.pem").read_bytes()
    before = sha(cli_home / "keys" / "producer.key")
    again = run("keys", "init", home=cli_home)
    assert_one_line_error(again, "producer.key")
    assert run("keys", "init", "--exist-ok", home=cli_home).returncode == 0
    assert sha(cli_home / "keys" / "producer.key") == before


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "m4a"])
def test_generate_each_format_verifies_trusted(cli_home: Path, tmp_path: Path, fmt: str) -> None:
    import c2pa

    from provsdk.audio import ffmpeg_executable

    out = tmp_path / f"t.{fmt}"
    result = run(
        "generate",
        "warm lofi beat",
        "-o",
        str(out),
        "--duration",
        "4",
        "--seed",
        "7",
        home=cli_home,
    )
    assert result.returncode == 0, result.stderr
    code, data = verify_json(out, cli_home)
    entry = data["files"][0]
    assert code == 0
    assert (entry["verdict"], entry["c2pa"]["state"]) == ("pass", "Trusted")
    assert entry["origin"]["ai_generated"] is True
    assert entry["origin"]["digital_source_type"].endswith("/algorithmicMedia")
    assert entry["origin"]["seed"] == 7
    # Another implementation's reader agrees the manifest is intact (untrusted without anchors).
    assert c2pa.Reader(str(out)).get_validation_state() == "Valid"
    decoded = subprocess.run(
        [ffmpeg_executable(), "-v", "error", "-i", str(out), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert decoded.returncode == 0 and decoded.stderr.strip() == ""
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no scratch files left


def test_generate_is_reproducible_from_prompt_seed_and_duration(
    cli_home: Path, tmp_path: Path
) -> None:
    from provsdk.providers.local import render_track

    a, _ = render_track("dark techno", seed=3, duration=2.0)
    b, _ = render_track("dark techno", seed=3, duration=2.0)
    c, _ = render_track("dark techno", seed=4, duration=2.0)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


@pytest.mark.slow
def test_vector_signed_by_c2pa_test_cert_is_valid_but_untrusted_by_default(cli_home: Path) -> None:
    needs_vectors()
    signed = VECTORS / "sample1_signed.wav"
    code, data = verify_json(signed, cli_home)
    entry = data["files"][0]
    assert code == 1
    assert (entry["verdict"], entry["c2pa"]["state"]) == ("fail", "Valid")
    assert any(r.startswith("signingCredential.untrusted") for r in entry["reasons"])
    anchors = str(VECTORS / "c2pa-test-trust-anchors.pem")
    code, data = verify_json(signed, cli_home, "--trust-anchors", anchors)
    assert code == 0
    assert (data["files"][0]["verdict"], data["files"][0]["c2pa"]["state"]) == ("pass", "Trusted")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "m4a"])
def test_unsigned_vectors_sign_then_verify_trusted(
    cli_home: Path, tmp_path: Path, fmt: str
) -> None:
    needs_vectors()
    source = VECTORS / f"sample1.{fmt}"
    before = sha(source)
    out = tmp_path / f"signed.{fmt}"
    result = run(
        "sign", str(source), "-o", str(out), "--source-type", "digitalCapture", home=cli_home
    )
    assert result.returncode == 0, result.stderr
    assert sha(source) == before
    code, data = verify_json(out, cli_home)
    assert code == 0 and data["files"][0]["c2pa"]["state"] == "Trusted"


@pytest.mark.slow
def test_changed_audio_after_signing_fails_with_the_c2pa_code(
    cli_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "t.wav"
    assert (
        run(
            "generate",
            "ambient pad",
            "-o",
            str(out),
            "--duration",
            "2",
            "--seed",
            "1",
            home=cli_home,
        ).returncode
        == 0
    )
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x55  # a sample in the middle of the audio
    out.write_bytes(bytes(data))
    code, report = verify_json(out, cli_home)
    entry = report["files"][0]
    assert code == 1
    assert entry["c2pa"]["state"] == "Invalid"
    assert any(r.startswith("assertion.dataHash.mismatch") for r in entry["reasons"])


def _bad_inputs(tmp_path: Path) -> list[Path]:
    needs_vectors()
    files = [tmp_path / name for name in HOSTILE]
    for f in files:
        shutil.copyfile(VECTORS / f.name, f)
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    ogg = tmp_path / "song.ogg"
    ogg.write_bytes(b"OggS" + bytes(60))
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((VECTORS / "sample1_signed.wav").read_bytes()[:5000])
    return [*files, text, empty, ogg, truncated]


@pytest.mark.slow
def test_bad_inputs_exit_2_with_one_line_and_leave_nothing(cli_home: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    outputs = tmp_path / "out"
    outputs.mkdir()
    for bad in _bad_inputs(inputs):
        before = sha(bad)
        verified = run("verify", str(bad), home=cli_home)
        assert_one_line_error(verified, bad.name)
        signed = run(
            "sign", str(bad), "-o", str(outputs / f"x{bad.suffix}"),
            "--source-type", "digitalCapture", home=cli_home,
        )  # fmt: skip
        assert_one_line_error(signed, bad.name)
        inspected = run("inspect", str(bad), home=cli_home)
        assert_one_line_error(inspected, bad.name)
        assert sha(bad) == before
        assert list(outputs.iterdir()) == []


@pytest.mark.slow
def test_verify_folder_reports_every_file_and_the_worst_exit_code(
    cli_home: Path, tmp_path: Path
) -> None:
    needs_vectors()
    good = tmp_path / "good.wav"
    assert (
        run("generate", "happy pop", "-o", str(good), "--duration", "2", home=cli_home).returncode
        == 0
    )
    shutil.copyfile(VECTORS / "sample1.mp3", tmp_path / "unsigned.mp3")
    shutil.copyfile(VECTORS / "sample3.invalid.wav", tmp_path / "broken.wav")
    result = run("verify", "--json", str(tmp_path), home=cli_home)
    assert result.returncode == 2
    entries = {Path(e["path"]).name: e for e in json.loads(result.stdout)["files"]}
    assert entries["good.wav"]["verdict"] == "pass"
    assert entries["unsigned.mp3"]["c2pa"]["state"] == "Absent"
    assert entries["unsigned.mp3"]["reasons"][0].startswith("c2pa.absent")
    assert entries["broken.wav"]["verdict"] == "fail"
    assert entries["broken.wav"]["reasons"][0].startswith("input.unreadable")


@pytest.mark.slow
def test_signing_from_environment_credentials_without_a_home(
    cli_home: Path, tmp_path: Path
) -> None:
    needs_vectors()
    env = {
        "PROVSDK_SIGNING_KEY": (cli_home / "keys" / "producer.key").read_text(),
        "PROVSDK_SIGNING_CERT": str(cli_home / "keys" / "producer.pem"),
    }
    empty_home = tmp_path / "nohome"
    out = tmp_path / "ci.flac"
    result = run(
        "sign", str(VECTORS / "sample1.flac"), "-o", str(out), "--source-type", "digitalCapture",
        home=empty_home, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "BEGIN" not in result.stdout + result.stderr
    code, _ = verify_json(out, cli_home)
    assert code == 0


def test_missing_credentials_is_a_one_line_error(tmp_path: Path) -> None:
    needs_vectors()
    result = run(
        "sign", str(VECTORS / "sample1.wav"), "-o", str(tmp_path / "o.wav"), home=tmp_path / "none"
    )
    assert_one_line_error(result, "producer.key")
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.slow
def test_signing_a_signed_file_keeps_history_and_inspect_shows_it(
    cli_home: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.mp3"
    assert (
        run(
            "generate", "rock", "-o", str(first), "--duration", "2", "--seed", "2", home=cli_home
        ).returncode
        == 0
    )
    second = tmp_path / "second.mp3"
    assert run("sign", str(first), "-o", str(second), home=cli_home).returncode == 0
    code, data = verify_json(second, cli_home)
    entry = data["files"][0]
    assert code == 0
    assert entry["origin"]["generator"] == "provsdk-local"  # found through the parent
    store = json.loads(run("inspect", "--json", str(second), home=cli_home).stdout)
    active = store["manifests"][store["active_manifest"]]
    assert active["ingredients"][0]["relationship"] == "parentOf"
    assert len(store["manifests"]) == 2


@pytest.mark.slow
def test_usage_errors_exit_2(cli_home: Path, tmp_path: Path) -> None:
    assert run("sign", "x.wav", home=cli_home).returncode == 2  # neither -o nor --in-place
    assert run("generate", "x", home=cli_home).returncode == 2  # no -o
    result = run("generate", "x", "-o", str(tmp_path / "x.avi"), home=cli_home)
    assert_one_line_error(result, "x.avi")
    assert run("--version", home=cli_home).stdout.startswith("provsdk, version")
