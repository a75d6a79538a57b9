"""verify_file on real files (foreign, unsigned, tampered), the policies, the report, paths."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import struct
from pathlib import Path

import pytest

from provsdk.credentials import TrustConfig
from provsdk.errors import CorruptAudioError, InputError, UnsupportedFormatError
from provsdk.home import ProvsdkHome
from provsdk.models import (
    C2paState,
    DigitalSourceType,
    Verdict,
    VerificationReport,
)
from provsdk.sign import TEMP_SUFFIX, sign_file
from provsdk.verify import (
    AUDIO_SUFFIXES,
    DEFAULT_POLICY,
    AllOf,
    AnyOf,
    RequireAiGenerated,
    RequireC2paState,
    expand_paths,
    verify_file,
)
from provsdk.verify.layers import findings
from provsdk.verify.policy import evaluate

FORMATS = ("wav", "mp3", "flac", "m4a")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _codes(report: VerificationReport) -> list[str]:
    return [r.code for r in report.reasons]


def _flipped(source: Path, dest: Path, offset: int, mask: int = 0xFF) -> Path:
    data = bytearray(source.read_bytes())
    data[offset] ^= mask
    dest.write_bytes(bytes(data))
    return dest


# --- the foreign vector signed by the C2PA test certificate ----------------------------------


def test_foreign_signed_vector_is_valid_but_untrusted_by_default(
    vectors: Path, home: ProvsdkHome
) -> None:
    report = verify_file(vectors / "sample1_signed.wav")
    assert report.integrity.state is C2paState.VALID
    assert report.verdict is Verdict.FAIL
    assert not report.passed
    assert any(str(r).startswith("signingCredential.untrusted") for r in report.reasons)
    assert report.producer.present and not report.producer.trusted
    assert report.producer.organization == "C2PA Test Signing Cert"
    assert not report.producer.development_credential
    assert report.duration == pytest.approx(33.53, abs=0.01)


def test_foreign_signed_vector_is_trusted_with_the_c2pa_test_anchors(
    vectors: Path, home: ProvsdkHome
) -> None:
    report = verify_file(
        vectors / "sample1_signed.wav", trust_anchors=[vectors / "c2pa-test-trust-anchors.pem"]
    )
    assert report.integrity.state is C2paState.TRUSTED
    assert report.verdict is Verdict.PASS
    assert report.reasons == ()
    assert report.producer.trusted


@pytest.mark.parametrize("ext", FORMATS)
def test_unsigned_vectors_are_absent(vectors: Path, home: ProvsdkHome, ext: str) -> None:
    report = verify_file(vectors / f"sample1.{ext}")
    assert report.integrity.state is C2paState.ABSENT
    assert report.verdict is Verdict.FAIL
    assert _codes(report) == ["c2pa.absent"]
    assert not report.producer.present
    assert not report.origin.present
    assert report.notes == ()


@pytest.mark.parametrize(
    "name", ["sample3.invalid.wav", "riff_bomb_1000.wav", "id3v23_compression_underflow.mp3"]
)
def test_hostile_vectors_are_input_errors(vectors: Path, home: ProvsdkHome, name: str) -> None:
    with pytest.raises(InputError) as info:
        verify_file(vectors / name)
    assert name in str(info.value)
    assert "\n" not in str(info.value)


# --- tampering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "code"),
    [
        ("wav", "assertion.dataHash.mismatch"),
        ("mp3", "assertion.dataHash.mismatch"),
        ("flac", "assertion.dataHash.mismatch"),
        ("m4a", "assertion.bmffHash.mismatch"),
    ],
)
def test_one_audio_byte_flipped_is_invalid(
    signed_files: dict[str, Path], tmp_path: Path, trust, ext: str, code: str
) -> None:
    source = signed_files[ext]
    data = source.read_bytes()
    if ext == "wav":
        offset = 1000  # a sample just after the header
    elif ext == "mp3":
        # Inside the payload of an MPEG frame (frames here are ~418 bytes), not on a header.
        offset = data.index(b"\xff\xfb", int(len(data) * 0.7)) + 200
    else:
        offset = int(len(data) * 0.7)  # FLAC frames / the MP4 'mdat' payload
    tampered = _flipped(source, tmp_path / f"tampered.{ext}", offset)
    report = verify_file(tampered, trust=trust)
    assert report.integrity.state is C2paState.INVALID
    assert report.verdict is Verdict.FAIL
    assert any(str(r).startswith(code) for r in report.reasons), _codes(report)
    assert report.to_dict()["c2pa"]["failures"][0]["code"] == code


def _manifest_span(data: bytes) -> tuple[int, int]:
    """(start, end) of the C2PA JUMBF superbox: the first 'jumb' box whose label is 'c2pa'."""
    start = 0
    while True:
        at = data.find(b"jumb", start)
        assert at >= 4, "no JUMBF box in the signed file"
        size = struct.unpack(">I", data[at - 4 : at])[0]
        if b"c2pa" in data[at : at + 64] and size > 100:
            return at - 4, at - 4 + size
        start = at + 4


# Where to flip a byte inside the manifest, the mask, and the failure code c2pa must report
# ("manifest.unreadable" is provsdk's code for a manifest c2pa cannot parse at all).
# The text flips use mask 0x01 so the CBOR stays well-formed and the *hash* must catch it.
def _signed_regions(data: bytes) -> dict[str, tuple[int, int, str]]:
    begin, end = _manifest_span(data)
    actions = data.find(b"c2pa.actions", begin, end)
    claim = data.find(b"c2pa.claim", begin, end)
    agent_name = data.find(b"tests", actions, end)  # softwareAgent.name in c2pa.actions.v2
    generator = data.find(b"provsdk", claim, end)  # claim_generator_info.name in the claim
    assert min(actions, claim, agent_name, generator) > begin
    return {
        "jumbf-header": (begin + 10, 0xFF, "manifest.unreadable"),
        "assertion-text": (agent_name, 0x01, "assertion.hashedURI.mismatch"),
        "claim-text": (generator, 0x01, "claimSignature.mismatch"),
        "claim-cbor": (claim + 40, 0xFF, ""),
        "signature-value": (end - 10, 0xFF, "claimSignature.mismatch"),
    }


@pytest.mark.parametrize(
    "region", ["jumbf-header", "assertion-text", "claim-text", "claim-cbor", "signature-value"]
)
@pytest.mark.parametrize("ext", FORMATS)
def test_manifest_byte_flipped_never_passes(
    signed_files: dict[str, Path], tmp_path: Path, trust, ext: str, region: str
) -> None:
    source = signed_files[ext]
    offset, mask, code = _signed_regions(source.read_bytes())[region]
    tampered = _flipped(source, tmp_path / f"tampered.{ext}", offset, mask)
    try:
        report = verify_file(tampered, trust=trust)
    except InputError as exc:  # a clear error would be an acceptable outcome too
        assert "\n" not in str(exc)
        assert not code, f"expected {code}, got {exc}"
        return
    assert report.integrity.state is C2paState.INVALID, report.to_dict()
    assert not report.passed
    assert report.reasons
    if code:
        assert _codes(report)[0] == code
    for reason in report.to_dict()["reasons"]:
        found, sep, _ = reason.partition(": ")
        assert sep and found and " " not in found


@pytest.mark.parametrize("ext", FORMATS)
def test_manifest_middle_byte_flipped(
    signed_files: dict[str, Path], tmp_path: Path, trust, ext: str
) -> None:
    """Recorded behaviour: the middle of a provsdk manifest is the COSE signature's zero padding.

    That padding sits in the COSE *unprotected* header, which the signature does not cover, so
    c2pa (by design) still reports the file intact. Anywhere else a flip must never pass.
    """
    data = signed_files[ext].read_bytes()
    begin, end = _manifest_span(data)
    middle = (begin + end) // 2
    tampered = _flipped(signed_files[ext], tmp_path / f"tampered.{ext}", middle)
    try:
        report = verify_file(tampered, trust=trust)
    except InputError:
        return
    if report.passed:
        signature_at = data.find(b"c2pa.signature", begin, end)
        assert 0 < signature_at < middle, "a pass outside the signature box"
        window = data[middle - 64 : middle + 64]
        assert window == bytes(len(window)), "a pass for a byte that is not zero padding"
    else:
        assert report.integrity.state is C2paState.INVALID


def test_verify_never_modifies_the_file(
    signed_files: dict[str, Path], vectors: Path, trust
) -> None:
    paths = [*signed_files.values(), vectors / "sample1_signed.wav", vectors / "sample1.wav"]
    folders = {p.parent for p in paths}
    before = {p: (_sha256(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths}
    listings = {f: sorted(x.name for x in f.iterdir()) for f in folders}
    for path in paths:
        verify_file(path, trust=trust)
    assert {p: (_sha256(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths} == before
    # Nothing was written beside the files either.
    assert {f: sorted(x.name for x in f.iterdir()) for f in folders} == listings


# --- policies ---------------------------------------------------------------------------


def test_empty_policies_fail_closed(signed_files: dict[str, Path], trust) -> None:
    for policy in (AllOf([]), AnyOf([]), AllOf(()), AnyOf((), name="nothing")):
        report = verify_file(signed_files["wav"], trust=trust, policy=policy)
        assert report.integrity.state is C2paState.TRUSTED
        assert report.verdict is Verdict.FAIL
        assert _codes(report) == ["policy.empty"]
        assert report.policy.name == policy.name


def test_any_of_passes_when_one_rule_passes(
    vectors: Path, signed_files: dict[str, Path], trust
) -> None:
    untrusted = vectors / "sample1_signed.wav"
    either = AnyOf([RequireC2paState(C2paState.TRUSTED), RequireC2paState(C2paState.VALID)])
    assert verify_file(untrusted, trust=trust, policy=either).passed
    neither = AnyOf([RequireC2paState(C2paState.TRUSTED), RequireAiGenerated()])
    report = verify_file(untrusted, trust=trust, policy=neither)
    assert not report.passed
    assert set(_codes(report)) == {"signingCredential.untrusted", "origin.not-declared"}
    both = AllOf([RequireC2paState(C2paState.TRUSTED), RequireAiGenerated()])
    assert verify_file(signed_files["flac"], trust=trust, policy=both).passed
    assert not verify_file(untrusted, trust=trust, policy=both).passed


def test_require_valid_accepts_an_intact_untrusted_file(
    vectors: Path, signed_files: dict[str, Path], trust, tmp_path: Path
) -> None:
    valid = RequireC2paState(C2paState.VALID)
    assert verify_file(vectors / "sample1_signed.wav", trust=trust, policy=valid).passed
    assert verify_file(signed_files["mp3"], trust=trust, policy=valid).passed
    absent = verify_file(vectors / "sample1.mp3", trust=trust, policy=valid)
    assert _codes(absent) == ["c2pa.absent"]
    tampered = _flipped(signed_files["wav"], tmp_path / "t.wav", 1000)
    assert not verify_file(tampered, trust=trust, policy=valid).passed


def test_require_ai_generated(
    vectors: Path,
    signed_files: dict[str, Path],
    trust,
    tmp_path: Path,
    producer_signer,
    spec,
) -> None:
    ai = RequireAiGenerated()
    assert verify_file(signed_files["wav"], trust=trust, policy=ai).passed
    foreign = verify_file(vectors / "sample1_signed.wav", trust=trust, policy=ai)
    assert _codes(foreign) == ["origin.not-declared"]
    assert not verify_file(vectors / "sample1.wav", trust=trust, policy=ai).passed
    from dataclasses import replace

    recorded = tmp_path / "recorded.wav"
    sign_file(
        vectors / "sample1.wav",
        recorded,
        replace(spec, source_type=DigitalSourceType.DIGITAL_CAPTURE),
        producer_signer,
    )
    report = verify_file(recorded, trust=trust, policy=ai)
    assert report.integrity.state is C2paState.TRUSTED
    assert report.origin.ai_generated is False
    assert _codes(report) == ["origin.not-declared"]


def test_policies_are_pure_functions_of_findings() -> None:
    nothing = findings(None, trust=TrustConfig(), at=dt.datetime.now(dt.UTC))
    assert nothing.integrity.state is C2paState.ABSENT
    assert not evaluate(DEFAULT_POLICY, nothing).passed
    assert [r.code for r in evaluate(DEFAULT_POLICY, nothing).reasons] == ["c2pa.absent"]
    assert [r.code for r in RequireAiGenerated().failures(nothing)] == ["origin.not-declared"]


# --- the report -------------------------------------------------------------------------


def test_report_to_dict_shape(vectors: Path, signed_files: dict[str, Path], trust) -> None:
    import json

    for path in (signed_files["m4a"], vectors / "sample1_signed.wav", vectors / "sample1.flac"):
        report = verify_file(path, trust=trust)
        data = report.to_dict()
        json.dumps(data)  # plain JSON all the way down
        assert data["path"] == str(path)
        assert data["verdict"] in ("pass", "fail")
        assert data["verdict"] == report.verdict.value
        assert data["c2pa"]["state"] in ("Trusted", "Valid", "Invalid", "Absent")
        assert data["c2pa"]["state"] == report.integrity.state.value
        assert isinstance(data["reasons"], list)
        assert (data["verdict"] == "pass") == (data["reasons"] == [])
        for reason in data["reasons"] + data["notes"]:
            assert isinstance(reason, str)
            code, sep, message = reason.partition(": ")
            assert sep == ": " and code and message
            assert " " not in code
        for key in ("producer", "origin", "disclosure", "grants", "policy", "format", "duration"):
            assert key in data


def test_dev_key_note(signed_files: dict[str, Path], vectors: Path, trust) -> None:
    dev = verify_file(signed_files["wav"], trust=trust)
    assert [n.code for n in dev.notes] == ["producer.development-key"]
    assert dev.producer.development_credential
    assert any(n.startswith("producer.development-key: ") for n in dev.to_dict()["notes"])
    foreign = verify_file(vectors / "sample1_signed.wav", trust=trust)
    assert foreign.notes == ()
    assert not foreign.producer.development_credential


# --- paths ------------------------------------------------------------------------------


def test_expand_paths(tmp_path: Path) -> None:
    names = [
        "a.wav",
        "B.MP3",
        "sub/c.flac",
        "sub/deeper/d.m4a",
        "sub/e.ogg",
        "f.aiff",
        "notes.txt",
        "cover.jpg",
        ".hidden.wav",
        ".cache/x.wav",
        "sub/.git/y.mp3",
        f".a.wav.12345{TEMP_SUFFIX}",
        f"visible.wav{TEMP_SUFFIX}",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "folder.wav").mkdir()  # a folder named like audio is not a file
    found = [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])]
    assert found == sorted(found)
    assert set(found) == {"a.wav", "B.MP3", "sub/c.flac", "sub/deeper/d.m4a", "sub/e.ogg", "f.aiff"}
    # Named files are kept whatever they are; the order of the arguments is kept.
    named = [tmp_path / "notes.txt", tmp_path / ".hidden.wav"]
    assert list(expand_paths(named)) == named
    assert list(expand_paths([str(tmp_path / "sub"), tmp_path / "a.wav"])) == [
        tmp_path / "sub" / "c.flac",
        tmp_path / "sub" / "deeper" / "d.m4a",
        tmp_path / "sub" / "e.ogg",
        tmp_path / "a.wav",
    ]
    assert {".ogg", ".opus", ".aiff"} <= AUDIO_SUFFIXES


def test_a_fake_ogg_found_in_a_folder_is_reported_corrupt(tmp_path: Path, trust) -> None:
    (tmp_path / "tune.ogg").write_bytes(b"OggS\x00\x02" + b"\x00" * 200)
    [path] = list(expand_paths([tmp_path]))
    with pytest.raises(CorruptAudioError, match="Ogg"):
        verify_file(path, trust=trust)


def test_a_format_provsdk_does_not_sign_is_named_unsupported(tmp_path: Path, trust) -> None:
    (tmp_path / "clip.avi").write_bytes(b"RIFF\x00\x01\x00\x00AVI " + b"\x00" * 200)
    with pytest.raises(UnsupportedFormatError, match="RIFF"):
        verify_file(tmp_path / "clip.avi", trust=trust)


# --- offline ----------------------------------------------------------------------------


def test_verification_opens_no_network_connection(
    monkeypatch: pytest.MonkeyPatch, signed_files: dict[str, Path], vectors: Path, trust
) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access during verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for path in signed_files.values():
        assert verify_file(path, trust=trust).passed
    report = verify_file(vectors / "sample1_signed.wav", trust=trust)
    assert report.integrity.state is C2paState.VALID
    assert attempts == []
