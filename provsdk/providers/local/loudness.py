"""Loudness after ITU-R BS.1770-4 (K-weighting, 400 ms blocks, absolute and relative gates)
and a 4x-oversampled true-peak estimate, in numpy alone.

K-weighting is applied in the frequency domain: loudness only needs the power of each
block, and the power of a filtered signal is its spectrum times the filter's squared
magnitude, so neither phase nor a per-sample IIR loop (slow in numpy) is needed. The
spans measured are seconds long and the K filters ring for milliseconds, so wrapping at
the span's ends moves the result by far less than 0.1 LU.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

BLOCK_SECONDS = 0.4
STEP_SECONDS = 0.1
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
_OFFSET = -0.691


def _biquad_power(
    b: tuple[float, float, float], a: tuple[float, float, float], w: Floats
) -> Floats:
    z1 = np.exp(-1j * w)
    z2 = z1 * z1
    numerator = b[0] + b[1] * z1 + b[2] * z2
    denominator = a[0] + a[1] * z1 + a[2] * z2
    return np.asarray(np.abs(numerator / denominator) ** 2, dtype=np.float64)


def k_weighting_power(frequencies: Floats, sample_rate: int) -> Floats:
    """|H(f)|^2 of the K-weighting cascade (high shelf then high pass) at ``sample_rate``.

    The two stages are designed from their analogue prototypes for any rate, so 44.1 kHz
    gets the curve 48 kHz has in the standard.
    """
    w = 2.0 * np.pi * frequencies / sample_rate
    # Stage 1: +4 dB high shelf around 1.68 kHz (the head's acoustic effect).
    gain_db, centre, q = 3.99984385397, 1681.97445095, 0.7071752369554193
    k = math.tan(math.pi * centre / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = (
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    )
    shelf_a = (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0)
    # Stage 2: second-order high pass at 38 Hz (the RLB curve).
    centre, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * centre / sample_rate)
    a0 = 1.0 + k / q + k * k
    pass_b = (1.0, -2.0, 1.0)
    pass_a = (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0)
    return _biquad_power(shelf_b, shelf_a, w) * _biquad_power(pass_b, pass_a, w)


def _fast_length(minimum: int) -> int:
    """Smallest 2^a * 3^b * 5^c >= ``minimum``: FFTs of such lengths are quick."""
    best = 1 << (minimum - 1).bit_length()
    five = 1
    while five < best:
        three = five
        while three < best:
            candidate = three << max(0, (-(-minimum // three) - 1).bit_length())
            best = min(best, candidate)
            three *= 3
        five *= 5
    return best


@lru_cache(maxsize=16)
def _k_gain(size: int, sample_rate: int) -> Floats:
    frequencies = np.asarray(np.fft.rfftfreq(size, 1.0 / sample_rate), dtype=np.float64)
    gain = np.sqrt(k_weighting_power(frequencies, sample_rate))
    gain.flags.writeable = False
    return gain


def segment_power(signal: npt.NDArray[np.floating], sample_rate: int) -> Floats:
    """Sum over channels of the K-weighted energy of each whole 100 ms step of ``signal``.

    ``signal`` has shape (channels, n). Each channel weighs 1 (left, right or mono).
    """
    step = round(STEP_SECONDS * sample_rate)
    count = signal.shape[1] // step
    if count == 0:
        return np.zeros(0)
    used = count * step
    size = _fast_length(used + 2048)  # silence after the span takes the filters' ringing
    spectrum = np.fft.rfft(np.asarray(signal[:, :used], dtype=np.float64), n=size, axis=1)
    spectrum *= _k_gain(size, sample_rate)
    weighted = np.fft.irfft(spectrum, n=size, axis=1)[:, :used]
    return np.asarray(
        np.square(weighted).reshape(signal.shape[0], count, step).sum(axis=(0, 2)), dtype=np.float64
    )


def block_power(segments: Floats, sample_rate: int) -> Floats:
    """Mean-square K-weighted power of each 400 ms block (75% overlap) from 100 ms steps."""
    per = round(BLOCK_SECONDS / STEP_SECONDS)
    if len(segments) < per:
        return np.zeros(0)
    sums = np.convolve(segments, np.ones(per), mode="valid")
    return np.asarray(sums / (per * round(STEP_SECONDS * sample_rate)), dtype=np.float64)


def _lufs(power: float) -> float:
    return _OFFSET + 10.0 * math.log10(power) if power > 0.0 else -math.inf


def gated_loudness(blocks: Floats, weights: Floats | None = None) -> float:
    """Integrated loudness (LUFS) of block powers.

    ``weights`` say how much of the track each block stands for (all 1 when measured whole).
    """
    if weights is None:
        weights = np.ones_like(blocks)
    with np.errstate(divide="ignore"):
        levels = _OFFSET + 10.0 * np.log10(np.maximum(blocks, 1e-30))
    keep = levels > ABSOLUTE_GATE
    if not keep.any():
        return -math.inf
    mean = float(np.average(blocks[keep], weights=weights[keep]))
    keep &= levels > _lufs(mean) + RELATIVE_GATE
    if not keep.any():
        return -math.inf
    return _lufs(float(np.average(blocks[keep], weights=weights[keep])))


def integrated_loudness(signal: npt.NDArray[np.floating], sample_rate: int) -> float:
    """Integrated loudness in LUFS of ``signal`` (channels, n) held in memory at once."""
    return gated_loudness(block_power(segment_power(signal, sample_rate), sample_rate))


# Kaiser-windowed sinc interpolator for 4x oversampling: 3 in-between phases x 16 taps.
_PHASES = 4
_TAPS = 16
_BETA = 4.0


def _interpolator() -> npt.NDArray[np.float32]:
    half = _TAPS // 2
    rows = []
    for phase in range(1, _PHASES):
        frac = phase / _PHASES
        n = np.arange(-half + 1, half + 1) - frac
        window = np.i0(_BETA * np.sqrt(np.clip(1.0 - (n / (half + 0.5)) ** 2, 0.0, 1.0))) / np.i0(
            _BETA
        )
        rows.append(np.sinc(n) * window)
    return np.asarray(rows, dtype=np.float32)


_KERNEL = _interpolator()


def true_peak_blocks(
    signal: npt.NDArray[np.float32], block: int, floor: float = 0.0, limit: float = 0.0
) -> npt.NDArray[np.float32]:
    """Per ``block`` samples, the largest magnitude of ``signal`` (channels, n) sampled 4x.

    n must be a multiple of ``block``. Only blocks whose sample peak exceeds ``floor`` are
    interpolated (4x oversampling raises a peak by a few dB at most, so a quiet block
    cannot be the one that overshoots); the others report their sample peak. With a
    ``limit`` (a limiter's ceiling), the midpoints between samples are computed first
    and the quarter points only where a block comes within 1 dB of ``limit``: below it
    the exact value does not matter. Points past the ends are taken as silence.
    """
    channels, length = signal.shape
    peak = np.abs(signal).reshape(channels, -1, block).max(axis=(0, 2))
    candidates = np.flatnonzero(peak > floor)
    if not len(candidates):
        return np.asarray(peak, dtype=np.float32)
    half = _TAPS // 2
    padded = np.zeros((channels, length + _TAPS), dtype=np.float32)
    padded[:, half - 1 : half - 1 + length] = signal
    # For each candidate block, the samples it spans plus the taps either side.
    index = candidates[:, None] * block + np.arange(block + _TAPS - 1)[None, :]
    windows = padded[:, index]  # (channels, candidates, block + taps - 1)
    out = peak.astype(np.float32)
    middle = _PHASES // 2 - 1  # the phase half-way between samples
    phases = [middle] + [p for p in range(_PHASES - 1) if p != middle]
    for order, phase in enumerate(phases):
        if order == 1 and limit:
            near = out[candidates] > limit * 10.0 ** (-1.0 / 20.0)
            candidates, windows = candidates[near], windows[:, near]
            if not len(candidates):
                break
        between = np.zeros((channels, len(candidates), block), dtype=np.float32)
        for tap in range(_TAPS):
            between += _KERNEL[phase, tap] * windows[:, :, tap : tap + block]
        out[candidates] = np.maximum(out[candidates], np.abs(between).max(axis=(0, 2)))
    return np.asarray(out, dtype=np.float32)


def true_peak(signal: npt.NDArray[np.floating]) -> float:
    """Largest 4x-oversampled magnitude of ``signal`` (channels, n), as a linear value."""
    data = np.asarray(signal, dtype=np.float32)
    length = data.shape[1]
    if length == 0:
        return 0.0
    padded = np.zeros((data.shape[0], -(-length // 256) * 256), dtype=np.float32)
    padded[:, :length] = data
    return float(true_peak_blocks(padded, 256).max())
