"""Sidecar manifests for OGG, Opus and AIFF: signed beside the audio, verified from beside it.

Per format: sign, verify, tamper the audio, tamper the sidecar, lose the sidecar; then the
attacks a sidecar invites (another file's sidecar, a sidecar that is not a file, a history
carried forward) and the writes that must stay atomic for the pair.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import run_cli

from provsdk.attach import attach_grant
from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.credentials import CallbackSigner, TrustConfig
from provsdk.credentials.signers import KeySigner
from provsdk.errors import ConfigurationError, CorruptAudioError, InputError, SigningError
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState
from provsdk.models.report import VerificationReport
from provsdk.sidecar import sidecar_for
from provsdk.sign import sign_file
from provsdk.verify import verify_file

SIDECAR_FORMATS = ("ogg", "opus", "aiff", "caf", "webm", "mka")
_CODEC = {
    "ogg": ["-c:a", "libvorbis"],
    "opus": ["-c:a", "libopus"],
    "aiff": [],
    "caf": ["-c:a", "alac"],
    "webm": ["-c:a", "libopus"],
    "mka": ["-c:a", "flac"],
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One unsigned 2-s file per sidecar format, made by ffmpeg: ext -> path (read-only)."""
    import imageio_ffmpeg

    folder = tmp_path_factory.mktemp("sidecar-sources")
    out = {}
    for ext in SIDECAR_FORMATS:
        path = folder / f"tone.{ext}"
        tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
        exe = imageio_ffmpeg.get_ffmpeg_exe()
        subprocess.run([exe, "-v", "error", *tone, *_CODEC[ext], str(path)], check=True)
        out[ext] = path
    return out


def _sign(source: Path, dest: Path, spec: ManifestSpec, signer: KeySigner) -> Path:
    result = sign_file(source, dest, spec, signer, soft_binding=False)
    assert result.sidecar == sidecar_for(dest)
    return dest


@pytest.fixture(params=SIDECAR_FORMATS)
def signed(
    request: pytest.FixtureRequest,
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
) -> Path:
    """Each sidecar format, signed into ``track.EXT`` with ``track.c2pa`` beside it."""
    ext = str(request.param)
    return _sign(sources[ext], tmp_path / f"track.{ext}", spec, producer_signer)


def _codes(report: VerificationReport) -> set[str]:
    return {r.code for r in report.policy.reasons}


def test_sign_writes_the_audio_unchanged_and_a_sidecar_that_verifies(
    signed: Path, sources: dict[str, Path], trust: TrustConfig
) -> None:
    ext = signed.suffix[1:]
    assert signed.read_bytes() == sources[ext].read_bytes()  # nothing is embedded
    assert sidecar_for(signed).read_bytes()[4:8] == b"jumb"
    report = verify_file(signed, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED
    assert report.passed
    assert report.format == AudioFormat[ext.upper()].extension
    assert any(n.code == "manifest.sidecar" for n in report.notes)


def test_tampered_audio_fails_its_sidecar_hash(
    signed: Path, sources: dict[str, Path], trust: TrustConfig
) -> None:
    ext = signed.suffix[1:]
    original = signed.read_bytes()
    for back in range(10, len(original), 97):  # a byte whose change leaves a decodable file
        data = bytearray(original)
        data[-back] ^= 0x01
        if ext in ("ogg", "opus"):
            _fix_last_ogg_crc(data)
        signed.write_bytes(bytes(data))
        with contextlib.suppress(CorruptAudioError):
            probe(signed)
            break
    probe(signed)  # the container is intact: only the signature can tell
    report = verify_file(signed, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert "assertion.dataHash.mismatch" in _codes(report)
    assert not report.passed


def test_tampered_sidecar_is_invalid(signed: Path, trust: TrustConfig) -> None:
    beside = sidecar_for(signed)
    store = bytearray(beside.read_bytes())
    at = store.find(b"provsdk")  # a byte of the claim, which the signature covers
    assert at > 0
    store[at] ^= 0x20
    beside.write_bytes(bytes(store))
    report = verify_file(signed, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert not report.passed


def test_lost_sidecar_reads_as_absent_and_says_where_it_looked(
    signed: Path, trust: TrustConfig
) -> None:
    sidecar_for(signed).unlink()
    report = verify_file(signed, trust=trust)
    assert report.integrity.state is C2paState.ABSENT
    assert not report.passed
    assert any(n.code == "manifest.sidecar-missing" for n in report.notes)


def _fix_last_ogg_crc(data: bytearray) -> None:
    """Recompute the CRC of the last Ogg page, so a flipped audio byte is not a corrupt page."""
    start = data.rfind(b"OggS")
    data[start + 22 : start + 26] = b"\0\0\0\0"
    crc = 0
    for byte in data[start:]:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    data[start + 22 : start + 26] = crc.to_bytes(4, "little")


def test_another_files_sidecar_does_not_lend_its_pass(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """The attack: put a genuine, trusted sidecar beside a file it was not made for."""
    genuine = _sign(sources["ogg"], tmp_path / "genuine.ogg", spec, producer_signer)
    other = tmp_path / "other.ogg"
    data = bytearray(sources["ogg"].read_bytes())
    data[-10] ^= 0x01
    _fix_last_ogg_crc(data)
    other.write_bytes(bytes(data))
    shutil.copyfile(sidecar_for(genuine), sidecar_for(other))
    report = verify_file(other, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert not report.passed
    named = verify_file(other, trust=trust, manifest=sidecar_for(genuine))
    assert named.integrity.state is C2paState.INVALID


def test_a_named_sidecar_is_read_from_where_it_is(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    signed = _sign(sources["opus"], tmp_path / "track.opus", spec, producer_signer)
    (tmp_path / "kept").mkdir()
    moved = tmp_path / "kept" / "manifest.c2pa"
    sidecar_for(signed).rename(moved)
    assert verify_file(signed, trust=trust).integrity.state is C2paState.ABSENT
    report = verify_file(signed, trust=trust, manifest=moved)
    assert report.passed
    assert any(str(moved) in n.message for n in report.notes)
    with pytest.raises(InputError, match="does not exist"):
        verify_file(signed, trust=trust, manifest=tmp_path / "nothing.c2pa")


def test_a_sidecar_for_a_format_that_embeds_is_refused(
    signed_files: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    store = tmp_path / "x.c2pa"
    store.write_bytes(b"\0\0\0\x08jumb")
    with pytest.raises(ConfigurationError, match="carries its manifest inside"):
        verify_file(signed_files["wav"], trust=trust, manifest=store)


def test_a_stray_sidecar_beside_a_wav_is_ignored(
    signed_files: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    """A WAV's own embedded manifest is what counts; a .c2pa beside it cannot replace it."""
    wav = tmp_path / "x.wav"
    shutil.copyfile(signed_files["wav"], wav)
    (tmp_path / "x.c2pa").write_bytes(b"garbage")
    assert verify_file(wav, trust=trust).passed


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_place_of_the_sidecar_is_refused_without_blocking(
    sources: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    track = tmp_path / "track.aiff"
    shutil.copyfile(sources["aiff"], track)
    os.mkfifo(tmp_path / "track.c2pa")
    with pytest.raises(InputError, match="FIFO"):
        verify_file(track, trust=trust)


def test_a_garbage_sidecar_is_invalid_not_a_crash(
    sources: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    track = tmp_path / "track.ogg"
    shutil.copyfile(sources["ogg"], track)
    sidecar_for(track).write_bytes(b"\0\0\0\x10jumb" + b"\xff" * 200)
    report = verify_file(track, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert not report.passed


def test_re_signing_keeps_the_history_and_grant_attach_works(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    harbor_grant: Callable[[str], str],
    trust: TrustConfig,
) -> None:
    """A signed OGG is a parent like an embedded manifest: attaching a grant builds on it."""
    track = _sign(sources["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    token = harbor_grant("tests 1")
    out = tmp_path / "granted.ogg"
    attach_grant([track], token, signer=producer_signer, trust=trust, out=out)
    report = verify_file(out, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED
    assert report.grants.count == 1
    assert report.origin.ai_generated and report.origin.trusted  # read through the history
    store = json.loads(_reader_json(out, trust))
    assert len(store["manifests"]) == 2


def _reader_json(path: Path, trust: TrustConfig) -> str:
    from provsdk.c2pa_access import read_manifest_reports

    reports = read_manifest_reports(path, probe(path), trust.producer)
    assert reports is not None
    return reports[0]


def test_in_place_signing_replaces_only_the_sidecar(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    track = tmp_path / "track.aiff"
    shutil.copyfile(sources["aiff"], track)
    inode = track.stat().st_ino
    sign_file(track, track, spec, producer_signer, in_place=True, soft_binding=False)
    assert track.stat().st_ino == inode  # the audio file was not rewritten
    assert verify_file(track, trust=trust).passed
    sign_file(track, track, spec, producer_signer, in_place=True, soft_binding=False)
    assert verify_file(track, trust=trust).passed  # the second signing opened the first
    assert track.read_bytes() == sources["aiff"].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.aiff", "track.c2pa"]


def test_a_failed_signing_leaves_neither_file_nor_an_old_sidecar_beside_a_new_file(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    dest = _sign(sources["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    before = (dest.read_bytes(), sidecar_for(dest).read_bytes())

    def unplugged(data: bytes) -> bytes:
        raise RuntimeError("the HSM is unplugged")

    broken = CallbackSigner(
        algorithm=producer_signer.algorithm,
        chain=producer_signer.chain,
        source="hsm",
        callback=unplugged,
    )
    other = tmp_path / "other.ogg"
    data = bytearray(sources["ogg"].read_bytes())
    data[-10] ^= 0x01
    _fix_last_ogg_crc(data)
    other.write_bytes(bytes(data))
    with pytest.raises(SigningError, match="HSM"):
        sign_file(other, dest, spec, broken, soft_binding=False)
    assert (dest.read_bytes(), sidecar_for(dest).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.ogg", "track.c2pa", "track.ogg"]


def test_signing_refuses_to_take_over_another_files_sidecar(
    sources: dict[str, Path], tmp_path: Path, spec: ManifestSpec, producer_signer: KeySigner
) -> None:
    """track.ogg and track.opus share the name track.c2pa: the second must not strip the first."""
    first = _sign(sources["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    kept = sidecar_for(first).read_bytes()
    with pytest.raises(ConfigurationError, match=r"would share its sidecar track\.c2pa"):
        sign_file(sources["opus"], tmp_path / "track.opus", spec, producer_signer)
    assert sidecar_for(first).read_bytes() == kept
    first.unlink()  # a sidecar whose audio is elsewhere (moved, or not yet copied)
    with pytest.raises(ConfigurationError, match="another file's manifest"):
        sign_file(sources["opus"], tmp_path / "track.opus", spec, producer_signer)
    assert sidecar_for(first).read_bytes() == kept
    with pytest.raises(ConfigurationError, match="sidecar manifest would take"):
        sign_file(sources["opus"], tmp_path / "x.c2pa", spec, producer_signer)


def test_cli_sign_and_verify_name_the_sidecar(
    sources: dict[str, Path], tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    out = tmp_path / "song.opus"
    result = run_cli(
        "sign",
        sources["opus"],
        "-o",
        out,
        "--source-type",
        "trainedAlgorithmicMedia",
        "--generator",
        "tests",
        "--no-soft-binding",
        home=dev_home.root,
    )
    assert result.returncode == 0, result.stderr
    assert "song.c2pa" in result.stdout
    moved = tmp_path / "m.c2pa"
    (tmp_path / "song.c2pa").rename(moved)
    absent = run_cli("verify", out, home=dev_home.root)
    assert absent.returncode == 1
    named = run_cli("verify", "--json", out, "--manifest", moved, home=dev_home.root)
    assert named.returncode == 0, named.stdout + named.stderr
    assert json.loads(named.stdout)["files"][0]["verdict"] == "pass"
    folder = run_cli("verify", tmp_path, "--manifest", moved, home=dev_home.root)
    assert folder.returncode == 2 and "one FILE" in folder.stderr


def test_a_resumed_catalogue_run_verifies_again_a_file_whose_sidecar_changed(
    sources: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    dev_home: ProvsdkHome,
) -> None:
    """The audio of a sidecar format never changes when it is signed: the resume key must
    cover the sidecar, or a swapped sidecar would keep the last run's PASS."""
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    track = _sign(sources["ogg"], catalogue / "a.ogg", spec, producer_signer)
    results = tmp_path / "results.jsonl"
    first = run_cli("verify", catalogue, "--results", results, "--json", home=dev_home.root)
    assert first.returncode == 0, first.stderr
    assert [f["path"] for f in json.loads(first.stdout)["files"]] == [str(track)]  # no .c2pa
    store = bytearray(sidecar_for(track).read_bytes())
    store[store.find(b"provsdk")] ^= 0x20
    sidecar_for(track).write_bytes(bytes(store))
    again = run_cli("verify", catalogue, "--results", results, "--json", home=dev_home.root)
    assert again.returncode == 1, again.stdout
    assert json.loads(again.stdout)["files"][0]["verdict"] == "fail"
