"""Drum kits synthesised from sine sweeps, noise and clangorous square waves.

Each hit is a pure function of (kit, piece, sample rate) and is cached, so a
track with a thousand hi-hats synthesises one hi-hat.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .dsp import (
    Signal,
    crush,
    decay,
    f32,
    finish,
    highpass,
    lowpass,
    phase_track,
    seconds,
    soft_clip,
)
from .seeding import noise
from .styles import DRUM_KITS

PIECES = (
    "kick", "snare", "clap", "hat", "open", "ride", "crash", "shaker", "rim",
    "tom1", "tom2", "tom3",
)  # fmt: skip

# Ratios of the six detuned square oscillators of classic analogue cymbals.
_METAL_RATIOS = (1.0, 1.483, 1.806, 2.546, 2.630, 3.897)

# kick: start Hz, end Hz, pitch fall time, amplitude decay, length, click level, drive
_KICKS = {
    "drums": (140.0, 52.0, 0.035, 0.22, 0.45, 0.5, 1.2),
    "electronic-drums": (190.0, 48.0, 0.030, 0.30, 0.55, 0.35, 2.0),
    "808-drums": (125.0, 46.0, 0.040, 0.45, 0.90, 0.25, 1.5),
    "lofi-drums": (120.0, 50.0, 0.030, 0.20, 0.40, 0.30, 1.0),
    "brush-drums": (110.0, 55.0, 0.030, 0.18, 0.35, 0.15, 1.0),
    "chip-drums": (220.0, 55.0, 0.025, 0.12, 0.25, 0.0, 1.0),
    "cinematic-drums": (90.0, 38.0, 0.060, 0.60, 1.30, 0.40, 1.3),
    "metal-drums": (180.0, 58.0, 0.018, 0.14, 0.30, 1.0, 2.4),
}


def _n(length: float, sample_rate: int) -> int:
    return max(16, int(length * sample_rate))


def _sweep(count: int, sample_rate: int, start: float, end: float, fall: float) -> Signal:
    t = seconds(count, sample_rate)
    frequency = end + (start - end) * np.exp(-t / fall)
    return f32(np.sin(2.0 * np.pi * phase_track(frequency, sample_rate)))


def _metal(count: int, sample_rate: int, base: float) -> Signal:
    t = seconds(count, sample_rate)
    out = np.zeros(count, dtype=np.float64)
    for ratio in _METAL_RATIOS:
        out += np.sign(np.sin(2.0 * np.pi * base * ratio * t))
    return f32(out / len(_METAL_RATIOS))


def _grainy(count: int, kit: str, piece: str, sample_rate: int) -> Signal:
    """Noise source: white, or sample-and-hold noise for the chip kit's 'LFSR' sound."""
    if kit == "chip-drums":
        hold = 6
        coarse = noise(count // hold + 1, kit, piece, sample_rate)
        return f32(np.repeat(np.sign(coarse), hold)[:count])
    return noise(count, kit, piece, sample_rate)


def _kick(kit: str, sr: int) -> Signal:
    start, end, fall, tau, length, click, drive = _KICKS[kit]
    count = _n(length, sr)
    body = _sweep(count, sr, start, end, fall) * decay(count, sr, tau, attack=0.001)
    if click > 0.0:
        snap = highpass(_grainy(count, kit, "kick", sr), 1500.0, sr) * decay(count, sr, 0.004)
        body = body + click * snap
    return soft_clip(f32(body), drive) if drive > 1.0 else f32(body)


def _snare(kit: str, sr: int) -> Signal:
    if kit == "brush-drums":
        count = _n(0.45, sr)
        swish = lowpass(_grainy(count, kit, "snare", sr), 6000.0, sr)
        return f32(highpass(swish, 900.0, sr) * decay(count, sr, 0.14, attack=0.012))
    tone_hz, noise_tau, body = {
        "electronic-drums": (195.0, 0.11, 0.45),
        "808-drums": (210.0, 0.14, 0.35),
        "cinematic-drums": (150.0, 0.35, 0.6),
        "chip-drums": (200.0, 0.09, 0.4),
        "metal-drums": (230.0, 0.13, 0.55),
    }.get(kit, (185.0, 0.16, 0.5))
    count = _n(noise_tau * 5.0, sr)
    t = seconds(count, sr)
    tone = np.sin(2 * np.pi * tone_hz * t) + 0.5 * np.sin(2 * np.pi * tone_hz * 1.78 * t)
    tone_part = f32(tone) * decay(count, sr, 0.05)
    rattle = highpass(_grainy(count, kit, "snare", sr), 1200.0, sr) * decay(count, sr, noise_tau)
    out = f32(body * tone_part + 0.9 * rattle)
    if kit == "cinematic-drums":
        out = lowpass(out, 5000.0, sr)
    return out


def _clap(kit: str, sr: int) -> Signal:
    count = _n(0.4, sr)
    t = seconds(count, sr)
    env = np.zeros(count, dtype=np.float64)
    for delay in (0.0, 0.010, 0.021):
        env += np.where(t >= delay, np.exp(-np.maximum(t - delay, 0.0) / 0.004), 0.0)
    env += 0.7 * np.where(t >= 0.031, np.exp(-np.maximum(t - 0.031, 0.0) / 0.11), 0.0)
    band = lowpass(highpass(_grainy(count, kit, "clap", sr), 800.0, sr), 6500.0, sr)
    return f32(band * f32(env))


def _cymbal(kit: str, piece: str, sr: int) -> Signal:
    tau, length, cutoff, metal_mix, base = {
        "hat": (0.035, 0.25, 7000.0, 0.5, 205.0),
        "open": (0.22, 0.9, 6500.0, 0.5, 205.0),
        "ride": (0.55, 2.0, 3500.0, 0.65, 330.0),
        "crash": (0.9, 2.6, 2500.0, 0.35, 270.0),
    }[piece]
    if kit == "brush-drums":
        tau, cutoff = tau * 1.3, cutoff * 0.7
    if kit == "chip-drums":
        tau = tau * 0.7
    cutoff = min(cutoff, 0.4 * sr)
    count = _n(length, sr)
    source = metal_mix * _metal(count, sr, base) + (1.0 - metal_mix) * _grainy(
        count, kit, piece, sr
    )
    attack = 0.002 if piece == "crash" else 0.0
    return f32(highpass(f32(source), cutoff, sr) * decay(count, sr, tau, attack=attack))


def _shaker(kit: str, sr: int) -> Signal:
    count = _n(0.15, sr)
    grains = highpass(_grainy(count, kit, "shaker", sr), min(6000.0, 0.4 * sr), sr)
    return f32(grains * decay(count, sr, 0.035, attack=0.012))


def _rim(kit: str, sr: int) -> Signal:
    count = _n(0.08, sr)
    t = seconds(count, sr)
    ping = np.sin(2 * np.pi * 1700.0 * t) * np.exp(-t / 0.008)
    ping += 0.6 * np.sin(2 * np.pi * 820.0 * t) * np.exp(-t / 0.012)
    snap = highpass(_grainy(count, kit, "rim", sr), 2000.0, sr) * decay(count, sr, 0.004)
    return f32(f32(ping) + 0.5 * snap)


def _tom(kit: str, piece: str, sr: int) -> Signal:
    pitch = {"tom1": 210.0, "tom2": 155.0, "tom3": 112.0}[piece]
    tau = 0.22
    if kit == "cinematic-drums":
        pitch, tau = pitch * 0.6, 0.5  # taiko-like
    count = _n(tau * 4.0, sr)
    body = _sweep(count, sr, pitch * 1.5, pitch, 0.02) * decay(count, sr, tau, attack=0.001)
    skin = highpass(_grainy(count, kit, piece, sr), 1000.0, sr) * decay(count, sr, 0.012)
    return f32(body + 0.35 * skin)


@lru_cache(maxsize=256)
def drum_hit(kit: str, piece: str, sample_rate: int) -> Signal:
    """One hit of ``piece`` from ``kit``, peak 1.0, read-only and cached."""
    if kit not in DRUM_KITS:
        raise ValueError(f"unknown drum kit {kit!r}")
    if piece not in PIECES:
        raise ValueError(f"unknown drum piece {piece!r}")
    if piece == "kick":
        sound = _kick(kit, sample_rate)
    elif piece == "snare":
        sound = _snare(kit, sample_rate)
    elif piece == "clap":
        sound = _clap(kit, sample_rate)
    elif piece in ("hat", "open", "ride", "crash"):
        sound = _cymbal(kit, piece, sample_rate)
    elif piece == "shaker":
        sound = _shaker(kit, sample_rate)
    elif piece == "rim":
        sound = _rim(kit, sample_rate)
    else:
        sound = _tom(kit, piece, sample_rate)
    if kit == "lofi-drums":
        # Dusty sampler character: darker and slightly squashed.
        sound = soft_clip(lowpass(sound, 6000.0, sample_rate), 1.6)
    elif kit == "chip-drums":
        sound = crush(sound, 16)
    peak = float(np.max(np.abs(sound))) or 1.0
    return finish(f32(sound / peak), sample_rate)


TEXTURE_SECONDS = 4.0
TEXTURE_OVERLAP = 0.05


@lru_cache(maxsize=8)
def texture(name: str, sample_rate: int) -> Signal:
    """A four-second loop of background texture; only "vinyl" (hiss and crackle) exists."""
    if name != "vinyl":
        raise ValueError(f"unknown texture {name!r}")
    count = int(TEXTURE_SECONDS * sample_rate)
    hiss = lowpass(noise(count, "vinyl-hiss", sample_rate), 3500.0, sample_rate) * 0.25
    chance = noise(count, "vinyl-dust", sample_rate)
    # About a dozen dust clicks a second, each a tiny decaying burst of random size.
    clicks = np.where(chance > 1.0 - 24.0 / sample_rate, chance * 0.0 + 1.0, 0.0)
    sizes = np.abs(noise(count, "vinyl-size", sample_rate)) ** 2
    impulse = f32(clicks * sizes * np.sign(noise(count, "vinyl-sign", sample_rate)))
    kernel = f32(np.exp(-np.arange(int(0.0015 * sample_rate) + 1) / (0.0004 * sample_rate)))
    crackle = f32(np.convolve(impulse, kernel, mode="same"))
    sound = f32(hiss + highpass(crackle, 700.0, sample_rate))
    # Loops are laid LOOP_OVERLAP apart and cross-fade, so the seams don't click.
    ramp = int(TEXTURE_OVERLAP * sample_rate)
    sound[:ramp] *= np.linspace(0.0, 1.0, ramp, dtype=np.float32)
    sound[-ramp:] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
    peak = float(np.max(np.abs(sound))) or 1.0
    return finish(f32(sound / peak), sample_rate)
