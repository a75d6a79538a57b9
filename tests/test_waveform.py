"""The waveform a report draws: the right shape from every format, bounded, and honest
about files it cannot decode."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

import provsdk.audio.waveform as waveform
from provsdk.audio.codec import encode
from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.audio.waveform import BUCKETS, waveform_peaks
from provsdk.client import Client
from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.errors import InputError
from provsdk.home import ProvsdkHome

RATE = 44100


@pytest.fixture(scope="module")
def loud_then_silent(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four seconds in each format: two of a sine at half scale, then two of silence."""
    folder = tmp_path_factory.mktemp("shape")
    t = np.arange(2 * RATE) / RATE
    tone = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    mono = np.concatenate([tone, np.zeros(2 * RATE, dtype=np.int16)])
    stereo = np.stack([mono, mono], axis=1)
    out = {}
    for fmt in AudioFormat:
        dest = folder / f"shape.{fmt.extension}"
        encode(stereo, RATE, fmt, dest)
        out[fmt.extension] = dest
    return out


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "m4a"])
def test_a_loud_half_and_a_silent_half_look_so_in_every_format(
    loud_then_silent: dict[str, Path], ext: str
) -> None:
    path = loud_then_silent[ext]
    peaks = waveform_peaks(path, probe(path))
    json.dumps(peaks)
    assert peaks["buckets"] == BUCKETS == len(peaks["min"]) == len(peaks["max"])
    assert peaks["duration"] == pytest.approx(4.0, abs=0.1)
    lows, highs = np.array(peaks["min"]), np.array(peaks["max"])
    assert (lows <= highs).all() and (lows >= -1).all() and (highs <= 1).all()
    # Full scale, not normalised to the loudest sample: a half-scale tone reads 0.5. Codecs
    # add a little delay and ringing, so the buckets next to the edge are left out.
    assert np.median(highs[10:90]) == pytest.approx(0.5, abs=0.06)
    assert np.median(lows[10:90]) == pytest.approx(-0.5, abs=0.06)
    assert np.abs(np.concatenate([lows[110:190], highs[110:190]])).max() < 0.01


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, dev_home: ProvsdkHome) -> dict[str, Path]:
    """Tracks from the project's own generator, signed, in the four formats."""
    folder = tmp_path_factory.mktemp("generated")
    trust = TrustConfig.load(dev_home)
    signer = load_signer(Role.PRODUCER, home=dev_home, use_env=False)
    client = Client(home=dev_home, signer=signer, trust=trust)
    out = {}
    for ext in ("wav", "mp3", "flac", "m4a"):
        dest = folder / f"track.{ext}"
        client.generate("warm lofi beat", out=dest, duration=3, seed=7)
        out[ext] = dest
    return out


@pytest.mark.slow
def test_generated_tracks_in_every_format_give_the_same_picture(
    generated: dict[str, Path],
) -> None:
    pictures = {ext: waveform_peaks(p, probe(p)) for ext, p in generated.items()}
    reference = np.array(pictures["wav"]["max"])
    assert reference.max() > 0.1  # music, not silence
    for ext, peaks in pictures.items():
        assert peaks["duration"] == pytest.approx(3.0, abs=0.1), ext
        # Lossy codecs and the 8 kHz decode change each peak a little, not the envelope.
        assert np.corrcoef(reference, np.array(peaks["max"]))[0, 1] > 0.8, ext


def test_headers_without_a_duration_give_the_same_picture(
    loud_then_silent: dict[str, Path],
) -> None:
    # An MP3 without a Xing header tells no duration: blocks then pile up and merge as they
    # come, and the picture must not depend on it.
    for ext in ("wav", "mp3"):
        path = loud_then_silent[ext]
        told = probe(path)
        untold = dataclasses.replace(told, duration=None)
        a, b = waveform_peaks(path, told), waveform_peaks(path, untold)
        assert a["buckets"] == b["buckets"] == BUCKETS
        assert a["duration"] == b["duration"]
        assert np.abs(np.array(a["max"]) - np.array(b["max"])).max() < 0.05


def test_a_long_stream_keeps_a_bounded_number_of_blocks() -> None:
    # Ten minutes at 8 kHz, starting from blocks of one sample: merging keeps them bounded.
    envelope = waveform._Envelope(1)
    second = np.sin(np.linspace(0, 2 * np.pi * 50, waveform.DECODE_RATE)).astype(np.float32)
    for _ in range(600):
        envelope.feed(second * 1000)
        assert envelope.blocks <= waveform._MAX_BLOCKS
    peaks = envelope.peaks(waveform.DECODE_RATE, 1, 32768.0)
    assert peaks["duration"] == pytest.approx(600.0)
    assert peaks["buckets"] == BUCKETS


def test_a_file_that_is_not_the_audio_its_headers_promised_raises_input_error(
    loud_then_silent: dict[str, Path], tmp_path: Path
) -> None:
    # The headers were probed, then the file was replaced by noise: ffmpeg cannot decode it.
    for ext in ("mp3", "flac", "m4a"):
        info = probe(loud_then_silent[ext])
        fake = tmp_path / f"noise.{ext}"
        fake.write_bytes(np.random.default_rng(1).bytes(50_000))
        with pytest.raises(InputError):
            waveform_peaks(fake, info)


def test_a_file_gone_before_its_picture_raises_input_error(
    loud_then_silent: dict[str, Path], tmp_path: Path
) -> None:
    for ext in ("wav", "mp3"):
        info = probe(loud_then_silent[ext])
        with pytest.raises(InputError):
            waveform_peaks(tmp_path / f"gone.{ext}", info)


def test_an_input_that_never_ends_is_stopped_at_the_time_limit(
    loud_then_silent: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A FIFO nobody writes to: ffmpeg waits on it forever unless it is stopped.
    monkeypatch.setattr(waveform, "TIME_LIMIT", 0.5)
    fifo = tmp_path / "endless.m4a"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InputError, match="stopped after"):
        waveform_peaks(fifo, probe(loud_then_silent["m4a"]))
    assert time.monotonic() - started < 10
