"""How the local generator sounds: prompt words steer it, styles differ, the master is finished.

Short renders at 22.05 kHz keep these quick; the full listening report over whole tracks is
``python -m bench.generator``.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from bench.generator import (
    long_term_bands,
    measured_tempo,
    power_spectrogram,
    share_above,
    true_peak_db,
)
from provsdk.providers.local import plan_track, render_blocks, render_plan, render_track
from provsdk.providers.local.loudness import integrated_loudness, true_peak

RATE = 22050
Floats = npt.NDArray[np.float64]


def _render(prompt: str, seed: int = 1, duration: float = 12.0) -> tuple[Floats, object]:
    pcm, plan = render_track(prompt, seed=seed, duration=duration, sample_rate=RATE)
    return pcm.astype(np.float64) / 32768.0, plan


def _bands(samples: Floats) -> Floats:
    return long_term_bands(power_spectrogram(samples.mean(axis=1)), RATE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_ballad_is_slower_than_an_upbeat_song(seed: int) -> None:
    ballad = plan_track("rock ballad", seed=seed, duration=30)
    upbeat = plan_track("upbeat rock", seed=seed, duration=30)
    assert ballad.tempo_bpm < 0.75 * upbeat.tempo_bpm
    assert (
        plan_track("slow folk", seed=seed, duration=30).tempo_bpm
        < plan_track("fast folk", seed=seed, duration=30).tempo_bpm
    )


@pytest.mark.parametrize(
    ("prompt", "players"),
    [
        ("solo piano", 1),
        ("folk duo", 2),
        ("jazz trio", 3),
        ("folk trio", 3),
        ("rock quartet", 4),
    ],
)
def test_ensemble_words_set_how_many_instruments_play(prompt: str, players: int) -> None:
    for seed in (1, 2):
        assert len(plan_track(prompt, seed=seed, duration=20).instruments) == players


def test_a_solo_player_still_plays_a_tune_and_chords() -> None:
    samples, plan = _render("solo piano", duration=10)
    assert plan.instruments == ("piano",)  # type: ignore[attr-defined]
    assert float(np.sqrt(np.mean(samples**2))) > 0.03


def test_dark_and_bright_change_the_treble() -> None:
    dark, _ = _render("dark pop", duration=15)
    bright, _ = _render("bright pop", duration=15)
    dark_share = share_above(power_spectrogram(dark.mean(axis=1)), RATE)
    bright_share = share_above(power_spectrogram(bright.mean(axis=1)), RATE)
    assert bright_share > 1.5 * dark_share


def test_folk_and_metal_do_not_come_out_as_the_same_band() -> None:
    folk, folk_plan = _render("gentle acoustic folk", duration=15)
    metal, metal_plan = _render("heavy metal", duration=15)
    assert folk_plan.style == "folk" and metal_plan.style == "metal"  # type: ignore[attr-defined]
    assert float(np.corrcoef(_bands(folk), _bands(metal))[0, 1]) < 0.8


@pytest.mark.parametrize(
    "prompt", ["gentle acoustic folk", "heavy metal", "jazz trio", "techno", "orchestral"]
)
def test_every_style_is_mastered_to_minus_14_lufs_under_minus_1_dbtp(prompt: str) -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    samples, _ = _render(prompt, duration=15)
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(samples)
    assert abs(loudness - (-14.0)) <= 1.0
    assert true_peak_db(samples) <= -1.0


def test_a_mono_render_is_as_loud_as_a_stereo_one() -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    pcm, _ = render_track("heavy metal", seed=1, duration=12, sample_rate=44100, channels=1)
    samples = pcm.astype(np.float64) / 32768.0
    assert abs(pyloudnorm.Meter(44100).integrated_loudness(samples[:, 0]) + 14.0) <= 1.0
    assert true_peak_db(samples) <= -1.0


@pytest.mark.slow
def test_a_long_track_measured_from_its_sections_still_lands_at_minus_14() -> None:
    # Past 20 s the master gain is set from spans of each section, not the whole track.
    pyloudnorm = pytest.importorskip("pyloudnorm")
    for prompt in ("upbeat pop", "ambient"):
        samples, _ = _render(prompt, duration=150)
        assert abs(pyloudnorm.Meter(RATE).integrated_loudness(samples) + 14.0) <= 1.0


def test_the_builtin_meter_agrees_with_pyloudnorm() -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    for rate in (22050, 44100, 48000):
        pcm, _ = render_track("jazz", seed=4, duration=8, sample_rate=rate)
        samples = pcm.astype(np.float64) / 32768.0
        ours = integrated_loudness(samples.T, rate)
        assert abs(ours - pyloudnorm.Meter(rate).integrated_loudness(samples)) < 0.2
    t = np.arange(5 * 48000) / 48000.0
    tone = np.stack([0.5 * np.sin(2 * np.pi * 997.0 * t)] * 2)
    assert (
        abs(integrated_loudness(tone, 48000) - pyloudnorm.Meter(48000).integrated_loudness(tone.T))
        < 0.1
    )


def test_the_true_peak_meter_sees_peaks_between_samples() -> None:
    # A quarter-rate sine sampled 45 degrees off its crests: samples reach 0.707, the wave 1.
    n = np.arange(4096)
    wave = np.sin(2 * np.pi * n / 4 + np.pi / 4)[None, :]
    assert float(np.abs(wave).max()) < 0.71
    assert 0.98 < true_peak(wave) < 1.03


def test_same_prompt_seed_and_duration_give_the_same_bytes() -> None:
    first = render_track("heavy metal trio", seed=5, duration=6, sample_rate=RATE)[0]
    second = render_track("heavy metal trio", seed=5, duration=6, sample_rate=RATE)[0]
    assert first.tobytes() == second.tobytes()
    other = render_track("heavy metal trio", seed=6, duration=6, sample_rate=RATE)[0]
    assert first.tobytes() != other.tobytes()


@pytest.mark.parametrize("prompt", ["gentle acoustic folk", "heavy metal", "orchestral"])
def test_new_instruments_stream_in_blocks_that_join_to_the_whole(prompt: str) -> None:
    plan = plan_track(prompt, seed=2, duration=9, sample_rate=RATE)
    joined = np.concatenate(list(render_blocks(plan)))
    assert joined.tobytes() == render_plan(plan).tobytes()


def test_song_structure_depends_on_style_and_seed() -> None:
    def form(prompt: str, seed: int) -> tuple[str, ...]:
        return tuple(s.name for s in plan_track(prompt, seed=seed, duration=200).sections)

    by_seed = {form("pop", seed) for seed in range(1, 9)}
    assert len(by_seed) >= 3
    by_style = {form(prompt, 3) for prompt in ("pop", "jazz", "techno", "orchestral", "folk")}
    assert len(by_style) >= 3
    assert any("bridge" in f for f in by_seed | by_style)


def test_mood_words_move_the_register() -> None:
    for seed in (1, 2):
        assert (
            plan_track("dark folk", seed=seed, duration=10).register
            < plan_track("happy folk", seed=seed, duration=10).register
        )


def test_energy_words_change_section_energy() -> None:
    calm = plan_track("calm rock", seed=1, duration=60)
    intense = plan_track("intense rock", seed=1, duration=60)
    for a, b in itertools.zip_longest(calm.sections, intense.sections):
        if a is not None and b is not None and a.name == b.name:
            assert a.energy < b.energy


@pytest.mark.parametrize("bpm", [60.0, 84.0, 110.0, 140.0, 164.0, 176.0])
def test_the_tempo_meter_does_not_halve_or_double_a_bare_metronome(bpm: float) -> None:
    # A click every beat repeats every two beats too: the meter must not read the half.
    rate = 22050
    track = np.zeros(int(20 * rate))
    t = np.arange(int(0.03 * rate)) / rate
    click = np.sin(2 * np.pi * 1000.0 * t) * np.exp(-t / 0.005)
    for start in np.arange(0.0, 19.5, 60.0 / bpm):
        at = round(float(start) * rate)
        track[at : at + len(click)] += 0.5 * click
    assert abs(measured_tempo(track, rate) / bpm - 1.0) < 0.01
