"""CAF and Matroska/WebM: the containers whose structure check is ffmpeg decoding them whole."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from provsdk.audio.containers import probe
from provsdk.audio.essence import essence_digest
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import CorruptAudioError, InputError, UnsupportedFormatError

_TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
_STEREO = ["-f", "lavfi", "-i", "sine=frequency=660:duration=2", "-filter_complex", "amerge"]


def _make(ffmpeg: object, dest: Path, *args: str) -> Path:
    exe = ffmpeg.exe
    subprocess.run([exe, "-v", "error", "-y", *args, str(dest)], check=True, timeout=60)
    return dest


@pytest.mark.parametrize(
    ("name", "codec", "fmt", "rate"),
    [
        ("t.caf", ["-c:a", "alac"], AudioFormat.CAF, 44100),
        ("t.webm", ["-c:a", "libopus"], AudioFormat.WEBM, 48000),
        ("t.mka", ["-c:a", "flac"], AudioFormat.MKA, 44100),
    ],
)
def test_each_container_reads_its_facts(
    ffmpeg: object, tmp_path: Path, name: str, codec: list[str], fmt: AudioFormat, rate: int
) -> None:
    path = _make(ffmpeg, tmp_path / name, *_TONE, *_STEREO, *codec)
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == (fmt, rate, 2)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert detect_format(path) is fmt
    # The sidecar's hash covers every byte: so does the audio digest.
    assert essence_digest(path, info).endswith(hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.mark.parametrize(
    ("name", "codec"), [("cut.webm", ["-c:a", "libopus"]), ("cut.mka", ["-c:a", "flac"])]
)
def test_a_cut_matroska_is_truncated_not_a_shorter_track(
    ffmpeg: object, tmp_path: Path, name: str, codec: list[str]
) -> None:
    """Matroska demuxing stops quietly where a file is cut; the declared length tells."""
    whole = _make(ffmpeg, tmp_path / f"whole{Path(name).suffix}", *_TONE, *codec)
    cut = tmp_path / name
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CorruptAudioError, match="truncated") as info:
        probe(cut)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_a_cut_caf_is_corrupt(ffmpeg: object, tmp_path: Path) -> None:
    whole = _make(ffmpeg, tmp_path / "whole.caf", *_TONE, "-c:a", "alac")
    cut = tmp_path / "cut.caf"
    cut.write_bytes(whole.read_bytes()[:3000])
    with pytest.raises(CorruptAudioError):
        probe(cut)


def test_garbage_after_the_magic_is_one_line(tmp_path: Path) -> None:
    for name, magic in (("junk.caf", b"caff\x00\x01\x00\x00"), ("junk.mka", b"\x1aE\xdf\xa3")):
        path = tmp_path / name
        path.write_bytes(magic + b"\xde\xad" * 500)
        with pytest.raises(InputError) as info:
            probe(path)
        assert "\n" not in str(info.value) and name in str(info.value)


def test_two_audio_streams_are_refused_players_choose_one(ffmpeg: object, tmp_path: Path) -> None:
    path = _make(
        ffmpeg,
        tmp_path / "two.mka",
        *_TONE,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=880:duration=2",
        "-map",
        "0:a",
        "-map",
        "1:a",
        "-c:a",
        "flac",
    )
    with pytest.raises(UnsupportedFormatError, match="2 audio streams"):
        probe(path)


def test_a_video_is_not_audio(ffmpeg: object, tmp_path: Path) -> None:
    path = _make(
        ffmpeg,
        tmp_path / "clip.webm",
        "-f",
        "lavfi",
        "-i",
        "color=size=32x32:duration=1",
        *_TONE,
        "-c:v",
        "libvpx-vp9",
        "-c:a",
        "libopus",
        "-shortest",
    )
    with pytest.raises(UnsupportedFormatError, match="video"):
        probe(path)
