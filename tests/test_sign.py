"""sign_file: real c2pa signing of the four formats, and every way it must fail cleanly."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import provsdk_env
from cryptography import x509

from provsdk.audio import AudioFormat
from provsdk.audio.containers import probe
from provsdk.credentials import Algorithm, CallbackSigner, Role, TrustConfig
from provsdk.credentials.signers import KeySigner
from provsdk.errors import (
    ConfigurationError,
    CorruptAudioError,
    InputError,
    OutputError,
    SigningError,
    UnsupportedFormatError,
)
from provsdk.home import ProvsdkHome
from provsdk.manifest import ACTIONS, TRAINING_MINING, ManifestSpec, manifest_definition
from provsdk.models import C2paState, DigitalSourceType
from provsdk.sign import TEMP_SUFFIX, C2paBuilderStrategy, SignResult, read_parent, sign_file
from provsdk.sign.atomic import atomic_output
from provsdk.sign.strategy import default_strategy
from provsdk.verify import verify_file
from provsdk.verify.read import read_evidence

FORMATS = ("wav", "mp3", "flac", "m4a")
MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "m4a": "audio/mp4"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- the happy path -----------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_signed_vectors_verify_trusted(
    signed_files: dict[str, Path], trust: TrustConfig, ext: str
) -> None:
    report = verify_file(signed_files[ext], trust=trust)
    assert report.integrity.state is C2paState.TRUSTED, report.to_dict()
    assert report.passed
    assert report.format == ext
    assert report.integrity.manifest_label and report.integrity.manifest_label.startswith(
        "urn:c2pa:"
    )
    assert report.producer.present and report.producer.trusted
    assert report.origin.present and report.origin.ai_generated is True
    assert report.origin.digital_source_type == DigitalSourceType.ALGORITHMIC_MEDIA.value
    assert (report.origin.generator, report.origin.generator_version) == ("tests", "1")
    assert report.origin.claim_generator and report.origin.claim_generator.startswith("provsdk")


@pytest.mark.parametrize("ext", FORMATS)
def test_raw_c2pa_reader_reads_signed_output_as_valid(
    signed_files: dict[str, Path], ext: str
) -> None:
    """c2pa's own Reader, with no provsdk in between and no trust anchors: Valid."""
    import c2pa

    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}})
    with signed_files[ext].open("rb") as fh:
        reader = c2pa.Reader(MIME[ext], fh, context=context)
        try:
            assert reader.get_validation_state() == "Valid"
            assert reader.is_embedded()
            results = reader.get_validation_results()
            failures = [e["code"] for e in results["activeManifest"].get("failure", [])]
            assert failures == ["signingCredential.untrusted"]
            store = json.loads(reader.json())
            active = store["manifests"][store["active_manifest"]]
            labels = [a["label"] for a in active["assertions"]]
            assert ACTIONS in labels and TRAINING_MINING in labels
            assert active["title"] == "test"
        finally:
            reader.close()


@pytest.mark.parametrize("ext", FORMATS)
def test_signed_output_decodes_to_the_same_audio(
    vectors: Path, signed_files: dict[str, Path], ffmpeg, ext: str
) -> None:
    decoded = ffmpeg.decode(signed_files[ext])
    assert decoded.returncode == 0
    assert decoded.stderr == ""
    assert ffmpeg.audio_md5(signed_files[ext]) == ffmpeg.audio_md5(vectors / f"sample1.{ext}")


@pytest.mark.parametrize("ext", FORMATS)
def test_signing_leaves_the_input_byte_for_byte_unchanged(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, spec: ManifestSpec, ext: str
) -> None:
    source = tmp_path / f"input.{ext}"
    shutil.copyfile(vectors / f"sample1.{ext}", source)
    before, mtime = _sha256(source), source.stat().st_mtime_ns
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = sign_file(source, out_dir / f"signed.{ext}", spec, producer_signer)
    assert _sha256(source) == before
    assert source.stat().st_mtime_ns == mtime
    assert isinstance(result, SignResult)
    assert result.path == out_dir / f"signed.{ext}"
    assert result.audio.format.extension == ext
    assert result.manifest_size > 1000
    assert result.signer_subject == producer_signer.leaf.subject.rfc4514_string()
    # M4A is bound by a BMFF hash: c2pa's own path signs it whatever the default.
    assert result.strategy == ("c2pa-builder" if ext == "m4a" else default_strategy().name)
    assert _listing(out_dir) == [f"signed.{ext}"]
    signed = out_dir / f"signed.{ext}"
    assert read_parent(signed, probe(signed), None) is not None
    assert read_parent(source, probe(source), None) is None


def test_existing_output_is_replaced_and_keeps_its_mode(
    vectors: Path,
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> None:
    dest = tmp_path / "out.wav"
    dest.write_bytes(b"old content")
    dest.chmod(0o640)
    sign_file(vectors / "sample1.wav", dest, spec, producer_signer)
    assert dest.stat().st_mode & 0o777 == 0o640
    assert verify_file(dest, trust=trust).passed
    assert _listing(tmp_path) == ["out.wav"]


def test_in_place_signing_when_asked(
    vectors: Path,
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> None:
    path = tmp_path / "song.wav"
    shutil.copyfile(vectors / "sample1.wav", path)
    sign_file(path, path, spec, producer_signer, in_place=True)
    assert verify_file(path, trust=trust).passed
    assert _listing(tmp_path) == ["song.wav"]


# --- inputs that must be refused, leaving nothing behind -----------------------------------


def _bad_inputs(vectors: Path, folder: Path) -> dict[str, tuple[Path, type[InputError]]]:
    folder.mkdir()
    text = folder / "text.wav"
    text.write_text("not audio at all\n" * 20)
    ogg = folder / "tune.ogg"
    ogg.write_bytes(b"OggS\x00\x02" + b"\x00" * 200)
    avi = folder / "clip.avi"
    avi.write_bytes(b"RIFF\x00\x01\x00\x00AVI " + b"\x00" * 200)
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    cut = folder / "cut.m4a"
    cut.write_bytes((vectors / "sample1.m4a").read_bytes()[:100_000])
    return {
        "sample3.invalid.wav": (vectors / "sample3.invalid.wav", CorruptAudioError),
        "riff_bomb_1000.wav": (vectors / "riff_bomb_1000.wav", CorruptAudioError),
        "id3v23_compression_underflow.mp3": (
            vectors / "id3v23_compression_underflow.mp3",
            CorruptAudioError,
        ),
        "text": (text, UnsupportedFormatError),
        "fake-ogg": (ogg, CorruptAudioError),
        "avi": (avi, UnsupportedFormatError),
        "empty": (empty, InputError),
        "truncated-m4a": (cut, CorruptAudioError),
        "missing": (folder / "missing.wav", InputError),
        "directory": (folder, InputError),
    }


def test_bad_inputs_raise_input_errors_and_leave_no_file(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, spec: ManifestSpec
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, (source, expected) in _bad_inputs(vectors, tmp_path / "in").items():
        suffix = source.suffix if source.suffix in (".wav", ".mp3", ".m4a") else ".wav"
        with pytest.raises(InputError) as info:
            sign_file(source, out_dir / f"signed{suffix}", spec, producer_signer)
        assert isinstance(info.value, expected), (name, info.value)
        assert "\n" not in str(info.value)
        assert _listing(out_dir) == [], name


def test_output_equal_to_input_is_refused(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, spec: ManifestSpec
) -> None:
    source = tmp_path / "song.wav"
    shutil.copyfile(vectors / "sample1.wav", source)
    before = _sha256(source)
    for dest in (source, tmp_path / "." / "song.wav", tmp_path / "sub" / ".." / "song.wav"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(ConfigurationError) as info:
            sign_file(source, dest, spec, producer_signer)
        assert info.value.hint
    link = tmp_path / "link.wav"
    link.symlink_to(source)
    with pytest.raises(ConfigurationError):
        sign_file(source, link, spec, producer_signer)
    assert _sha256(source) == before
    assert _listing(tmp_path) == ["link.wav", "song.wav", "sub"]


@pytest.mark.parametrize(
    ("ext", "wrong"),
    [("wav", "mp3"), ("mp3", "wav"), ("flac", "m4a"), ("m4a", "FLAC")],
)
def test_output_suffix_of_another_format_is_refused(
    vectors: Path,
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    ext: str,
    wrong: str,
) -> None:
    with pytest.raises(ConfigurationError, match="does not convert"):
        sign_file(vectors / f"sample1.{ext}", tmp_path / f"out.{wrong}", spec, producer_signer)
    assert _listing(tmp_path) == []


def test_missing_output_folder_is_an_output_error(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, spec: ManifestSpec
) -> None:
    with pytest.raises(OutputError) as info:
        sign_file(vectors / "sample1.wav", tmp_path / "nope" / "out.wav", spec, producer_signer)
    assert "does not exist" in str(info.value)
    assert not (tmp_path / "nope").exists()


def test_output_that_is_a_directory_is_an_output_error(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, spec: ManifestSpec
) -> None:
    (tmp_path / "taken.wav").mkdir()
    with pytest.raises(OutputError):
        sign_file(vectors / "sample1.wav", tmp_path / "taken.wav", spec, producer_signer)
    assert _listing(tmp_path) == ["taken.wav"]
    assert _listing(tmp_path / "taken.wav") == []


def _chain(home: ProvsdkHome) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_pem_x509_certificates(home.chain_path(Role.PRODUCER).read_bytes()))


@pytest.mark.parametrize("ext", ["wav", "m4a"])
def test_signer_that_raises_is_a_signing_error_and_leaves_nothing(
    vectors: Path, tmp_path: Path, dev_home: ProvsdkHome, spec: ManifestSpec, ext: str
) -> None:
    def hsm_offline(data: bytes) -> bytes:
        raise RuntimeError("HSM offline")

    signer = CallbackSigner(
        algorithm=Algorithm.ES256, chain=_chain(dev_home), source="hsm", callback=hsm_offline
    )
    with pytest.raises(SigningError) as info:
        sign_file(vectors / f"sample1.{ext}", tmp_path / f"out.{ext}", spec, signer)
    assert "\n" not in str(info.value)
    assert "HSM offline" in str(info.value)  # the signer's own cause, not c2pa's echo of it
    assert _listing(tmp_path) == []


def test_signer_returning_a_bad_signature_is_a_signing_error(
    vectors: Path, tmp_path: Path, dev_home: ProvsdkHome, spec: ManifestSpec
) -> None:
    signer = CallbackSigner(
        algorithm=Algorithm.ES256,
        chain=_chain(dev_home),
        source="hsm",
        callback=lambda d: b"\x01" * 3,
    )
    with pytest.raises(SigningError):
        sign_file(vectors / "sample1.wav", tmp_path / "out.wav", spec, signer)
    assert _listing(tmp_path) == []


# --- signing a signed file ------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_signing_a_signed_file_keeps_it_as_parent(
    signed_files: dict[str, Path],
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
    ext: str,
) -> None:
    first = signed_files[ext]
    first_label = read_evidence(first, trust.producer).store.active.label  # type: ignore[union-attr]
    again = tmp_path / f"again.{ext}"
    sign_file(first, again, spec, producer_signer)

    report = verify_file(again, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED, report.to_dict()
    assert report.passed
    assert report.integrity.manifest_label != first_label

    store = read_evidence(again, trust.producer).store
    assert store is not None and store.active is not None
    actions = store.active.assertion(ACTIONS)["actions"]
    assert actions[0]["action"] == "c2pa.opened"
    parents = [i for i in store.active.ingredients if i.relationship == "parentOf"]
    assert len(parents) == 1
    assert parents[0].active_manifest == first_label
    assert parents[0].title == first.name
    assert first_label in store.manifests
    # The creating action lives in the parent; the origin layer finds it there.
    assert report.origin.present
    assert report.origin.ai_generated is True
    assert report.origin.generator == "tests"


def test_signing_a_foreign_signed_file_keeps_its_manifest(
    vectors: Path,
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> None:
    source = vectors / "sample1_signed.wav"
    foreign = read_evidence(source, trust.producer).store
    assert foreign is not None and foreign.active is not None
    out = tmp_path / "resigned.wav"
    sign_file(source, out, spec, producer_signer)
    report = verify_file(out, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED
    store = read_evidence(out, trust.producer).store
    assert store is not None and store.active is not None
    assert store.active.ingredients[0].active_manifest == foreign.active.label
    assert report.origin.present  # found through the C2PA test-cert parent


def _tampered(signed_files: dict[str, Path], tmp_path: Path, trust: TrustConfig) -> Path:
    data = bytearray(signed_files["wav"].read_bytes())
    data[1000] ^= 0xFF  # an audio sample, well inside the 'data' chunk
    tampered = tmp_path / "tampered.wav"
    tampered.write_bytes(bytes(data))
    assert verify_file(tampered, trust=trust).integrity.state is C2paState.INVALID
    return tampered


def test_resigning_a_tampered_file_is_refused(
    signed_files: dict[str, Path],
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> None:
    tampered = _tampered(signed_files, tmp_path, trust)
    before = _sha256(tampered)
    with pytest.raises(InputError, match=r"dataHash\.mismatch.*refusing to sign over it"):
        sign_file(tampered, tmp_path / "laundered.wav", spec, producer_signer)
    assert _sha256(tampered) == before
    assert _listing(tmp_path) == ["tampered.wav"]


def test_a_broken_parent_in_the_history_fails_verification(
    signed_files: dict[str, Path],
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> None:
    """Another tool may build on a tampered file; the verifier must still see the break."""
    tampered = _tampered(signed_files, tmp_path, trust)
    laundered = tmp_path / "laundered.wav"
    definition = manifest_definition(dataclasses.replace(spec, has_parent=True), AudioFormat.WAV)
    C2paBuilderStrategy().sign(
        definition,
        producer_signer.c2pa_signer(),
        AudioFormat.WAV,
        tampered,
        laundered,
        parent=True,
        anchors=trust.producer,
    )
    report = verify_file(laundered, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED  # the new manifest itself is intact
    assert not report.passed
    assert any(str(r).startswith("ingredient.assertion.dataHash.mismatch") for r in report.reasons)


# --- atomic_output ------------------------------------------------------------------------


def test_atomic_output_success(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    with atomic_output(dest) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.endswith(TEMP_SUFFIX)
        assert tmp.exists() and not dest.exists()
        tmp.write_bytes(b"payload")
    assert dest.read_bytes() == b"payload"
    assert _listing(tmp_path) == ["file.bin"]


@pytest.mark.parametrize(
    "exc", [RuntimeError("boom"), KeyboardInterrupt()], ids=["error", "ctrl-c"]
)
def test_atomic_output_removes_temp_on_failure(tmp_path: Path, exc: BaseException) -> None:
    dest = tmp_path / "file.bin"
    seen: list[Path] = []
    with pytest.raises(type(exc)), atomic_output(dest) as tmp:
        seen.append(tmp)
        tmp.write_bytes(b"half written")
        raise exc
    assert seen and not seen[0].exists()
    assert _listing(tmp_path) == []


def test_atomic_output_failure_keeps_previous_file(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt), atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
        raise KeyboardInterrupt
    assert dest.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["file.bin"]


def test_atomic_output_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError), atomic_output(tmp_path / "missing" / "x.bin"):
        pytest.fail("must not be reached")


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
from provsdk_cli.main import main
sys.argv = ["provsdk", *sys.argv[1:]]
main()
"""


def _on_a_full_disk(home: ProvsdkHome, *args: str) -> subprocess.CompletedProcess[str]:
    """``provsdk ARGS`` in a process that cannot write more than 200 kB to any file."""
    return subprocess.run(
        [sys.executable, "-c", FULL_DISK, *args],
        capture_output=True,
        text=True,
        env=provsdk_env(home.root),
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_is_a_clear_error_and_loses_nothing(
    vectors: Path, tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    source = vectors / "sample1.wav"  # about 1 MB: larger than the limit below
    before = _sha256(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    signing = ("sign", str(source), "-o", str(out_dir / "o.wav"), "--source-type", "digitalCapture")
    result = _on_a_full_disk(dev_home, *signing)
    assert result.returncode == 2
    assert (
        len([ln for ln in result.stderr.splitlines() if not ln.startswith("hint: ")]) == 1
        and "File too large" in result.stderr
    )
    assert "o.wav" in result.stderr
    assert _listing(out_dir) == []
    assert _sha256(source) == before


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_while_attaching_in_place_leaves_the_input_as_it_was(
    signed_files: dict[str, Path], tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    """In place, the input is the only copy: a write that fails must not touch it."""
    from provsdk.credentials import load_signer
    from provsdk.grants import create_grant, sign_grant

    track = tmp_path / "assets" / "track.wav"
    track.parent.mkdir()
    shutil.copyfile(signed_files["wav"], track)  # about 1 MB: larger than the limit
    before = _sha256(track)
    grant = create_grant(
        licensor="Label", licensee="Studio", purposes=["commercial"], target_file=track
    )
    grant_file = tmp_path / "grant.jws"
    grant_file.write_text(sign_grant(grant, load_signer(Role.LICENSOR, home=dev_home)))
    command = ["grant", "attach", str(track), "--grant", str(grant_file), "--in-place"]
    result = _on_a_full_disk(dev_home, *command)
    assert result.returncode == 2
    assert (
        len([ln for ln in result.stderr.splitlines() if not ln.startswith("hint: ")]) == 1
        and "File too large" in result.stderr
    )
    assert _sha256(track) == before
    assert _listing(track.parent) == ["track.wav"]
