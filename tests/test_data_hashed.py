"""The streaming data-hashed strategy: files c2pa accepts as its own, tampering it catches,
layouts it must reproduce, and the fall-backs to c2pa's own path, each said out loud.

The rest of the suite runs with whichever strategy is the default (``PROVSDK_SIGNING_STRATEGY``);
these tests pin both strategies explicitly and compare them on the same input.
"""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provsdk.audio.containers import probe
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.signers import KeySigner
from provsdk.credentials.trust import TrustConfig
from provsdk.errors import ConfigurationError
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState, Verdict
from provsdk.progress import SIGN
from provsdk.sign import C2paBuilderStrategy, DataHashedStrategy, SignResult, native, sign_file
from provsdk.sign.strategy import STRATEGY_ENV
from provsdk.verify import verify_file

STREAMED = ("wav", "mp3", "flac")


@dataclass(frozen=True)
class Lab:
    """The vectors, a scratch folder, the dev producer key and its anchors."""

    vectors: Path
    tmp: Path
    signer: KeySigner
    spec: ManifestSpec
    trust: TrustConfig

    def sign(self, source: Path | str, name: str, strategy: Any) -> SignResult:
        src = self.vectors / source if isinstance(source, str) else source
        return sign_file(
            src,
            self.tmp / name,
            self.spec,
            self.signer,
            strategy=strategy,
            anchors=self.trust.producer,
        )


@pytest.fixture
def lab(
    vectors: Path,
    tmp_path: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    trust: TrustConfig,
) -> Lab:
    return Lab(vectors, tmp_path, producer_signer, spec, trust)


def _raw(path: Path, trust: TrustConfig) -> dict[str, Any]:
    """c2pa-python's own report of ``path`` against the producer anchors."""
    import c2pa

    fmt = probe(path).format
    with path.open("rb") as fh:
        reader = c2pa.Reader(fmt.mime_type, fh, context=c2pa_context(trust.producer))
        return dict(json.loads(reader.json()))


def _summary(report: dict[str, Any]) -> tuple[Any, ...]:
    """What must not depend on the strategy: state, assertions, format, ingredients."""
    active = report["manifests"][report["active_manifest"]]
    ingredients = [
        (i.get("relationship"), sorted(s["code"] for s in i.get("validation_status") or []))
        for i in active.get("ingredients", [])
    ]
    labels = sorted(a["label"] for a in active["assertions"])
    return report.get("validation_state"), labels, active.get("format"), ingredients


def _riff_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    out, offset = [], 12
    while offset + 8 <= len(data):
        chunk_id, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        out.append((chunk_id, offset, size))
        offset += 8 + size + (size & 1)
    return out


@pytest.mark.parametrize("ext", STREAMED)
def test_raw_c2pa_reads_a_data_hashed_file_as_it_reads_its_own(
    lab: Lab,
    ext: str,
) -> None:
    source = lab.vectors / f"sample1.{ext}"
    ours = lab.sign(source, f"dh.{ext}", DataHashedStrategy())
    theirs = lab.sign(source, f"cb.{ext}", C2paBuilderStrategy())
    assert (ours.strategy, ours.strategy_note) == ("data-hashed", None)
    assert theirs.strategy == "c2pa-builder"
    ours_report, theirs_report = _raw(ours.path, lab.trust), _raw(theirs.path, lab.trust)
    assert ours_report["validation_state"] == "Trusted"
    assert _summary(ours_report) == _summary(theirs_report)
    assert b"c2pa.hash.data" in ours.path.read_bytes()  # the hash binding c2pa's own uses


@pytest.mark.parametrize("ext", STREAMED)
@pytest.mark.parametrize("first", ["data-hashed", "c2pa-builder"])
@pytest.mark.parametrize("second", ["data-hashed", "c2pa-builder"])
def test_resigning_carries_the_parent_whichever_strategy_signed_it(
    lab: Lab,
    ext: str,
    first: str,
    second: str,
) -> None:
    by_name = {"data-hashed": DataHashedStrategy, "c2pa-builder": C2paBuilderStrategy}
    once = lab.sign(lab.vectors / f"sample1.{ext}", f"1.{ext}", by_name[first]())
    twice = lab.sign(once.path, f"2.{ext}", by_name[second]())
    assert twice.parent and twice.strategy == second
    state, _, _, ingredients = _summary(_raw(twice.path, lab.trust))
    assert state == "Trusted"
    assert [relationship for relationship, _ in ingredients] == ["parentOf"]
    assert verify_file(twice.path, trust=lab.trust).verdict is Verdict.PASS
    if ext == "wav":  # the old store is replaced, never kept beside the new one
        assert [c for c, _, _ in _riff_chunks(twice.path.read_bytes())].count(b"C2PA") == 1


@pytest.mark.parametrize("ext", STREAMED)
def test_one_flipped_audio_byte_breaks_the_data_hash(
    lab: Lab,
    ext: str,
) -> None:
    signed = lab.sign(lab.vectors / f"sample1.{ext}", f"s.{ext}", DataHashedStrategy())
    essence = probe(signed.path).essence
    assert essence is not None
    start, length = essence[0]
    data = bytearray(signed.path.read_bytes())
    data[start + length // 2] ^= 0x01
    tampered = lab.tmp / f"t.{ext}"
    tampered.write_bytes(data)
    report = _raw(tampered, lab.trust)
    assert report["validation_state"] == "Invalid"
    codes = {s["code"] for s in report["validation_status"]}
    assert "assertion.dataHash.mismatch" in codes
    assert verify_file(tampered, trust=lab.trust).verdict is Verdict.FAIL


def test_store_transplanted_from_another_signed_wav_is_invalid(
    lab: Lab,
) -> None:
    """A manifest signed for one file, moved into another of the same layout: the hash it
    signed is of the first file's bytes."""
    source = lab.vectors / "sample1.wav"
    other_source = lab.tmp / "other.wav"
    data = bytearray(source.read_bytes())
    data[-2] ^= 0x01  # another recording, same length and layout
    other_source.write_bytes(data)
    a = lab.sign(source, "a.wav", DataHashedStrategy())
    b = lab.sign(other_source, "b.wav", DataHashedStrategy())
    a_bytes, b_bytes = a.path.read_bytes(), b.path.read_bytes()
    ((_, at, _),) = [c for c in _riff_chunks(a_bytes) if c[0] == b"C2PA"]
    ((_, bt, _),) = [c for c in _riff_chunks(b_bytes) if c[0] == b"C2PA"]
    assert at == bt
    swapped = lab.tmp / "swapped.wav"
    swapped.write_bytes(b_bytes[:bt] + a_bytes[at:])
    assert _raw(swapped, lab.trust)["validation_state"] == "Invalid"
    assert verify_file(swapped, trust=lab.trust).verdict is Verdict.FAIL


def test_chunk_inserted_before_the_store_breaks_the_hash(
    lab: Lab,
) -> None:
    """The signed exclusion names an offset; an inserted chunk moves the store off it."""
    signed = lab.sign(lab.vectors / "sample1.wav", "s.wav", DataHashedStrategy())
    data = signed.path.read_bytes()
    ((_, at, _),) = [c for c in _riff_chunks(data) if c[0] == b"C2PA"]
    junk = b"junk" + struct.pack("<I", 4) + b"\0\0\0\0"
    body = data[8:at] + junk + data[at:]
    tampered = lab.tmp / "t.wav"
    tampered.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert _raw(tampered, lab.trust)["validation_state"] == "Invalid"


def _wav_with_odd_last_chunk(vectors: Path, dest: Path) -> Path:
    """sample1.wav plus a 3-byte chunk at the end, without the pad byte RIFF asks for."""
    data = (vectors / "sample1.wav").read_bytes()
    riff_end = struct.unpack("<I", data[4:8])[0] + 8
    body = data[8:riff_end] + b"note" + struct.pack("<I", 3) + b"abc"
    dest.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return dest


def test_odd_last_chunk_without_its_pad_byte_still_puts_the_store_on_an_even_offset(
    lab: Lab,
) -> None:
    source = _wav_with_odd_last_chunk(lab.vectors, lab.tmp / "odd.wav")
    probe(source)  # the source itself is a readable WAV
    signed = lab.sign(source, "s.wav", DataHashedStrategy())
    chunks = _riff_chunks(signed.path.read_bytes())
    assert [c for c, _, _ in chunks][-2:] == [b"note", b"C2PA"]
    assert chunks[-1][1] % 2 == 0
    assert _raw(signed.path, lab.trust)["validation_state"] == "Trusted"


def _id3v23(frames: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(fid + struct.pack(">I", len(data)) + b"\0\0" + data for fid, data in frames)
    size = len(body)
    return b"ID3\x03\x00\x00" + bytes((size >> s) & 0x7F for s in (21, 14, 7, 0)) + body


def _without_id3(data: bytes) -> bytes:
    if data[:3] != b"ID3":
        return data
    size = 0
    for b in data[6:10]:
        size = (size << 7) | b
    return data[10 + size :]


def test_id3v23_frames_of_the_source_survive_data_hashed_signing(
    lab: Lab,
) -> None:
    """A tagged MP3 keeps its title and artist: the tag is rewritten as ID3v2.4 with the
    store added, as c2pa's own writer does, not dropped."""
    title = b"\x00A title\x00"
    artist = b"\x01\xff\xfeA\x00r\x00t\x00"  # UTF-16 with BOM: valid in v2.3 and v2.4
    source = lab.tmp / "tagged.mp3"
    mp3 = _without_id3((lab.vectors / "sample1.mp3").read_bytes())
    source.write_bytes(_id3v23([(b"TIT2", title), (b"TPE1", artist)]) + mp3)
    signed = lab.sign(source, "s.mp3", DataHashedStrategy())
    assert signed.strategy == "data-hashed"
    data = signed.path.read_bytes()
    assert data[:4] == b"ID3\x04"
    tag = data[: len(data) - len(mp3)]
    assert data.endswith(mp3)  # the audio after the tag is untouched
    assert b"TIT2" + bytes([0, 0, 0, len(title), 0, 0]) + title in tag
    assert b"TPE1" + bytes([0, 0, 0, len(artist), 0, 0]) + artist in tag
    assert _raw(signed.path, lab.trust)["validation_state"] == "Trusted"


def test_unsynchronised_id3_tag_goes_to_c2pas_own_path_and_says_why(
    lab: Lab,
) -> None:
    tag = bytearray(_id3v23([(b"TIT2", b"\x00x\x00")]))
    tag[5] = 0x80  # tag-wide unsynchronisation: frame bytes are not what they seem
    source = lab.tmp / "unsync.mp3"
    source.write_bytes(bytes(tag) + _without_id3((lab.vectors / "sample1.mp3").read_bytes()))
    signed = lab.sign(source, "s.mp3", DataHashedStrategy())
    assert signed.strategy == "c2pa-builder"
    assert signed.strategy_note is not None and "unsynchronisation" in signed.strategy_note
    assert _raw(signed.path, lab.trust)["validation_state"] == "Trusted"


def test_m4a_is_signed_by_c2pas_own_path_with_the_reason(
    lab: Lab,
) -> None:
    signed = lab.sign(lab.vectors / "sample1.m4a", "s.m4a", DataHashedStrategy())
    assert signed.strategy == "c2pa-builder"
    assert signed.strategy_note is not None and "BMFF" in signed.strategy_note


def test_c2pa_of_another_version_falls_back_and_says_so(
    lab: Lab,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The binding reaches into c2pa-python's private parts, so a c2pa it was not checked
    against is never bound: the file is still signed, by c2pa's own path, with a warning."""
    monkeypatch.setattr(native, "NATIVE_VERSION", "0.0.0-not-this-one")
    native._binding.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="provsdk.sign"):
            signed = lab.sign(lab.vectors / "sample1.wav", "s.wav", DataHashedStrategy())
    finally:
        monkeypatch.undo()
        native._binding.cache_clear()
    assert signed.strategy == "c2pa-builder"
    assert signed.strategy_note is not None and "0.0.0-not-this-one" in signed.strategy_note
    assert any("c2pa's own path" in r.getMessage() for r in caplog.records)
    assert verify_file(signed.path, trust=lab.trust).verdict is Verdict.PASS
    assert native.data_hashed_calls() is not None  # bound again once the version matches


def test_unknown_strategy_name_in_the_environment_is_refused_before_writing(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRATEGY_ENV, "fastest")
    with pytest.raises(ConfigurationError, match=STRATEGY_ENV) as caught:
        sign_file(lab.vectors / "sample1.wav", lab.tmp / "s.wav", lab.spec, lab.signer)
    assert "data-hashed" in (caught.value.hint or "")
    assert list(lab.tmp.iterdir()) == []


def test_progress_hears_every_byte_of_the_output(
    lab: Lab,
) -> None:
    heard: list[tuple[str, int, int]] = []
    signed = sign_file(
        lab.vectors / "sample1.wav",
        lab.tmp / "s.wav",
        lab.spec,
        lab.signer,
        strategy=DataHashedStrategy(),
        progress=lambda task, done, total: heard.append((task, done, total)),
    )
    assert heard and {task for task, _, _ in heard} == {SIGN}
    done = [d for _, d, _ in heard]
    assert done == sorted(done)
    size = signed.path.stat().st_size
    assert heard[-1] == (SIGN, size, size)
    assert all(total == size for _, _, total in heard)


class _Stop(Exception):
    pass


def test_a_progress_callback_that_raises_leaves_no_output(lab: Lab) -> None:
    def stop(task: str, done: int, total: int) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        sign_file(
            lab.vectors / "sample1.wav",
            lab.tmp / "s.wav",
            lab.spec,
            lab.signer,
            strategy=DataHashedStrategy(),
            progress=stop,
        )
    assert list(lab.tmp.iterdir()) == []


@pytest.mark.slow
def test_signing_a_large_wav_does_not_hold_it_in_memory(tmp_path: Path, dev_home: Any) -> None:
    """A 400 MB WAV signed in a fresh process: its peak memory grows by far less than the
    file. (The figures against their targets are in bench/streaming.py.)"""
    script = textwrap.dedent(
        """
        import resource, sys, wave
        from pathlib import Path
        from provsdk.credentials import Role, TrustConfig, load_signer
        from provsdk.home import ProvsdkHome
        from provsdk.manifest import ManifestSpec
        from provsdk.models import DigitalSourceType, SoftwareAgent
        from provsdk.sign import DataHashedStrategy, sign_file
        import c2pa

        folder, home = Path(sys.argv[1]), ProvsdkHome(Path(sys.argv[2]))
        src = folder / "big.wav"
        with wave.open(str(src), "wb") as w:
            w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
            block = bytes(range(256)) * 4096
            for _ in range(400):
                w.writeframes(block)
        signer = load_signer(Role.PRODUCER, home=home, use_env=False)
        spec = ManifestSpec(title="big", source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
                            software_agent=SoftwareAgent("tests", "1"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sign_file(src, folder / "signed.wav", spec, signer, strategy=DataHashedStrategy())
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024, src.stat().st_size)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(dev_home.root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    grew, size = map(int, result.stdout.split())
    assert size > 400_000_000
    assert grew < size // 10, f"signing grew the process by {grew} bytes for a {size}-byte file"
    assert verify_file(tmp_path / "signed.wav").integrity.state in (
        C2paState.VALID,
        C2paState.TRUSTED,
    )


def test_cli_sign_of_an_m4a_says_it_took_c2pas_own_path(lab: Lab, dev_home: Any) -> None:
    from cli_runner import run_cli

    out = lab.tmp / "s.m4a"
    result = run_cli(
        "sign",
        lab.vectors / "sample1.m4a",
        "-o",
        out,
        "--source-type",
        "digitalCapture",
        home=dev_home.root,
        env={STRATEGY_ENV: "data-hashed"},  # asked for, whatever the suite runs under
    )
    assert result.returncode == 0, result.stderr
    assert "c2pa's own writer" in result.stdout and "BMFF" in result.stdout
    wav = run_cli(
        "sign",
        lab.vectors / "sample1.wav",
        "-o",
        lab.tmp / "s.wav",
        "--source-type",
        "digitalCapture",
        home=dev_home.root,
    )
    assert wav.returncode == 0 and "c2pa's own writer" not in wav.stdout
