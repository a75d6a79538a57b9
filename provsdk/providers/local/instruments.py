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
    Voicing,
    adsr,
    crush,
    f32,
    finish,
    fixed_phase,
    harmonic_peak,
    harmonic_table,
    highpass,
    lowpass,
    phase_track,
    seconds,
    seconds32,
    soft_clip,
    tail_length,
    voice,
    voicing_gain,
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
    hammer: float = 0.0  # level of the felt-on-string thump at the attack (piano)
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
        tuple(a * (0.3 if k % 8 == 0 else 1.0) for k, a in enumerate(_saw(36, 0.9), 1)),
        _saw(12, 2.0), 0.18,
        attack=0.001, decay=1.4, sustain=0.0, release=0.3, detune=2.5, key_track=True,
        partials=((2.003, 0.25, 0.6), (3.009, 0.12, 0.35), (4.02, 0.07, 0.2)), hammer=0.18,
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
        tuple(a * (1.6 if 3 <= k <= 6 else 1.0) for k, a in enumerate(_saw(48, 0.9), 1)),
        _saw(30, 1.4), 0.6,
        attack=0.22, decay=1.0, sustain=0.9, release=0.45, detune=14.0,
        vibrato=0.14, vibrato_rate=5.6, vibrato_delay=0.2, breath=0.05, gain=0.8,
    ),
    "contrabass": Tone(
        _saw(30, 1.1), _saw(12, 1.6), 0.4,
        attack=0.09, decay=1.0, sustain=0.9, release=0.3, detune=8.0,
        vibrato=0.08, vibrato_rate=5.0, vibrato_delay=0.3, breath=0.03, gain=1.0,
    ),
    "fiddle": Tone(
        tuple(a * (1.8 if 2 <= k <= 5 else 1.0) for k, a in enumerate(_saw(50, 0.85), 1)),
        attack=0.05, decay=0.8, sustain=0.85, release=0.15,
        vibrato=0.2, vibrato_rate=6.0, vibrato_delay=0.15, breath=0.06, gain=0.6,
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
        _saw(50, 0.85), _saw(40, 2.4), 0.15, swell=True,
        attack=0.05, decay=0.8, sustain=0.85, release=0.15, detune=7.0,
        vibrato=0.07, vibrato_delay=0.4, drive=1.6, gain=0.6,
    ),
}  # fmt: skip


@lru_cache(maxsize=512)
def _table(amplitudes: tuple[float, ...], like: tuple[float, ...] | None = None) -> Signal:
    """The wavetable of ``amplitudes``, peak 1; or, given ``like``, at the level ``like``'s
    table would have had before both were normalised (a voicing keeps its gain)."""
    table = harmonic_table(amplitudes)
    if like is None or like == amplitudes:
        return table
    scale = harmonic_peak(amplitudes) / (harmonic_peak(like) or 1.0)
    scaled = f32(table * np.float32(scale))
    scaled.flags.writeable = False
    return scaled


def _voiced(amplitudes: tuple[float, ...], frequency: float, voicing: Voicing) -> tuple[float, ...]:
    # The style's voicing applied to each harmonic where it sounds: free, as it only
    # changes the table the oscillator reads.
    if not voicing or not amplitudes:
        return amplitudes
    gains = voicing_gain(frequency * np.arange(1, len(amplitudes) + 1), voicing)
    return tuple(round(a * float(g), 5) for a, g in zip(amplitudes, gains, strict=True))


def _tables(
    tone: Tone, frequency: float, sample_rate: int, voicing: Voicing
) -> tuple[Signal, Signal | None]:
    """Bright/dark tables with no harmonic above ~0.45 fs, so high notes don't alias."""
    headroom = 2.0 ** ((tone.vibrato + tone.drop + tone.detune / 100.0) / 12.0)
    limit = max(1, int(0.45 * sample_rate / (frequency * headroom)))
    plain = tone.bright[:limit]
    bright = _table(_voiced(plain, frequency, voicing), plain)
    dark = None
    if tone.dark:
        # Scaled like the bright table, so the fade between them keeps its level.
        dark = _table(_voiced(tone.dark[:limit], frequency, voicing), plain)
    return bright, dark


def _indices(
    tone: Tone, frequency: float, count: int, sample_rate: int, cents: float, offset: float
) -> npt.NDArray[np.integer[Any]]:
    """Wavetable read positions for one oscillator."""
    base = frequency * 2.0 ** (cents / 1200.0)
    carrier = fixed_phase(count, base, sample_rate, offset)
    if tone.vibrato == 0.0 and tone.drop == 0.0:
        return carrier
    # Vibrato and pitch drops move slowly: their phase deviation from the steady
    # carrier is integrated on a grid 32 samples apart and interpolated in between.
    coarse = 32
    t = seconds(count // coarse + 2, sample_rate) * coarse
    semitones = np.zeros(len(t), dtype=np.float64)
    if tone.vibrato:
        # Vibrato fades in after the attack, as a player's would.
        depth = tone.vibrato * np.clip((t - tone.vibrato_delay) / 0.3, 0.0, 1.0)
        semitones += depth * np.sin(2.0 * np.pi * tone.vibrato_rate * t)
    if tone.drop:
        semitones += tone.drop * np.exp(-t / tone.drop_tau)
    deviation = phase_track(base * (np.exp2(semitones / 12.0) - 1.0), sample_rate) * coarse
    deviation = np.concatenate(([0.0], deviation[:-1]))
    cycles = np.interp(
        np.arange(count, dtype=np.float32), np.arange(len(t), dtype=np.float32) * coarse, deviation
    )
    shift = (np.rint(cycles * TABLE_SIZE).astype(np.int64) & (TABLE_SIZE - 1)).astype(np.uint32)
    return (carrier + shift) & np.uint32(TABLE_SIZE - 1)


@lru_cache(maxsize=16)
def _breath(timbre: str, sample_rate: int) -> Signal:
    """Two seconds of the hiss of breath or bow, looped under long notes."""
    hiss = highpass(noise(2 * sample_rate, "breath", timbre, sample_rate), 2500.0, sample_rate)
    hiss.flags.writeable = False
    return hiss


def note(timbre: str, midi: int, held: int, sample_rate: int, voicing: Voicing = ()) -> Signal:
    """One note: shape (n,) for mono timbres, (2, n) for detuned stereo ones.

    ``held`` is the number of samples the key is down; the release rings on after.
    ``voicing`` is the style's equalisation (dsp.VOICING_HZ bands, dB).
    """
    if timbre in STRINGS:
        return voice(plucked(timbre, midi, held, sample_rate), sample_rate, voicing)
    if timbre == "power-guitar":
        return voice(power_chord(midi, held, sample_rate), sample_rate, voicing)
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
    bright, dark = _tables(tone, frequency, sample_rate, voicing)
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
            if voicing:
                level *= float(voicing_gain(frequency * ratio, voicing))
            partial *= np.exp(ts * np.float32(-1.0 / tau)) * np.float32(level)
            if extra is None:
                extra = np.zeros(count, dtype=np.float32)
            extra[:span] += partial
    if tone.breath:
        # Each note reads the loop from its own place: the same hiss restarting on every
        # note would be a frozen texture, its flicker repeating at every gap between notes.
        loop = _breath(timbre, sample_rate)
        hiss = np.resize(np.roll(loop, -((midi * 7919 + held * 104729) % len(loop))), count)
        extra = (
            hiss * np.float32(tone.breath)
            if extra is None
            else extra + hiss * np.float32(tone.breath)
        )
    if tone.hammer:
        span = min(count, int(0.03 * sample_rate))
        thump = highpass(noise(span, "hammer", sample_rate), 1200.0, sample_rate)
        thump = thump * np.exp(t[:span] * np.float32(-1.0 / 0.006)) * np.float32(tone.hammer)
        extra = np.zeros(count, dtype=np.float32) if extra is None else extra
        extra[:span] += thump
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


@dataclass(frozen=True)
class _String:
    """Recipe for a plucked string (Karplus-Strong)."""

    t60: float  # seconds for a note at C3 to fall 60 dB; higher notes ring shorter
    brightness: float  # 0..1, how much treble the pluck puts in
    position: float  # where along the string it is plucked (0..0.5)
    release: float
    gain: float = 1.0
    body: float = 0.0  # level of a low body resonance under the string


STRINGS: dict[str, _String] = {
    "acoustic-guitar": _String(3.0, 0.75, 0.18, 0.12, 1.0, 0.25),
    "banjo": _String(1.1, 0.95, 0.09, 0.08, 0.8),
    "acoustic-bass": _String(2.2, 0.35, 0.22, 0.08, 1.3, 0.3),
    "harp": _String(3.5, 0.55, 0.3, 0.4, 0.9),
}

_MAX_STRING = 3.0  # seconds a plucked note is synthesised for at most


def _loop_taps(fraction: float, loss: float, repeats: int) -> npt.NDArray[np.float64]:
    # One trip round the loop: a two-point average (the string's damping) and a linear
    # fractional delay (the tuning), times the per-trip loss.
    once = np.convolve([0.5, 0.5], [1.0 - fraction, fraction]) * loss
    taps = once
    for _ in range(repeats - 1):
        taps = np.convolve(taps, once)
    return taps


@lru_cache(maxsize=48)  # ~25 MB at 44.1 kHz: a folk song uses a few dozen pitches
def _pluck(timbre: str, midi: int, sample_rate: int) -> Signal:
    """The free vibration of a plucked string, _MAX_STRING seconds long, cached per pitch.

    The delay-line recursion y[n] = taps * y[n - L] is linear, so it can run m trips at
    a time with the taps convolved m times: blocks of m*L samples cost one numpy
    expression each, and no Python loop runs per sample.
    """
    spec = STRINGS[timbre]
    frequency = midi_to_hz(midi)
    period = sample_rate / frequency
    delay = max(2, int(period - 0.5))
    fraction = min(0.999, max(0.0, period - 0.5 - delay))
    t60 = spec.t60 * min(2.0, max(0.3, math.sqrt(130.8 / frequency)))
    loss = 10.0 ** (-3.0 / (t60 * frequency))
    count = int(_MAX_STRING * sample_rate)
    repeats = max(1, -(-256 // delay))
    taps = _loop_taps(fraction, loss, repeats)
    stride = delay * repeats
    width = len(taps)
    # Excitation: a burst of noise one period long, darker for a softer pluck, with the
    # harmonics that have a node at the plucking point cancelled by a comb.
    burst = noise(delay + width, "pluck", timbre, midi, sample_rate).astype(np.float64)
    smooth = max(1, round((1.0 - spec.brightness) * 12))
    if smooth > 1:
        burst = np.convolve(burst, np.ones(smooth) / smooth, mode="same")
    shift = max(1, round(spec.position * delay))
    burst = burst - np.roll(burst, shift)
    burst -= burst.mean()
    y = np.zeros(count + stride + width, dtype=np.float64)
    lead = stride + width
    y[:lead] = np.resize(burst, lead) * np.linspace(1.0, 0.6, lead)
    for start in range(lead, count, stride):
        stop = start + stride
        acc = taps[0] * y[start - stride : stop - stride]
        for j in range(1, width):
            acc += taps[j] * y[start - stride - j : stop - stride - j]
        y[start:stop] = acc
    out = y[:count]
    if spec.body:
        t = seconds(count, sample_rate)
        out = out + spec.body * np.sin(2.0 * np.pi * frequency * t) * np.exp(-t / (0.5 * t60))
    peak = float(np.max(np.abs(out))) or 1.0
    result = f32(out / peak)
    result.flags.writeable = False
    return result


def plucked(timbre: str, midi: int, held: int, sample_rate: int) -> Signal:
    """A plucked-string note: the cached string, damped once the key is let go."""
    spec = STRINGS[timbre]
    wave = _pluck(timbre, midi, sample_rate)
    count = min(len(wave), held + tail_length(spec.release, sample_rate))
    count = max(count, 32)
    env = adsr(count, held, sample_rate, 0.001, 1e6, 1.0, spec.release)
    return finish(f32(wave[:count] * env * np.float32(spec.gain)), sample_rate)


def power_chord(midi: int, held: int, sample_rate: int) -> Signal:
    """Root, fifth and octave through one hard overdrive, then a speaker's roll-off.

    Driving the three together (not each alone) gives the intermodulation growl that
    makes a distorted power chord sound like one; short ``held`` is a palm-muted chug.
    """
    frequency = midi_to_hz(midi)
    release = 0.06
    count = max(32, held + tail_length(release, sample_rate))
    count = min(count, int(4.0 * sample_rate))
    raw = np.zeros(count, dtype=np.float32)
    table = _table(_saw(min(60, int(0.45 * sample_rate / (2.0 * frequency)))))
    for ratio, cents, level in ((1.0, -6.0, 1.0), (1.4983, 5.0, 0.8), (2.0, 3.0, 0.6)):
        index = fixed_phase(count, frequency * ratio * 2 ** (cents / 1200.0), sample_rate)
        raw += table[index] * np.float32(level)
    env = adsr(count, held, sample_rate, 0.002, 0.4, 0.8, release)
    muted = held < int(0.15 * sample_rate)
    driven = soft_clip(f32(raw * np.float32(0.6)), 9.0 if not muted else 6.0)
    cutoff = 5200.0 if not muted else 2600.0
    cab = highpass(lowpass(driven, cutoff, sample_rate, taps=31), 90.0, sample_rate, taps=31)
    return finish(f32(cab * env * np.float32(0.55)), sample_rate)
