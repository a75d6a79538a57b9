"""Small vectorised building blocks: filters for short sounds, envelopes, wavetables."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

Signal = npt.NDArray[np.float32]

_TABLE_BITS = 12
TABLE_SIZE = 1 << _TABLE_BITS  # power of two, so phase wrapping is a bit mask


def f32(values: npt.ArrayLike) -> Signal:
    """View or convert to float32 (the mix is kept in float32 to halve memory traffic)."""
    return np.asarray(values, dtype=np.float32)


def seconds(count: int, sample_rate: int) -> npt.NDArray[np.float64]:
    """Time in seconds of each of ``count`` samples."""
    return np.arange(count, dtype=np.float64) / sample_rate


def seconds32(count: int, sample_rate: int) -> Signal:
    """``seconds`` in float32, for envelopes (half the memory traffic, faster exp)."""
    return np.arange(count, dtype=np.float32) * np.float32(1.0 / sample_rate)


@lru_cache(maxsize=64)
def _sinc_kernel(cutoff_ratio: float, taps: int) -> Signal:
    n = np.arange(taps) - (taps - 1) / 2.0
    kernel = np.sinc(2.0 * cutoff_ratio * n) * np.hanning(taps)
    kernel /= kernel.sum()
    result = f32(kernel)
    result.flags.writeable = False
    return result


def lowpass(signal: Signal, cutoff: float, sample_rate: int, taps: int = 63) -> Signal:
    """Linear-phase FIR low-pass; meant for short sounds that are then cached."""
    ratio = min(cutoff / sample_rate, 0.499)
    return f32(np.convolve(signal, _sinc_kernel(round(ratio, 5), taps), mode="same"))


def highpass(signal: Signal, cutoff: float, sample_rate: int, taps: int = 63) -> Signal:
    """Complement of ``lowpass`` (same delay, so the subtraction lines up)."""
    return f32(signal - lowpass(signal, cutoff, sample_rate, taps))


def decay(count: int, sample_rate: int, tau: float, attack: float = 0.0) -> Signal:
    """Exponential decay with time constant ``tau`` after a linear ``attack``."""
    t = seconds32(count, sample_rate)
    env = np.exp(-np.maximum(t - np.float32(attack), np.float32(0.0)) * np.float32(1.0 / tau))
    if attack > 0.0:
        env *= np.minimum(t * np.float32(1.0 / attack), np.float32(1.0))
    return f32(env)


def adsr(
    count: int,
    held: int,
    sample_rate: int,
    attack: float,
    decay_tau: float,
    sustain: float,
    release: float,
) -> Signal:
    """Attack (linear), decay towards ``sustain`` (exponential), release after ``held`` samples."""
    t = seconds32(count, sample_rate)
    attack = max(attack, 0.002)
    one = np.float32(1.0)
    level = np.float32(sustain)
    after = np.maximum(t - np.float32(attack), np.float32(0.0))
    env = level + (one - level) * np.exp(after * np.float32(-1.0 / decay_tau))
    env = np.minimum(env, t * np.float32(1.0 / attack))
    if held < count:
        level_at_release = env[max(held - 1, 0)]
        tail = t[held:] - t[held]
        env[held:] = level_at_release * np.exp(tail * np.float32(-1.0 / max(release, 0.002)))
    return f32(env)


def finish(signal: Signal, sample_rate: int, remove_dc: bool = True) -> Signal:
    """Make a one-shot safe to drop anywhere: no DC, no click at its end.

    DC is removed with a smooth bump (a parabola, cheap to compute) rather than
    a constant, so the sound still starts and ends at zero.
    """
    out = signal.astype(np.float32, copy=True)
    count = len(out)
    if count == 0:
        return out
    if remove_dc and count > 8:
        offset = float(out.mean(dtype=np.float64))
        if abs(offset) > 1e-5:
            x = np.linspace(0.0, 1.0, count, dtype=np.float32)
            bump = x * (1.0 - x)
            out -= bump * np.float32(offset / float(bump.mean(dtype=np.float64)))
    fade = min(count, max(8, int(0.004 * sample_rate)))
    out[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    out.flags.writeable = False
    return out


def tail_length(release: float, sample_rate: int) -> int:
    """Samples for a release to fall by about 40 dB."""
    return int(4.6 * release * sample_rate)


def _cycle(amplitudes: tuple[float, ...]) -> npt.NDArray[np.float64]:
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
    count = min(len(amplitudes), TABLE_SIZE // 2 - 1)
    spectrum[1 : count + 1] = -0.5j * TABLE_SIZE * np.asarray(amplitudes[:count])
    return np.asarray(np.fft.irfft(spectrum, n=TABLE_SIZE), dtype=np.float64)


def harmonic_peak(amplitudes: tuple[float, ...]) -> float:
    """Peak of one cycle of the waveform ``amplitudes`` make, before normalising."""
    return float(np.max(np.abs(_cycle(amplitudes))))


def harmonic_table(amplitudes: tuple[float, ...]) -> Signal:
    """One cycle of a waveform from sine-harmonic amplitudes (index 0 = fundamental), peak 1."""
    table = _cycle(amplitudes)
    peak = float(np.max(np.abs(table))) or 1.0
    result = f32(table / peak)
    result.flags.writeable = False
    return result


def fixed_phase(
    count: int, frequency: float, sample_rate: int, offset: float = 0.0
) -> npt.NDArray[np.uint32]:
    """Table indices of a constant-frequency oscillator, from a 32-bit phase accumulator.

    Unsigned integer arithmetic wraps exactly at one cycle, so long notes
    don't drift, and it is cheaper than wrapping a floating-point phase.
    """
    step = np.uint32(round(frequency / sample_rate * 2**32) % 2**32)
    start = np.uint32(round(offset * 2**32) % 2**32)
    phase = np.arange(count, dtype=np.uint32) * step + start
    return phase >> np.uint32(32 - _TABLE_BITS)


def phase_track(
    frequency: npt.NDArray[np.float64], sample_rate: int, offset: float = 0.0
) -> npt.NDArray[np.float64]:
    """Phase in cycles of an oscillator whose frequency changes sample by sample."""
    return np.cumsum(frequency) / sample_rate + offset


def soft_clip(signal: Signal, drive: float) -> Signal:
    """tanh saturation normalised so a full-scale input stays full scale."""
    return f32(np.tanh(signal * drive) / np.tanh(drive))


def crush(signal: Signal, levels: int) -> Signal:
    """Amplitude quantisation, the grainy sound of 4-bit game consoles."""
    return f32(np.round(signal * (levels / 2)) / (levels / 2))


# Centres of the five bands a style's voicing sets, in Hz (sub, body, middle, presence, air).
VOICING_HZ = (63.0, 250.0, 1000.0, 4000.0, 12000.0)
Voicing = tuple[float, ...]  # dB per VOICING_HZ band; () is flat


def voicing_gain(frequencies: npt.ArrayLike, voicing: Voicing) -> npt.NDArray[np.float64]:
    """Linear gain of ``voicing`` at ``frequencies``: dB interpolated over log frequency."""
    where = np.log2(np.maximum(np.asarray(frequencies, dtype=np.float64), 1.0))
    # Back to flat by 18 kHz: a lift near Nyquist is only harshness and inter-sample peaks.
    anchors = np.log2((*VOICING_HZ, 18000.0))
    decibels = np.interp(where, anchors, np.asarray((*voicing, 0.0), dtype=np.float64))
    return np.asarray(10.0 ** (decibels / 20.0), dtype=np.float64)


def voice(signal: Signal, sample_rate: int, voicing: Voicing) -> Signal:
    """``signal`` (n,) or (channels, n) equalised by ``voicing``, zero phase, same length.

    Meant for one-shot sounds that are then cached. Silence is padded on both sides so
    the filter's short ringing neither wraps round nor is cut off at the attack. Whatever
    the voicing, everything above 0.46 of the sample rate is faded out: noise and
    distortion put energy there that nobody hears but that peaks between samples, where
    a short true-peak interpolator underestimates it.
    """
    if signal.shape[-1] < 8:
        return signal
    pad = 1024
    count = signal.shape[-1]
    size = 1 << (count + 2 * pad - 1).bit_length()
    widths = [(0, 0)] * (signal.ndim - 1) + [(pad, size - count - pad)]
    spectrum = np.fft.rfft(np.pad(signal, widths), axis=-1)
    frequencies = np.fft.rfftfreq(size, 1.0 / sample_rate)
    gain = voicing_gain(frequencies, voicing) if voicing else np.ones(len(frequencies))
    edge = np.clip((frequencies / sample_rate - 0.40) / 0.06, 0.0, 1.0)
    spectrum *= gain * (0.5 + 0.5 * np.cos(np.pi * edge))
    out = f32(np.fft.irfft(spectrum, n=size, axis=-1)[..., pad : pad + count])
    out.flags.writeable = False
    return out
