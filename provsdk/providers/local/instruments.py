"""Pitched voices: wavetable oscillators with envelopes, a "filter" made by
cross-fading a bright table into a dark one, detuned stereo pairs, vibrato and
a few inharmonic partials for bells and electric-piano tines.

A note is a pure function of (timbre, MIDI pitch, held samples, sample rate);
the renderer caches it, so repeated notes cost one array addition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .dsp import (
    TABLE_SIZE,
    Signal,
    adsr,
    crush,
    f32,
    finish,
    fixed_phase,
    harmonic_table,
    highpass,
    phase_track,
    seconds,
    seconds32,
    soft_clip,
    tail_length,
)
from .seeding import noise
from .theory import midi_to_hz


def _saw(count: int, rolloff: float = 1.0) -> tuple[float, ...]:
    return tuple(1.0 / k**rolloff for k in range(1, count + 1))


def _odd(count: int, rolloff: float = 1.0, alternate: bool = False) -> tuple[float, ...]:
    out = []
    for k in range(1, count + 1):
        if k % 2 == 0:
            out.append(0.0)
        else:
            sign = -1.0 if alternate and k % 4 == 3 else 1.0
            out.append(sign / k**rolloff)
    return tuple(out)


def _pulse(count: int, duty: float) -> tuple[float, ...]:
    return tuple(math.sin(math.pi * k * duty) / k for k in range(1, count + 1))


def _plucked(count: int, position: float, rolloff: float) -> tuple[float, ...]:
    # A string plucked at ``position`` lacks the harmonics with a node there.
    return tuple(abs(math.sin(math.pi * k * position)) / k**rolloff for k in range(1, count + 1))


@dataclass(frozen=True)
class Tone:
    """Recipe for one timbre."""

    bright: tuple[float, ...]  # harmonic amplitudes at the attack
    dark: tuple[float, ...] = ()  # amplitudes it settles into (empty: stays bright)
    brightness_tau: float = 0.2  # seconds for bright -> dark
    swell: bool = False  # go dark -> bright instead (brass)
    attack: float = 0.005
    decay: float = 1.0
    sustain: float = 0.8
    release: float = 0.15
    detune: float = 0.0  # cents between left and right oscillators; 0 = mono
    vibrato: float = 0.0  # semitones
    vibrato_rate: float = 5.5
    vibrato_delay: float = 0.3
    tremolo: float = 0.0  # amplitude modulation depth
    drop: float = 0.0  # semitones the pitch falls from at the attack
    drop_tau: float = 0.04
    partials: tuple[tuple[float, float, float], ...] = ()  # (ratio, level, decay) sine partials
    breath: float = 0.0  # noise level, for blown sounds
    key_track: bool = False  # lower notes ring longer, like strings and bars
    drive: float = 0.0
    crush: int = 0  # quantisation levels; 0 = off
    gain: float = 1.0


TONES: dict[str, Tone] = {
    # Bass
    "sub-bass": Tone((1.0, 0.12, 0.05), attack=0.005, decay=0.6, sustain=0.85, release=0.06),
    "electric-bass": Tone(
        _plucked(25, 0.15, 1.2), _saw(6, 2.5), 0.12,
        attack=0.003, decay=0.9, sustain=0.45, release=0.05,
    ),
    "upright-bass": Tone(
        _saw(16, 1.8), _saw(5, 3.0), 0.08,
        attack=0.004, decay=0.5, sustain=0.25, release=0.08, gain=1.1,
    ),
    "808-bass": Tone(
        (1.0, 0.05), attack=0.004, decay=1.8, sustain=0.5, release=0.12,
        drop=2.0, drop_tau=0.04, drive=2.2, gain=0.9,
    ),
    "saw-bass": Tone(
        _saw(40), _saw(10, 2.6), 0.09,
        attack=0.003, decay=0.4, sustain=0.6, release=0.05, drive=1.5, gain=0.75,
    ),
    "chip-bass": Tone(
        _odd(25, 2.0, alternate=True), attack=0.002, decay=1.0, sustain=1.0, release=0.01, crush=16,
    ),
    # Chords
    "piano": Tone(
        tuple(a * (0.3 if k % 8 == 0 else 1.0) for k, a in enumerate(_saw(30, 1.1), 1)),
        _saw(10, 2.2), 0.25,
        attack=0.003, decay=1.6, sustain=0.0, release=0.25, detune=3.0, key_track=True,
    ),
    "rhodes": Tone(
        (1.0, 0.35, 0.12, 0.05, 0.0, 0.0, 0.04), (1.0, 0.15, 0.03), 0.4,
        attack=0.004, decay=2.0, sustain=0.15, release=0.3, detune=4.0,
        partials=((14.0, 0.12, 0.03),), key_track=True, tremolo=0.12,
    ),
    "warm-pad": Tone(
        _saw(24, 1.6), attack=0.35, decay=1.0, sustain=0.85, release=0.6,
        detune=12.0, vibrato=0.03, vibrato_rate=0.4, vibrato_delay=0.0, gain=0.8,
    ),
    "strings": Tone(
        _saw(40), _saw(30, 1.5), 0.6,
        attack=0.18, decay=1.0, sustain=0.9, release=0.45, detune=10.0,
        vibrato=0.12, vibrato_rate=5.5, vibrato_delay=0.25, gain=0.8,
    ),
    "organ": Tone(
        (1.0, 0.8, 0.6, 0.5, 0.0, 0.35, 0.0, 0.3), attack=0.008, decay=1.0, sustain=1.0,
        release=0.06, vibrato=0.04, vibrato_rate=6.5, vibrato_delay=0.0, drive=1.2, gain=0.7,
    ),
    "guitar": Tone(
        _plucked(40, 0.2, 1.0), _plucked(8, 0.2, 2.5), 0.12,
        attack=0.002, decay=1.2, sustain=0.0, release=0.12, key_track=True, gain=0.9,
    ),
    "drive-guitar": Tone(
        _saw(30, 1.2), _saw(30, 1.8), 0.5,
        attack=0.003, decay=2.5, sustain=0.5, release=0.08, detune=6.0, drive=4.0, gain=0.6,
    ),
    "pluck": Tone(
        _saw(40), _saw(6, 3.0), 0.07,
        attack=0.002, decay=0.35, sustain=0.0, release=0.1, detune=8.0, key_track=True, gain=0.9,
    ),
    "chip-arp": Tone(
        _pulse(30, 0.25), attack=0.001, decay=1.0, sustain=1.0, release=0.01, crush=16, gain=0.6,
    ),
    # Leads
    "saw-lead": Tone(
        _saw(60), _saw(20, 1.7), 0.25,
        attack=0.01, decay=0.5, sustain=0.75, release=0.15, detune=10.0,
        vibrato=0.15, vibrato_rate=5.5, vibrato_delay=0.35, gain=0.7,
    ),
    "square-lead": Tone(
        _odd(40), _odd(40, 2.0), 0.3,
        attack=0.01, decay=0.6, sustain=0.7, release=0.12, detune=6.0,
        vibrato=0.12, vibrato_delay=0.3, gain=0.7,
    ),
    "flute": Tone(
        (1.0, 0.2, 0.08, 0.03), attack=0.06, decay=0.6, sustain=0.85, release=0.12,
        vibrato=0.18, vibrato_rate=5.0, vibrato_delay=0.2, breath=0.08, gain=0.9,
    ),
    "bell": Tone(
        (1.0,), attack=0.002, decay=1.4, sustain=0.0, release=0.5, key_track=True,
        partials=((2.0, 0.5, 0.9), (2.76, 0.35, 0.5), (5.4, 0.2, 0.25), (8.93, 0.1, 0.12)),
        gain=0.7,
    ),
    "vibes": Tone(
        (1.0, 0.0, 0.0, 0.3), (1.0,), 0.3, attack=0.002, decay=1.6, sustain=0.0, release=0.4,
        partials=((10.0, 0.08, 0.05),), tremolo=0.25, key_track=True, gain=0.8,
    ),
    "chip-lead": Tone(
        _pulse(30, 0.5), attack=0.002, decay=1.0, sustain=1.0, release=0.02,
        vibrato=0.2, vibrato_rate=6.0, vibrato_delay=0.15, crush=16, gain=0.6,
    ),
    "brass": Tone(
        _saw(40), _saw(40, 2.4), 0.12, swell=True,
        attack=0.06, decay=0.8, sustain=0.85, release=0.15, detune=6.0,
        vibrato=0.08, vibrato_delay=0.4, gain=0.6,
    ),
}  # fmt: skip


@lru_cache(maxsize=512)
def _table(amplitudes: tuple[float, ...]) -> Signal:
    return harmonic_table(amplitudes)


def _tables(tone: Tone, frequency: float, sample_rate: int) -> tuple[Signal, Signal | None]:
    """Bright/dark tables with no harmonic above ~0.45 fs, so high notes don't alias."""
    headroom = 2.0 ** ((tone.vibrato + tone.drop + tone.detune / 100.0) / 12.0)
    limit = max(1, int(0.45 * sample_rate / (frequency * headroom)))
    bright = _table(tone.bright[:limit])
    dark = _table(tone.dark[:limit]) if tone.dark else None
    return bright, dark


def _indices(
    tone: Tone, frequency: float, count: int, sample_rate: int, cents: float, offset: float
) -> npt.NDArray[np.integer[Any]]:
    """Wavetable read positions for one oscillator."""
    base = frequency * 2.0 ** (cents / 1200.0)
    if tone.vibrato == 0.0 and tone.drop == 0.0:
        return fixed_phase(count, base, sample_rate, offset)
    t = seconds(count, sample_rate)
    semitones = np.zeros(count, dtype=np.float64)
    if tone.vibrato:
        # Vibrato fades in after the attack, as a player's would.
        depth = tone.vibrato * np.clip((t - tone.vibrato_delay) / 0.3, 0.0, 1.0)
        semitones += depth * np.sin(2.0 * np.pi * tone.vibrato_rate * t)
    if tone.drop:
        semitones += tone.drop * np.exp(-t / tone.drop_tau)
    phase = phase_track(base * np.exp2(semitones / 12.0), sample_rate, offset)
    return (phase * TABLE_SIZE).astype(np.int64) & (TABLE_SIZE - 1)


def note(timbre: str, midi: int, held: int, sample_rate: int) -> Signal:
    """One note: shape (n,) for mono timbres, (2, n) for detuned stereo ones.

    ``held`` is the number of samples the key is down; the release rings on after.
    """
    tone = TONES.get(timbre)
    if tone is None:
        raise ValueError(f"unknown timbre {timbre!r}")
    frequency = midi_to_hz(midi)
    count = held + tail_length(tone.release, sample_rate)
    decay_tau = tone.decay
    if tone.key_track:
        decay_tau *= min(2.0, max(0.35, math.sqrt(261.6 / frequency)))
    if tone.sustain == 0.0:
        # A struck sound is silent long before a long-held key is released.
        count = min(count, int(7.0 * decay_tau * sample_rate) + 1)
    count = max(count, 32)
    env = adsr(count, held, sample_rate, tone.attack, decay_tau, tone.sustain, tone.release)
    t = seconds32(count, sample_rate)
    bright, dark = _tables(tone, frequency, sample_rate)
    fade = np.exp(t * np.float32(-1.0 / tone.brightness_tau)) if dark is not None else None

    sides = ((-tone.detune / 2.0, 0.0), (tone.detune / 2.0, 0.37)) if tone.detune else ((0.0, 0.0),)
    channels = []
    for cents, offset in sides:
        index = _indices(tone, frequency, count, sample_rate, cents, offset)
        wave = bright[index]
        if dark is not None and fade is not None:
            dark_wave = dark[index]
            if tone.swell:
                wave = wave + (dark_wave - wave) * fade
            else:
                wave = dark_wave + (wave - dark_wave) * fade
        channels.append(f32(wave))

    extra: Signal | None = None
    for ratio, level, tau in tone.partials:
        if frequency * ratio < 0.45 * sample_rate:
            # Partials die within a fraction of a second: synthesise only that much.
            span = min(count, int(7.0 * tau * sample_rate) + 1)
            ts = t[:span]
            partial = np.sin(ts * np.float32(2.0 * np.pi * frequency * ratio))
            partial *= np.exp(ts * np.float32(-1.0 / tau)) * np.float32(level)
            if extra is None:
                extra = np.zeros(count, dtype=np.float32)
            extra[:span] += partial
    if tone.breath:
        hiss = highpass(noise(count, "breath", timbre, sample_rate), 2500.0, sample_rate)
        extra = (
            hiss * np.float32(tone.breath)
            if extra is None
            else extra + hiss * np.float32(tone.breath)
        )
    shaped = env * np.float32(tone.gain)
    if tone.tremolo:
        wobble = np.sin(t * np.float32(2.0 * np.pi * 5.0))
        shaped *= np.float32(1.0) - np.float32(tone.tremolo) * (
            np.float32(0.5) + np.float32(0.5) * wobble
        )
    out = []
    for wave in channels:
        signal = wave if extra is None else wave + extra
        if tone.drive:
            signal = soft_clip(signal, tone.drive)
        if tone.crush:
            signal = crush(signal, tone.crush)
        out.append(finish(f32(signal * shaped), sample_rate))
    if len(out) == 2:
        return np.stack(out)
    return out[0]
