"""Fingerprints, Audio-Codes, alignment and the soft-binding assertion, on real audio.

Tracks come from the built-in generator and every transformation is a real ffmpeg run (the
wheel's), as a platform that strips the manifest would make it. Each attack test is named
after what the attacker, or bad luck, tries.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from provsdk.audio.codec import encode, ffmpeg_executable
from provsdk.audio.formats import AudioFormat
from provsdk.credentials.signers import KeySigner
from provsdk.errors import CorruptAudioError, InputError
from provsdk.manifest import ManifestSpec
from provsdk.manifest.build import manifest_definition
from provsdk.providers.local import render_track
from provsdk.sign.strategy import C2paBuilderStrategy, DataHashedStrategy
from provsdk.softbinding import (
    ALG,
    ITEM_SECONDS,
    LABEL,
    MATCH_THRESHOLD,
    Fingerprint,
    align,
    audio_code,
    fingerprint_file,
    hamming,
    read_soft_binding,
    soft_binding_assertion,
)
from provsdk.softbinding.compare import MIN_OVERLAP

SECONDS = 30.0


def _ffmpeg(source: Path, dest: Path, *options: str, inputs: tuple[str, ...] = ()) -> Path:
    subprocess.run(
        [ffmpeg_executable(), "-nostdin", "-v", "error", "-y", *inputs, "-i", str(source),
         *options, str(dest)],
        check=True,
    )  # fmt: skip
    return dest


def _track(folder: Path, name: str, prompt: str, seed: int) -> Path:
    samples, _ = render_track(prompt, seed=seed, duration=SECONDS)
    dest = folder / f"{name}.wav"
    encode(samples, 44100, AudioFormat.WAV, dest)
    return dest


@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("softbinding")
    original = _track(folder, "original", "warm lofi piano", 7)
    # Same prompt, another seed: the nearest thing to the original that is not it.
    sibling = _track(folder, "sibling", "warm lofi piano", 8)
    other = _track(folder, "other", "aggressive rock guitar", 3)
    return {
        "original": original,
        "sibling": sibling,
        "other": other,
        "mp3": _ffmpeg(original, folder / "low.mp3", "-ac", "1", "-ar", "22050", "-b:a", "64k"),
        "aac": _ffmpeg(original, folder / "t.m4a", "-c:a", "aac", "-b:a", "128k"),
        "excerpt": _ffmpeg(original, folder / "excerpt.wav", "-ss", "8", "-t", "15"),
        "short": _ffmpeg(original, folder / "short.wav", "-ss", "8", "-t", "6"),
    }


@pytest.fixture(scope="module")
def prints(tracks: dict[str, Path]) -> dict[str, Fingerprint]:
    return {name: fingerprint_file(path) for name, path in tracks.items()}


def test_one_sub_fingerprint_per_1365_samples_at_11025_hz(prints: dict[str, Fingerprint]) -> None:
    # Measured, not restated: a 30 s track has 15 s of sub-fingerprints more than its 15 s
    # excerpt, whatever the windows cost at the ends.
    extra = len(prints["original"].values) - len(prints["excerpt"].values)
    assert extra * ITEM_SECONDS == pytest.approx(15.0, abs=2 * ITEM_SECONDS)
    assert round(ITEM_SECONDS * 11025) == 1365


def test_fingerprint_round_trips_through_its_stored_bytes(prints: dict[str, Fingerprint]) -> None:
    fp = prints["original"]
    assert Fingerprint.from_bytes(fp.to_bytes()) == fp
    assert len(fp.to_bytes()) == 4 * len(fp.values)
    with pytest.raises(ValueError, match="32-bit"):
        Fingerprint.from_bytes(b"\x00" * 7)


def test_a_reencoded_file_aligns_with_its_original(prints: dict[str, Fingerprint]) -> None:
    for name in ("mp3", "aac"):
        result = align(prints[name], prints["original"])
        assert result.is_match, (name, result)
        assert result.offset == 0
        assert result.score > 0.95


def test_another_track_of_the_same_prompt_does_not_match(prints: dict[str, Fingerprint]) -> None:
    for name in ("sibling", "other"):
        result = align(prints[name], prints["original"])
        assert not result.is_match, (name, result)
        assert result.score < MATCH_THRESHOLD - 0.1


def test_an_excerpt_aligns_at_its_offset(prints: dict[str, Fingerprint]) -> None:
    result = align(prints["excerpt"], prints["original"])
    assert result.is_match
    assert result.offset_seconds == pytest.approx(8.0, abs=2 * ITEM_SECONDS)
    # The same alignment seen from the other side.
    assert align(prints["original"], prints["excerpt"]).offset == -result.offset


def test_a_short_excerpt_cannot_match_by_chance(prints: dict[str, Fingerprint]) -> None:
    # Six seconds of the very track: too little overlap to count, however well it agrees.
    short = prints["short"]
    assert len(short.values) < MIN_OVERLAP
    result = align(short, prints["original"])
    assert not result.is_match
    assert result.overlap == 0


def test_silence_does_not_match_everything(
    tracks: dict[str, Path], prints: dict[str, Fingerprint], tmp_path: Path
) -> None:
    silence = _ffmpeg(
        Path("anullsrc=r=44100:cl=stereo"), tmp_path / "silence.wav", "-t", "30",
        inputs=("-f", "lavfi"),
    )  # fmt: skip
    # A registered track with a long silent tail: silence agrees with it bit for bit there.
    tail = _ffmpeg(tracks["original"], tmp_path / "tail.wav", "-af", "apad=pad_dur=25")
    silent, tailed = fingerprint_file(silence), fingerprint_file(tail)
    assert not align(silent, tailed).is_match
    assert not align(silent, silent).is_match
    assert not align(silent, prints["original"]).is_match
    # ...while the music itself still finds the padded registration.
    assert align(prints["mp3"], tailed).is_match


def test_a_held_tone_does_not_match_another(tmp_path: Path) -> None:
    a = _ffmpeg(Path("sine=f=440:r=44100"), tmp_path / "a.wav", "-t", "20", inputs=("-f", "lavfi"))
    b = _ffmpeg(Path("sine=f=660:r=44100"), tmp_path / "b.wav", "-t", "20", inputs=("-f", "lavfi"))
    assert not align(fingerprint_file(a), fingerprint_file(b)).is_match


def test_the_code_of_a_reencode_is_within_a_few_bits(prints: dict[str, Fingerprint]) -> None:
    original = audio_code(prints["original"])
    assert original.iscc.startswith("ISCC:EIA")  # Content-Code, Audio, V0, 64 bits
    assert 0 <= original.bits < 1 << 64
    for name in ("mp3", "aac"):
        assert hamming(audio_code(prints[name]).bits, original.bits) <= 8, name
    assert hamming(audio_code(prints["other"]).bits, original.bits) > 8


def test_metadata_and_a_manifest_do_not_change_the_fingerprint(
    tracks: dict[str, Path],
    prints: dict[str, Fingerprint],
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path: Path,
) -> None:
    from provsdk.sign import sign_file

    tagged = _ffmpeg(
        tracks["original"], tmp_path / "tagged.wav", "-c", "copy", "-metadata", "title=Not mine"
    )
    signed = tmp_path / "signed.wav"
    sign_file(tracks["original"], signed, spec, producer_signer)
    assert fingerprint_file(tagged) == prints["original"]
    assert fingerprint_file(signed) == prints["original"]


def test_an_undecodable_file_is_a_one_line_error(tmp_path: Path) -> None:
    noise = tmp_path / "track.mp3"
    noise.write_bytes(b"\x17not audio at all\n" * 64)
    with pytest.raises(CorruptAudioError, match="cannot decode") as caught:
        fingerprint_file(noise)
    assert "\n" not in str(caught.value) and str(noise) in str(caught.value)


def test_a_file_truncated_to_its_header_is_a_one_line_error(
    tracks: dict[str, Path], tmp_path: Path
) -> None:
    cut = tmp_path / "cut.wav"
    cut.write_bytes(tracks["original"].read_bytes()[: 44 + 4410])  # 25 ms of audio
    with pytest.raises(CorruptAudioError) as caught:
        fingerprint_file(cut)
    assert "\n" not in str(caught.value)


def test_a_missing_file_or_a_folder_is_an_input_error(tmp_path: Path) -> None:
    for where in (tmp_path / "absent.wav", tmp_path):
        with pytest.raises(InputError, match="not a regular file"):
            fingerprint_file(where)


def test_assertion_names_the_iscc_algorithm_and_reads_back(prints: dict[str, Fingerprint]) -> None:
    code = audio_code(prints["original"])
    assertion = soft_binding_assertion(code, duration=prints["original"].duration)
    assert assertion["label"] == LABEL == "c2pa.soft-binding"
    data = assertion["data"]
    assert data["alg"] == ALG == "io.iscc.v0"
    assert data["blocks"][0]["value"] == code.iscc
    assert data["blocks"][0]["scope"]["timespan"]["start"] == 0
    assert read_soft_binding(data) == code


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "alg": "com.example.watermark",
            "blocks": [{"scope": {}, "value": "ISCC:EIAQAZFQNZAOIIRK"}],
        },
        {"alg": ALG, "blocks": "ISCC:EIAQAZFQNZAOIIRK"},
        {"alg": ALG, "blocks": [{"scope": {}, "value": "ISCC:not-base32!"}]},
        # An ISCC, but a Meta-Code, not an Audio-Code: no use for finding a sound.
        {"alg": ALG, "blocks": [{"scope": {}, "value": "ISCC:AAAWN77F727NXSUS"}]},
        {"alg": ALG, "blocks": [{"scope": {}, "value": 12345}]},
    ],
)
def test_a_soft_binding_of_another_kind_or_malformed_reads_as_none(data: dict[str, object]) -> None:
    assert read_soft_binding(data) is None


@pytest.mark.parametrize("strategy", [DataHashedStrategy(), C2paBuilderStrategy()])
def test_the_assertion_round_trips_through_c2pa_signing(
    tracks: dict[str, Path],
    prints: dict[str, Fingerprint],
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path: Path,
    strategy: DataHashedStrategy | C2paBuilderStrategy,
) -> None:
    import c2pa

    code = audio_code(prints["original"])
    definition = manifest_definition(spec, AudioFormat.WAV)
    definition["assertions"].append(
        soft_binding_assertion(code, duration=prints["original"].duration)
    )
    dest = tmp_path / "signed.wav"
    strategy.sign(
        definition,
        producer_signer.c2pa_signer(),
        AudioFormat.WAV,
        tracks["original"],
        dest,
        parent=False,
        anchors=None,
    )
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}})
    with dest.open("rb") as fh:
        reader = c2pa.Reader("audio/wav", fh, context=context)
        try:
            assert reader.get_validation_state() == "Valid"
            store = json.loads(reader.json())
        finally:
            reader.close()
    active = store["manifests"][store["active_manifest"]]
    found = [a["data"] for a in active["assertions"] if a["label"] == LABEL]
    assert len(found) == 1
    assert read_soft_binding(found[0]) == code
    # The signed file still fingerprints as the sound that was registered.
    assert fingerprint_file(dest) == prints["original"]
