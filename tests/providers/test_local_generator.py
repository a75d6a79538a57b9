"""Tests of the built-in procedural generator (provsdk.providers.local)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import provsdk.providers.local as local
from provsdk.providers.local import (
    GENERATOR_NAME,
    GENERATOR_VERSION,
    MusicPlan,
    plan_track,
    render_plan,
    render_track,
)

MINOR_FAMILY = {"minor", "dorian", "phrygian"}
MAJOR_FAMILY = {"major", "lydian", "mixolydian"}
CEILING = 10 ** (-1 / 20) * 32767  # -1 dBFS

Samples = npt.NDArray[np.int16]


def _rms(samples: Samples) -> float:
    """RMS level as a fraction of full scale."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) / 32768.0


def _section_samples(samples: Samples, plan: MusicPlan, index: int) -> Samples:
    section = plan.sections[index]
    rate = plan.sample_rate
    return samples[round(section.start * rate) : round(section.end * rate)]


def _busy_bands(samples: Samples, rate: int) -> int:
    """Third-octave bands (40 Hz .. 12 kHz) within 45 dB of the loudest one."""
    mono = samples.astype(np.float64).mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1.0 / rate)
    edges = 40.0 * 2.0 ** (np.arange(0, 26) / 3.0)  # 40 Hz .. ~12.9 kHz
    energy = np.array(
        [power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)]
    )
    return int(np.sum(energy > energy.max() * 10 ** (-45 / 10)))


def _beat_period(samples: Samples, rate: int) -> float:
    """Strongest periodicity (seconds, 0.25..2 s) of a spectral-flux onset envelope."""
    hop, size = 512, 1024
    mono = samples.astype(np.float32).mean(axis=1) / 32768.0
    frames = np.lib.stride_tricks.sliding_window_view(mono, size)[::hop]
    window = np.hanning(size).astype(np.float32)
    spectra = np.log1p(100.0 * np.abs(np.fft.rfft(frames * window, axis=1)))
    flux = np.maximum(np.diff(spectra, axis=0), 0.0).sum(axis=1)
    flux -= flux.mean()
    corr = np.correlate(flux, flux, mode="full")[len(flux) - 1 :]
    frame_rate = rate / hop
    low, high = int(0.25 * frame_rate), int(2.0 * frame_rate)
    return (low + int(np.argmax(corr[low:high]))) / frame_rate


# --- interface --------------------------------------------------------------


def test_public_interface() -> None:
    assert set(local.__all__) >= {
        "GENERATOR_NAME",
        "GENERATOR_VERSION",
        "MusicPlan",
        "plan_track",
        "render_plan",
        "render_track",
    }
    assert GENERATOR_NAME == "provsdk-local"
    assert GENERATOR_VERSION == "2.0"
    plan = plan_track("lofi", seed=1, duration=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.tempo_bpm = 1.0  # type: ignore[misc]
    assert isinstance(plan.instruments, tuple)
    assert isinstance(plan.sections, tuple)


def test_render_track_returns_the_plan_it_rendered() -> None:
    samples, plan = render_track("warm house groove", seed=4, duration=3)
    assert plan == plan_track("warm house groove", seed=4, duration=3)
    assert np.array_equal(samples, render_plan(plan))


# --- determinism ------------------------------------------------------------


def test_same_inputs_give_identical_samples() -> None:
    first, _ = render_track("dark techno", seed=7, duration=4, sample_rate=22050)
    second, _ = render_track("dark techno", seed=7, duration=4, sample_rate=22050)
    assert np.array_equal(first, second)


@pytest.mark.slow
def test_identical_across_processes() -> None:
    code = (
        "import hashlib\n"
        "from provsdk.providers.local import render_track\n"
        "samples, _ = render_track('jazz piano trio', seed=11, duration=3, sample_rate=32000)\n"
        "print(hashlib.sha256(samples.tobytes()).hexdigest())\n"
    )
    package_root = Path(local.__file__).resolve().parents[3]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(package_root), env.get("PYTHONPATH", "")])
    digests = set()
    for hash_seed in ("1", "2"):  # Python's own hash() differs between these runs
        env["PYTHONHASHSEED"] = hash_seed
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(result.stdout.strip())
    samples, _ = render_track("jazz piano trio", seed=11, duration=3, sample_rate=32000)
    digests.add(hashlib.sha256(samples.tobytes()).hexdigest())
    assert len(digests) == 1


def test_prompt_case_and_spacing_do_not_matter() -> None:
    a, plan_a = render_track("LoFi   Beat", seed=3, duration=3, sample_rate=22050)
    b, plan_b = render_track("lofi beat", seed=3, duration=3, sample_rate=22050)
    assert plan_a.style == plan_b.style == "lofi"
    assert np.array_equal(a, b)


def test_different_seed_gives_different_track() -> None:
    a, _ = render_track("pop song", seed=1, duration=4, sample_rate=22050)
    b, _ = render_track("pop song", seed=2, duration=4, sample_rate=22050)
    assert a.shape == b.shape
    assert not np.array_equal(a, b)


def test_different_prompts_give_different_plans() -> None:
    plans = [plan_track(p, seed=5, duration=30) for p in ("lofi", "techno", "ambient", "rock")]
    assert len({(p.style, p.tempo_bpm, p.groove, p.instruments) for p in plans}) == 4


# --- prompt cues ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_explicit_tempo_and_key_are_honoured(seed: int) -> None:
    plan = plan_track("chill beat at 120 bpm in D minor", seed=seed, duration=10)
    assert plan.tempo_bpm == 120
    assert (plan.key, plan.mode) == ("D", "minor")
    assert plan_track("key of F# dorian", seed=seed, duration=10).key == "F#"
    assert plan_track("Bb major ballad", seed=seed, duration=10).mode == "major"


def test_an_article_is_not_a_key() -> None:
    keys = {plan_track("music in a dark mood", seed=s, duration=10).key for s in range(12)}
    assert len(keys) > 1  # the seed picks the key; "a" was not read as A


@pytest.mark.parametrize("seed", range(5))
def test_fast_techno_is_faster_than_slow_ambient(seed: int) -> None:
    fast = plan_track("fast techno", seed=seed, duration=30)
    slow = plan_track("slow ambient", seed=seed + 100, duration=30)
    assert (fast.style, slow.style) == ("techno", "ambient")
    assert fast.tempo_bpm > slow.tempo_bpm
    assert (
        plan_track("fast pop", seed=seed, duration=30).tempo_bpm
        > plan_track("slow pop", seed=seed + 1, duration=30).tempo_bpm
    )


@pytest.mark.parametrize("seed", range(8))
def test_mood_words_pick_the_mode_family(seed: int) -> None:
    assert plan_track("sad song", seed=seed, duration=20).mode in MINOR_FAMILY
    assert plan_track("sad pop song", seed=seed, duration=20).mode in MINOR_FAMILY
    assert plan_track("happy tune", seed=seed, duration=20).mode in MAJOR_FAMILY


@pytest.mark.parametrize(
    ("prompt", "style", "groove"),
    [
        ("lofi hip hop beat", "lofi", "swing"),
        ("Deep HOUSE", "house", "four-on-the-floor"),
        ("epic orchestral trailer", "cinematic", "halftime"),
        ("8-bit chiptune", "chiptune", "straight"),
        ("trap with 808s", "trap", "halftime"),
        ("ambient drone", "ambient", "straight"),
        ("rock with swing", "rock", "swing"),
    ],
)
def test_style_words(prompt: str, style: str, groove: str) -> None:
    plan = plan_track(prompt, seed=0, duration=30)
    assert (plan.style, plan.groove) == (style, groove)


def test_unknown_words_are_ignored() -> None:
    plan = plan_track("zxqv blorp", seed=0, duration=30)
    assert plan.style == "generic"
    assert plan_track("lofi zxqv blorp", seed=0, duration=30).style == "lofi"


def test_instrument_words() -> None:
    for seed in range(4):
        assert "piano" in plan_track("techno with piano", seed=seed, duration=10).instruments
        strings = plan_track("strings and flute", seed=seed, duration=10).instruments
        assert strings[-2:] == ("strings", "flute")
        assert not any(
            "drums" in i for i in plan_track("pop, no drums", seed=seed, duration=10).instruments
        )
        assert any("drums" in i for i in plan_track("pop", seed=seed, duration=10).instruments)


# --- output format ----------------------------------------------------------


@pytest.mark.parametrize("rate", [22050, 32000, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_shape_dtype_and_levels(rate: int, channels: int) -> None:
    duration = 2.7
    samples, _ = render_track(
        "happy pop", seed=2, duration=duration, sample_rate=rate, channels=channels
    )
    assert samples.dtype == np.int16
    assert samples.shape == (round(duration * rate), channels)
    peak = int(np.abs(samples.astype(np.int32)).max())
    assert peak < 32767
    assert peak <= CEILING + 1
    assert _rms(samples) > 0.02
    assert np.all(np.abs(samples.astype(np.float64).mean(axis=0)) < 0.002 * 32768)


def test_mono_is_the_stereo_mix_folded_down_then_mastered_on_its_own() -> None:
    # Mono is mastered to the same loudness itself, so it is the average of the two sides
    # times a level, not the stereo master's average (which a BS.1770 meter reads 3+ LU low).
    stereo, _ = render_track("rock", seed=9, duration=3, sample_rate=22050, channels=2)
    mono, _ = render_track("rock", seed=9, duration=3, sample_rate=22050, channels=1)
    average = stereo.astype(np.float64).mean(axis=1)
    assert np.corrcoef(mono[:, 0].astype(np.float64), average)[0, 1] > 0.99
    assert _rms(mono) > 1.15 * _rms(average.astype(np.int16)[:, None])
    assert not np.array_equal(stereo[:, 0], stereo[:, 1])  # it really is stereo


# --- it is music ------------------------------------------------------------


def test_spectrum_helper_rejects_a_pure_tone() -> None:
    t = np.arange(44100 * 2) / 44100
    tone = (np.sin(2 * np.pi * 440 * t) * 20000).astype(np.int16)[:, None]
    assert _busy_bands(tone, 44100) <= 3


@pytest.mark.parametrize("prompt", ["lofi beat", "techno", "ambient pads", "jazz", "chiptune"])
def test_energy_spreads_over_many_bands(prompt: str) -> None:
    samples, plan = render_track(prompt, seed=1, duration=12, sample_rate=32000)
    loudest = max(range(len(plan.sections)), key=lambda i: plan.sections[i].energy)
    assert _busy_bands(_section_samples(samples, plan, loudest), plan.sample_rate) >= 18


@pytest.mark.parametrize(
    ("prompt", "seed"),
    [("techno 128 bpm", 1), ("rock 100 bpm", 2), ("pop 110 bpm", 3), ("hip hop 92 bpm", 4)],
)
def test_onsets_pulse_at_the_planned_tempo(prompt: str, seed: int) -> None:
    samples, plan = render_track(prompt, seed=seed, duration=16, sample_rate=22050)
    body = samples[round(plan.sections[0].end * plan.sample_rate) :]  # skip the sparse intro
    period = _beat_period(body, plan.sample_rate)
    beat = 60.0 / plan.tempo_bpm
    ratios = [period / (beat * multiple) for multiple in (0.5, 1.0, 2.0)]
    assert any(abs(r - 1.0) < 0.05 for r in ratios), (period, beat)


@pytest.mark.parametrize(
    ("prompt", "seed"), [("lofi", 1), ("techno", 2), ("ambient", 3), ("rock", 4)]
)
def test_intro_is_quieter_than_the_main_section(prompt: str, seed: int) -> None:
    samples, plan = render_track(prompt, seed=seed, duration=30, sample_rate=22050)
    assert plan.sections[0].name == "intro"
    loudest = max(range(len(plan.sections)), key=lambda i: plan.sections[i].energy)
    intro = _rms(_section_samples(samples, plan, 0))
    main = _rms(_section_samples(samples, plan, loudest))
    assert intro < 0.7 * main


def test_track_ends_in_silence() -> None:
    samples, plan = render_track("cinematic", seed=5, duration=10, sample_rate=22050)
    assert plan.sections[-1].name == "outro"
    tail = samples[-220:]  # last 10 ms
    assert _rms(tail) < 0.1 * _rms(samples)


@pytest.mark.parametrize("duration", [0.4, 2.0, 3.0, 7.5, 20.0, 61.0, 180.0, 3600.0])
@pytest.mark.parametrize("prompt", ["lofi", "fast dnb", "slow ambient"])
def test_sections_cover_the_track_in_order(duration: float, prompt: str) -> None:
    plan = plan_track(prompt, seed=3, duration=duration)
    sections = plan.sections
    assert sections[0].start == 0.0
    assert sections[-1].end == duration
    for before, after in itertools.pairwise(sections):
        assert before.end == after.start
        assert before.end_beat == after.start_beat
        assert before.start < before.end
    assert all(0.0 < s.energy <= 1.0 for s in sections)
    if duration >= 20:
        names = [s.name for s in sections]
        assert names[0] == "intro" and names[-1] == "outro"
        assert "chorus" in names


def test_long_tracks_alternate_sections() -> None:
    plan = plan_track("pop", seed=8, duration=180)
    names = [s.name for s in plan.sections]
    assert {"verse", "chorus"} <= set(names)
    assert len(names) >= 6
    energies = [s.energy for s in plan.sections]
    assert max(energies) - min(energies) >= 0.4


@pytest.mark.parametrize("duration", [3.0, 60.0])
def test_short_and_long_durations_render(duration: float) -> None:
    samples, plan = render_track("warm lofi beat", seed=6, duration=duration, sample_rate=22050)
    assert samples.shape == (round(duration * 22050), 2)
    assert _rms(samples) > 0.02
    assert len(plan.sections) >= 3


def test_an_edited_plan_renders_differently() -> None:
    plan = plan_track("house", seed=2, duration=4, sample_rate=22050)
    faster = dataclasses.replace(plan, tempo_bpm=plan.tempo_bpm + 20)
    assert not np.array_equal(render_plan(plan), render_plan(faster))


# --- invalid input ----------------------------------------------------------


@pytest.mark.parametrize("duration", [0, -1.0, 3600.5, math.nan, math.inf])
def test_bad_duration(duration: float) -> None:
    with pytest.raises(ValueError, match="duration"):
        plan_track("lofi", seed=1, duration=duration)
    with pytest.raises(ValueError, match="duration"):
        render_track("lofi", seed=1, duration=duration)


@pytest.mark.parametrize("rate", [0, 8000, 16000, 96000, 44100.5])
def test_bad_sample_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        plan_track("lofi", seed=1, duration=2, sample_rate=rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("channels", [0, 3, 6])
def test_bad_channels(channels: int) -> None:
    with pytest.raises(ValueError, match="channels"):
        render_track("lofi", seed=1, duration=2, channels=channels)
    plan = plan_track("lofi", seed=1, duration=2)
    with pytest.raises(ValueError, match="channels"):
        render_plan(plan, channels=channels)


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt(prompt: str) -> None:
    with pytest.raises(ValueError, match="prompt"):
        plan_track(prompt, seed=1, duration=2)
    with pytest.raises(ValueError, match="prompt"):
        render_track(prompt, seed=1, duration=2)


def test_invalid_plan_fields_are_rejected() -> None:
    plan = plan_track("lofi", seed=1, duration=2)
    with pytest.raises(ValueError):
        render_plan(dataclasses.replace(plan, mode="hypermixolydian"))
    with pytest.raises(ValueError):
        render_plan(dataclasses.replace(plan, duration=0.0))
    with pytest.raises(ValueError):
        render_plan(dataclasses.replace(plan, instruments=("drums", "kazoo")))
