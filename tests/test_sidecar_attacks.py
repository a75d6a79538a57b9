"""Attacks on sidecar manifests (OGG, Opus, AIFF), each test named after the attack it tries.

tests/test_sidecar.py covers the basics (tampered audio or store, another file's sidecar, a
FIFO, a lost sidecar, a failed signing). These go after what a sidecar adds around them: the
file system between the audio and its ``.c2pa`` (symlinks, folders, devices, huge files, names
two outputs share), files that are not what their name says, streams a player may play that
the signer did not expect, a history that claims a trusted parent, and catalogue runs that
copy, hash and resume.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import run_cli

from provsdk.attach import attach_grant
from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.catalogue.task import CatalogueSettings, file_digest, verify_task
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.errors import (
    ConfigurationError,
    InputError,
    OutputError,
    UnsupportedFormatError,
)
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState
from provsdk.models.report import VerificationReport
from provsdk.sidecar import sidecar_for
from provsdk.sign import sign_file
from provsdk.verify import verify_file
from provsdk.verify.verifier import expand_paths

_CODEC = {"ogg": ["-c:a", "libvorbis"], "opus": ["-c:a", "libopus"], "aiff": []}


def _ffmpeg(*args: str | Path) -> None:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([exe, "-v", "error", "-y", *map(str, args)], check=True)


def _tone(path: Path, frequency: int, ext: str) -> Path:
    tone = ["-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=1"]
    _ffmpeg(*tone, *_CODEC[ext], path)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Unsigned 1-s files made by ffmpeg (read-only): one per sidecar format at 440 Hz, an
    OGG of another sound, a WAV, and two Ogg layouts provsdk refuses (chained, multiplexed)."""
    folder = tmp_path_factory.mktemp("attack-media")
    out = {ext: _tone(folder / f"tone.{ext}", 440, ext) for ext in _CODEC}
    out["other_ogg"] = _tone(folder / "other.ogg", 880, "ogg")
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", folder / "tone.wav")
    out["wav"] = folder / "tone.wav"
    chained = folder / "chained.ogg"
    chained.write_bytes(out["ogg"].read_bytes() + out["other_ogg"].read_bytes())
    out["chained"] = chained
    muxed = folder / "muxed.ogg"
    _ffmpeg(
        *("-i", out["ogg"], "-i", out["other_ogg"], "-map", "0:a", "-map", "1:a"),
        *("-c", "copy", muxed),
    )
    out["muxed"] = muxed
    return out


@pytest.fixture(scope="module")
def outsider(tmp_path_factory: pytest.TempPathFactory) -> KeySigner:
    """A producer key of another development PKI: real, but not one ``trust`` trusts."""
    home = ProvsdkHome(tmp_path_factory.mktemp("outsider-home"))
    with pytest.MonkeyPatch.context() as mp:
        for name in ("PROVSDK_SIGNING_KEY", "PROVSDK_SIGNING_CERT", "PROVSDK_HOME"):
            mp.delenv(name, raising=False)
        init_dev_pki(home)
        return load_signer(Role.PRODUCER, home=home, use_env=False)


def _sign(source: Path, dest: Path, spec: ManifestSpec, signer: KeySigner, **kw: bool) -> Path:
    sign_file(source, dest, spec, signer, soft_binding=False, **kw)
    return dest


def _codes(report: VerificationReport) -> set[str]:
    return {r.code for r in report.policy.reasons}


def _settings(trust: TrustConfig) -> CatalogueSettings:
    return CatalogueSettings.of(trust, digest=True)


# --- the file system between the audio and its sidecar --------------------------------------


def test_a_symlinked_sidecar_of_another_file_is_invalid(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """track.c2pa -> a genuine, trusted sidecar that was made for other bytes."""
    genuine = _sign(media["other_ogg"], tmp_path / "genuine.ogg", spec, producer_signer)
    track = tmp_path / "track.ogg"
    shutil.copyfile(media["ogg"], track)
    sidecar_for(track).symlink_to(sidecar_for(genuine))
    report = verify_file(track, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert "assertion.dataHash.mismatch" in _codes(report)
    assert not report.passed


@pytest.mark.parametrize("kind", ["sparse", "folder", "device", "dangling"])
def test_a_sidecar_that_is_not_a_small_file_is_refused_without_reading_it(
    kind: str, media: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    """A 10 GiB sparse file, a folder, /dev/zero or a dangling link where track.c2pa is: the
    API refuses (or, for a link to nothing, finds no manifest) at once, and a catalogue run
    records the error for the file instead of hanging, reading gigabytes or crashing."""
    track = tmp_path / "track.aiff"
    shutil.copyfile(media["aiff"], track)
    beside = sidecar_for(track)
    if kind == "sparse":
        with beside.open("wb") as fh:
            fh.truncate(10 << 30)
    elif kind == "folder":
        beside.mkdir()
    elif kind == "device":
        beside.symlink_to(os.devnull if not Path("/dev/zero").exists() else "/dev/zero")
    else:
        beside.symlink_to(tmp_path / "nowhere.c2pa")
    if kind == "dangling":
        assert verify_file(track, trust=trust).integrity.state is C2paState.ABSENT
        return
    with pytest.raises(InputError, match=r"limit|folder|device"):
        verify_file(track, trust=trust)
    outcome = verify_task(track, _settings(trust))
    assert outcome.record is not None and outcome.record["verdict"] == "fail"
    assert outcome.exit == 2
    plain = verify_task(track, CatalogueSettings.of(trust))  # no digest: read by the verifier
    assert plain.exit == 2


def test_the_cli_reports_a_bad_sidecar_without_a_traceback(
    media: dict[str, Path], tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    track = tmp_path / "track.ogg"
    shutil.copyfile(media["ogg"], track)
    with sidecar_for(track).open("wb") as fh:
        fh.truncate(1 << 40)  # a terabyte, sparse
    result = run_cli("verify", track, home=dev_home.root)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "limit" in result.stderr + result.stdout


def test_a_catalogue_copy_of_a_sidecar_is_not_readable_by_other_users(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
    dev_home: ProvsdkHome,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """track.c2pa is a symlink to the user's private key (a catalogue unpacked from someone
    else's archive). A --results run copies what the link names into the shared temporary
    folder: the copies must be private (a 0700 folder, 0600 files), or any local user can read
    the key while the file is verified."""
    temp = tmp_path / "shared-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    track = tmp_path / "track.ogg"
    shutil.copyfile(media["ogg"], track)
    key = dev_home.key_path(Role.PRODUCER)
    assert stat.S_IMODE(key.stat().st_mode) & 0o077 == 0  # the key itself is private
    sidecar_for(track).symlink_to(key)
    seen: list[tuple[str, int]] = []

    def look(report: VerificationReport) -> str:
        # Called while the private copy exists: what else could read it now?
        for copy in temp.rglob("*"):  # the private folder, and the copies in it
            seen.append((copy.suffix, stat.S_IMODE(copy.stat().st_mode)))
        return ""

    outcome = verify_task(track, _settings(trust), render=look)
    assert outcome.record is not None and outcome.record["verdict"] == "fail"
    assert ".c2pa" in {suffix for suffix, _ in seen}, "the sidecar was not copied"
    wide = [(suffix, oct(mode)) for suffix, mode in seen if mode & 0o077]
    assert not wide, f"temporary copies other users can read: {wide}"
    assert not list(temp.iterdir())  # and nothing is left behind


def test_a_sidecar_swapped_after_the_resume_hash_does_not_take_the_verified_pass(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """The genuine sidecar is hashed and verified, then swapped for another file's while the
    run still holds the file: the record's digest must be of what was verified, so the
    swapped sidecar is verified again on resume, and fails."""
    track = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    foreign = _sign(media["other_ogg"], tmp_path / "foreign.ogg", spec, producer_signer)
    genuine_digest = file_digest(track)

    def swap(report: VerificationReport) -> str:
        assert report.passed  # what was read was the genuine pair
        shutil.copyfile(sidecar_for(foreign), sidecar_for(track))
        return ""

    settings = _settings(trust)
    first = verify_task(track, settings, render=swap)
    assert first.record is not None and first.record["verdict"] == "pass"
    assert first.record["file"]["sha256"] == genuine_digest
    assert file_digest(track) != genuine_digest
    again = verify_task(track, settings, prior_sha256=genuine_digest)
    assert not again.unchanged
    assert again.record is not None and again.record["verdict"] == "fail"


def test_an_empty_sidecar_and_no_sidecar_hash_alike_but_neither_passes(
    media: dict[str, Path], tmp_path: Path, trust: TrustConfig
) -> None:
    """The resume digest is the audio's bytes then the sidecar's, with no separator: an empty
    track.c2pa hashes as no sidecar does. Harmless only while neither can pass."""
    track = tmp_path / "track.opus"
    shutil.copyfile(media["opus"], track)
    absent = file_digest(track)
    sidecar_for(track).write_bytes(b"")
    assert file_digest(track) == absent
    report = verify_file(track, trust=trust)
    assert not report.passed
    assert verify_task(track, _settings(trust)).exit != 0


def test_signing_over_a_sidecar_name_that_links_to_another_file_leaves_that_file_alone(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """out/track.c2pa -> victim: a new output is refused; re-signing an existing output
    replaces the link with its own sidecar and never writes through it."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    dest = out / "track.ogg"
    sidecar_for(dest).symlink_to(victim)
    with pytest.raises(ConfigurationError, match="another file's manifest"):
        _sign(media["ogg"], dest, spec, producer_signer)
    assert sorted(p.name for p in out.iterdir()) == ["track.c2pa"]
    shutil.copyfile(media["ogg"], dest)  # now the audio exists: it is an overwrite
    _sign(media["ogg"], dest, spec, producer_signer)
    assert victim.read_bytes() == b"precious"
    assert not sidecar_for(dest).is_symlink()
    assert verify_file(dest, trust=trust).passed
    assert sorted(p.name for p in out.iterdir()) == ["track.c2pa", "track.ogg"]


def test_signing_when_the_sidecar_name_is_a_folder_writes_neither_file(
    media: dict[str, Path], tmp_path: Path, spec: ManifestSpec, producer_signer: KeySigner
) -> None:
    dest = tmp_path / "track.aiff"
    shutil.copyfile(media["aiff"], dest)
    sidecar_for(dest).mkdir()
    (sidecar_for(dest) / "keep").write_bytes(b"x")
    with pytest.raises(OutputError, match="folder"):
        _sign(media["aiff"], dest, spec, producer_signer)
    assert dest.read_bytes() == media["aiff"].read_bytes()
    assert (sidecar_for(dest) / "keep").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.aiff", "track.c2pa"]


# --- names two files share ----------------------------------------------------------------


def test_re_signing_one_of_two_outputs_sharing_a_stem_strips_the_other(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    ogg = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    assert verify_file(ogg, trust=trust).passed
    shutil.copyfile(media["opus"], tmp_path / "track.opus")  # an unsigned export, same stem
    kept = sidecar_for(ogg).read_bytes()
    with pytest.raises(ConfigurationError, match="would share its sidecar"):
        _sign(media["opus"], tmp_path / "track.opus", spec, producer_signer)
    assert sidecar_for(ogg).read_bytes() == kept
    assert verify_file(ogg, trust=trust).passed


def test_in_place_signing_over_another_files_sidecar_is_refused(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """track.c2pa belongs to track.ogg; signing track.opus in place must not take it over."""
    ogg = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    opus = tmp_path / "track.opus"
    shutil.copyfile(media["opus"], opus)
    kept = sidecar_for(ogg).read_bytes()
    with pytest.raises(ConfigurationError, match="would share its sidecar"):
        _sign(opus, opus, spec, producer_signer, in_place=True)
    assert sidecar_for(ogg).read_bytes() == kept
    assert opus.read_bytes() == media["opus"].read_bytes()
    assert verify_file(ogg, trust=trust).passed


# --- files that are not what their name says ----------------------------------------------


def test_a_wav_renamed_ogg_is_not_vouched_for_by_a_sidecar_beside_it(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """An unsigned WAV named track.ogg beside a genuine sidecar (of a real OGG): the WAV
    embeds its manifest, so the sidecar is not read, and nothing vouches for it."""
    genuine = _sign(media["ogg"], tmp_path / "genuine.ogg", spec, producer_signer)
    fake = tmp_path / "track.ogg"
    shutil.copyfile(media["wav"], fake)
    shutil.copyfile(sidecar_for(genuine), sidecar_for(fake))
    report = verify_file(fake, trust=trust)
    assert report.format == "wav"
    assert report.integrity.state is C2paState.ABSENT
    assert not report.passed
    outcome = verify_task(fake, _settings(trust))
    assert outcome.record is not None and outcome.record["verdict"] == "fail"


def test_an_ogg_renamed_wav_is_read_with_its_sidecar_and_cannot_be_signed_as_wav(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    signed = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    renamed = signed.rename(tmp_path / "track.wav")
    report = verify_file(renamed, trust=trust)
    assert report.format == "ogg" and report.passed  # the same bytes, the same sidecar
    data = bytearray(renamed.read_bytes())
    data[-1] ^= 0x01  # breaks the last page's CRC: the file is corrupt, not passing
    renamed.write_bytes(bytes(data))
    with pytest.raises(InputError):
        verify_file(renamed, trust=trust)
    with pytest.raises(ConfigurationError, match="does not convert"):
        _sign(media["ogg"], tmp_path / "new.wav", spec, producer_signer)


def test_a_file_named_c2pa_given_to_verify_is_no_pass_and_no_crash(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """A genuine store named directly, and an OGG named x.c2pa (which is then its own
    sidecar): never a pass, never a traceback, and a catalogue run's private copy (whose
    sidecar would have the copy's own name) leaves nothing behind."""
    signed = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    store = sidecar_for(signed)
    with pytest.raises(InputError):
        verify_file(store, trust=trust)
    ogg_named_c2pa = tmp_path / "audio" / "x.c2pa"
    ogg_named_c2pa.parent.mkdir()
    shutil.copyfile(media["ogg"], ogg_named_c2pa)
    assert sidecar_for(ogg_named_c2pa) == ogg_named_c2pa
    report = verify_file(ogg_named_c2pa, trust=trust)
    assert not report.passed
    temp = tmp_path / "tmp"
    temp.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(temp))
        for path in (store, ogg_named_c2pa):
            outcome = verify_task(path, _settings(trust))
            assert outcome.exit != 0
            assert outcome.record is not None and outcome.record["verdict"] == "fail"
    assert not list(temp.iterdir())
    assert ogg_named_c2pa.read_bytes() == media["ogg"].read_bytes()


def test_a_catalogue_folder_of_sidecars_only_holds_no_audio(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    dev_home: ProvsdkHome,
) -> None:
    signed = _sign(media["aiff"], tmp_path / "track.aiff", spec, producer_signer)
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    shutil.copyfile(sidecar_for(signed), catalogue / "track.c2pa")
    assert list(expand_paths([catalogue])) == []
    result = run_cli("verify", catalogue, home=dev_home.root)
    assert result.returncode == 2
    assert "no audio files found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_tampered_aifc_in_a_catalogue_folder_is_not_skipped(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    dev_home: ProvsdkHome,
) -> None:
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    _sign(media["ogg"], catalogue / "good.ogg", spec, producer_signer)
    aifc = _sign(media["aiff"], catalogue / "bad.aifc", spec, producer_signer)
    data = bytearray(aifc.read_bytes())
    data[-10] ^= 0x01  # a sample byte: a well-formed AIFF its sidecar no longer describes
    aifc.write_bytes(bytes(data))
    assert not verify_file(aifc, trust=TrustConfig.load(dev_home)).passed  # named, it fails
    result = run_cli("verify", catalogue, "--json", home=dev_home.root)
    assert result.returncode == 1, result.stdout  # today: 0, the one file seen passes
    assert aifc in list(expand_paths([catalogue]))


# --- streams and bytes a player may play that the signer did not expect ------------------


@pytest.mark.parametrize("layout", ["chained", "muxed"])
def test_chained_or_multiplexed_ogg_is_refused_signed_or_appended(
    layout: str,
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """A player may play a second link or stream the signer never looked at: provsdk signs
    none, and a second link appended to a signed OGG beside its genuine sidecar is no pass."""
    with pytest.raises(UnsupportedFormatError, match=layout.replace("muxed", "multiplexed")):
        _sign(media[layout], tmp_path / "x.ogg", spec, producer_signer)
    assert not (tmp_path / "x.c2pa").exists()
    if layout == "chained":
        signed = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
        signed.write_bytes(signed.read_bytes() + media["other_ogg"].read_bytes())
        with pytest.raises(UnsupportedFormatError, match="chained"):
            verify_file(signed, trust=trust)
        assert verify_task(signed, _settings(trust)).exit == 2


def test_trailing_bytes_after_a_signed_ogg_or_aiff_are_no_pass(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    trust: TrustConfig,
) -> None:
    """Zero padding after an AIFF's FORM chunk is a well-formed file, so only the hash can
    tell; bytes after an OGG's last page are a corrupt file. Neither keeps the pass."""
    aiff = _sign(media["aiff"], tmp_path / "track.aiff", spec, producer_signer)
    aiff.write_bytes(aiff.read_bytes() + b"\0" * 64)
    probe(aiff)  # still a valid AIFF
    report = verify_file(aiff, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert not report.passed
    ogg = _sign(media["ogg"], tmp_path / "song.ogg", spec, producer_signer)
    ogg.write_bytes(ogg.read_bytes() + b"ID3\x04" + b"\0" * 60)
    with pytest.raises(InputError, match="not a page"):
        verify_file(ogg, trust=trust)


# --- a history that claims more than its signer can vouch for ------------------------------


def test_an_outsider_re_signing_a_trusted_sidecar_gets_no_trusted_fact(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    outsider: KeySigner,
    trust: TrustConfig,
) -> None:
    """The outsider signs over a genuine, trusted OGG in place, with the trusted store as its
    parent ingredient and that parent's validation recorded against the real anchors (what a
    forger would write): the history is the trusted producer's, the active manifest is not,
    so neither the producer nor the AI origin is credited."""
    track = _sign(media["ogg"], tmp_path / "track.ogg", spec, producer_signer)
    assert verify_file(track, trust=trust).origin.trusted
    sign_file(
        track, track, spec, outsider, in_place=True, anchors=trust.producer, soft_binding=False
    )
    report = verify_file(track, trust=trust)
    assert report.integrity.state is not C2paState.TRUSTED
    assert not report.producer.trusted
    assert report.origin.ai_generated  # it is said...
    assert not report.origin.trusted  # ...and not credited
    assert not report.passed
    # A trusted signer building on the outsider's manifest does not launder it either.
    sign_file(
        track,
        track,
        spec,
        producer_signer,
        in_place=True,
        anchors=trust.producer,
        soft_binding=False,
    )
    relaundered = verify_file(track, trust=trust)
    assert relaundered.producer.trusted
    assert not relaundered.origin.trusted


def test_grant_attach_refuses_a_tampered_sidecar_instead_of_laundering_it(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    harbor_grant: Callable[[str], str],
    trust: TrustConfig,
) -> None:
    track = _sign(media["opus"], tmp_path / "track.opus", spec, producer_signer)
    beside = sidecar_for(track)
    store = bytearray(beside.read_bytes())
    store[store.find(b"provsdk")] ^= 0x20
    beside.write_bytes(bytes(store))
    tampered = bytes(store)
    token = harbor_grant("tests 1")
    with pytest.raises(InputError, match=r"fails validation|cannot read"):
        attach_grant([track], token, signer=producer_signer, trust=trust, in_place=True)
    out = tmp_path / "granted.opus"
    with pytest.raises(InputError, match=r"fails validation|cannot read"):
        attach_grant([track], token, signer=producer_signer, trust=trust, out=out)
    assert beside.read_bytes() == tampered
    assert track.read_bytes() == media["opus"].read_bytes()
    assert not out.exists() and not sidecar_for(out).exists()
    # A genuine sidecar beside audio changed after signing is refused the same way.
    other = _sign(media["opus"], tmp_path / "other.opus", spec, producer_signer)
    data = bytearray(other.read_bytes())
    data[-1] ^= 0x01  # the last page no longer matches its CRC: corrupt, and unbound
    other.write_bytes(bytes(data))
    with pytest.raises(InputError):
        attach_grant([other], token, signer=producer_signer, trust=trust, in_place=True)
    assert other.read_bytes() == bytes(data)


# --- a catalogue run with workers and a results file ---------------------------------------


def test_a_resumed_run_with_workers_credits_no_pass_to_a_swapped_sidecar(
    media: dict[str, Path],
    tmp_path: Path,
    spec: ManifestSpec,
    producer_signer: KeySigner,
    dev_home: ProvsdkHome,
) -> None:
    """Two workers, a results file: the first run passes both tracks; then one track's
    sidecar is replaced by another genuine, trusted one (same size, other bytes) and the
    other track is left alone. The resumed run keeps the untouched track's record and
    verifies the swapped one again, which fails."""
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    a = _sign(media["ogg"], catalogue / "a.ogg", spec, producer_signer)
    b = _sign(media["aiff"], catalogue / "b.aiff", spec, producer_signer)
    spare = _sign(media["other_ogg"], tmp_path / "spare.ogg", spec, producer_signer)
    results = tmp_path / "results.jsonl"
    args = ("verify", catalogue, "--results", results, "--workers", "2", "--json")
    first = run_cli(*args, home=dev_home.root)
    assert first.returncode == 0, first.stdout + first.stderr
    shutil.copyfile(sidecar_for(spare), sidecar_for(a))
    again = run_cli(*args, home=dev_home.root)
    assert again.returncode == 1, again.stdout + again.stderr
    verdicts = {f["path"]: f["verdict"] for f in json.loads(again.stdout)["files"]}
    assert verdicts == {str(a): "fail", str(b): "pass"}
    assert probe(b).format is AudioFormat.AIFF
