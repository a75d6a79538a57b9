"""Mixing and mastering: place every note's samples, set the level, limit, quantise.

The mix is rendered in chunks of a few seconds, each handed out as int16 as soon
as it is done (``render_blocks``), so the samples of the whole track never
exist at once. What stays alive is the score (about 200 bytes a note, 10-20
MB for an hour) and one synthesised wave per distinct note (the vocabulary of
the piece, tens of MB, the same after two minutes as after an hour). The
limiter works on fixed 256-sample blocks aligned to the start of the track
and looks a few blocks either side, so chunk boundaries never change a sample.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from .arrange import Score, build_score
from .drums import drum_hit, texture
from .dsp import Signal, Voicing, f32, voice
from .instruments import note
from .loudness import (
    STEP_SECONDS,
    block_power,
    gated_loudness,
    segment_power,
    true_peak_blocks,
)
from .plan import (
    MusicPlan,
    check_channels,
    check_duration,
    check_prompt,
    check_sample_rate,
    check_seed,
)
from .prompt import plan_track

# True-peak ceiling: -1 dBTP, less a margin for what the short interpolator misses on
# material with much energy near Nyquist (measured against ideal 4x: up to ~0.3 dB).
CEILING = 10.0 ** (-1.5 / 20.0)
TARGET_LUFS = -14.0  # what the streaming platforms normalise to
# Blocks whose sample peak is this far under the ceiling cannot overshoot it between samples.
_OVERSHOOT = 10.0 ** (-4.0 / 20.0)
BLOCK = 256
SMOOTHING = 4  # limiter smoothing radius, in blocks (~23 ms at 44.1 kHz)
CHUNK = 512 * BLOCK  # ~3 s at 44.1 kHz: small enough to stay in cache
MARGIN = (3 * SMOOTHING + 2) * BLOCK  # every block the limiter looks at for a chunk


class _Events:
    """The score as flat arrays: where each sound starts, which wave, how loud per side."""

    def __init__(self, score: Score, sample_rate: int, total: int) -> None:
        waves: list[Signal] = []
        index_of: dict[tuple[str, int, int], int] = {}
        starts: list[int] = []
        ids: list[int] = []
        left: list[float] = []
        right: list[float] = []
        for event in score.notes:
            start = round(event.time * sample_rate)
            if start >= total or event.velocity <= 0.0:
                continue
            if "/" in event.voice:
                key = (event.voice, 0, 0)
            else:
                held = max(1, min(round(event.length * sample_rate), total - start))
                key = (event.voice, event.pitch, held)
            wave_id = index_of.get(key)
            if wave_id is None:
                wave_id = len(waves)
                index_of[key] = wave_id
                waves.append(_synthesise(key, sample_rate, score.voicing))
            # Constant-power pan law.
            angle = (min(1.0, max(-1.0, event.pan)) + 1.0) * math.pi / 4.0
            starts.append(start)
            ids.append(wave_id)
            left.append(event.velocity * math.cos(angle) * math.sqrt(2.0))
            right.append(event.velocity * math.sin(angle) * math.sqrt(2.0))
        self.waves = waves
        self.starts = np.asarray(starts, dtype=np.int64)
        self.ids = np.asarray(ids, dtype=np.int64)
        lengths = np.asarray([waves[i].shape[-1] for i in ids], dtype=np.int64)
        self.ends = np.minimum(self.starts + lengths, total)
        self.left = left
        self.right = right

    def mix(self, first: int, stop: int) -> npt.NDArray[np.float32]:
        """Sum of all sounds over samples [first, stop), shape (2, stop - first)."""
        out = np.zeros((2, stop - first), dtype=np.float32)
        if not len(self.starts):
            return out
        active = np.flatnonzero((self.starts < stop) & (self.ends > first))
        for i in active.tolist():
            start = int(self.starts[i])
            low = max(first, start)
            high = min(stop, int(self.ends[i]))
            wave = self.waves[int(self.ids[i])]
            src = slice(low - start, high - start)
            dst = slice(low - first, high - first)
            if wave.ndim == 2:
                out[0, dst] += wave[0, src] * self.left[i]
                out[1, dst] += wave[1, src] * self.right[i]
            else:
                part = wave[src]
                out[0, dst] += part * self.left[i]
                out[1, dst] += part * self.right[i]
        return out


def _synthesise(key: tuple[str, int, int], sample_rate: int, voicing: Voicing) -> Signal:
    name, pitch, held = key
    if "/" in name:
        kit, piece = name.split("/", 1)
        if kit == "texture":
            return texture(piece, sample_rate)
        return voice(drum_hit(kit, piece, sample_rate), sample_rate, voicing)
    return note(name, pitch, held, sample_rate, voicing)


def _automation(first: int, stop: int, total: int, fade_in: int, fade_out: int) -> Signal | None:
    """Fade-in/out gain for samples [first, stop), or None where there is no fade.

    The linear ramp is squared, which sounds more even than a linear fade.
    """
    fade_out_start = total - fade_out
    if first >= fade_in and stop <= fade_out_start:
        return None
    position = np.arange(first, stop, dtype=np.float64)
    rising = np.clip(position / max(fade_in, 1), 0.0, 1.0)
    falling = np.clip((total - position) / max(fade_out, 1), 0.0, 1.0)
    gain = np.minimum(rising, falling)
    return (gain * gain).astype(np.float32)


def _block_peaks(
    region: npt.NDArray[np.float32], floor: float, limit: float = CEILING
) -> npt.NDArray[np.float64]:
    """True peak of each BLOCK of ``region`` (the last one padded with silence).

    Exact only where it matters to a limiter at ``limit``: see true_peak_blocks.
    """
    length = region.shape[1]
    blocks = -(-length // BLOCK)
    padded = np.zeros((region.shape[0], blocks * BLOCK), dtype=np.float32)
    padded[:, :length] = region
    return true_peak_blocks(padded, BLOCK, floor, limit).astype(np.float64)


def _block_gains(peaks: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """Limiter gain at each block centre for blocks peaking at ``peaks``; None: no limiting.

    Per block: the gain that block needs; a minimum over +-2R blocks then a moving
    average over +-R blocks (R = SMOOTHING) gives gain changes tens of milliseconds
    long, and every block still gets at most the gain it needs, because each averaged
    value only mixes minima whose windows cover it.
    """
    if float(peaks.max()) <= CEILING:
        return None  # nothing to do: the common case
    needed = np.minimum(1.0, CEILING / np.maximum(peaks, 1e-9))
    reach = 2 * SMOOTHING
    edged = np.pad(needed, reach, mode="edge")
    held = edged[: len(needed)].copy()
    for shift in range(1, 2 * reach + 1):
        np.minimum(held, edged[shift : shift + len(needed)], out=held)
    sums = np.concatenate(([0.0], np.cumsum(np.pad(held, SMOOTHING, mode="edge"))))
    width = 2 * SMOOTHING + 1
    return np.asarray((sums[width:] - sums[:-width]) / width, dtype=np.float64)


def _gain_between(
    smooth: npt.NDArray[np.float64], region_start: int, first: int, stop: int
) -> npt.NDArray[np.float32]:
    """Block-centre gains interpolated to every sample of [first, stop)."""
    centres = region_start + np.arange(len(smooth)) * BLOCK + BLOCK / 2.0
    return np.interp(np.arange(first, stop, dtype=np.float64), centres, smooth).astype(np.float32)


def _limit(
    region: npt.NDArray[np.float32], region_start: int, first: int, stop: int
) -> npt.NDArray[np.float32]:
    """Look-ahead true-peak limiter at CEILING for samples [first, stop) of ``region``.

    Block peaks are 4x oversampled, so the peaks between samples stay under the
    ceiling too. The result depends only on blocks near a sample, so chunking never
    changes the output.
    """
    part = region[:, first - region_start : stop - region_start]
    smooth = _block_gains(_block_peaks(region, CEILING * _OVERSHOOT))
    if smooth is None:
        return part
    gain = _gain_between(smooth, region_start, first, stop)
    return f32(np.clip(part * gain, -CEILING, CEILING))


def _fold(region: npt.NDArray[np.float32], channels: int) -> npt.NDArray[np.float32]:
    """The mix as the output's channels: mono is folded down before it is mastered."""
    return region.mean(axis=0, keepdims=True) if channels == 1 else region


def _master_gain(events: _Events, score: Score, plan: MusicPlan, channels: int) -> float:
    """The gain that puts the finished track at TARGET_LUFS integrated.

    Mono is the stereo mix folded down and then mastered on its own: BS.1770 weighs one
    channel 3 dB under two carrying the same signal, so the stereo master's gain would
    leave a mono file 3-6 LU short.

    Measured on the score's reference spans (the whole of a short track), faded as the
    stream will be, each span's blocks weighted by the share of the track it stands
    for. The limiter takes some loudness back: its gain moves slowly (tens of ms), so
    the K-weighted power of a limited 100 ms step is the unlimited power times the
    mean square of the limiter's gain there, and true peaks scale with the gain; so one
    measurement of power and peaks serves every gain tried until the level settles.
    """
    sample_rate = plan.sample_rate
    total = frame_count(plan)
    fade_in = round(score.fade_in * sample_rate)
    fade_out = round(score.fade_out * sample_rate)
    step = round(STEP_SECONDS * sample_rate)
    spans = []
    for start, end, weight in score.reference:
        # On the stream's block grid, so the limiter sees the blocks it will see then.
        first = min(total - 1, round(start * sample_rate)) // BLOCK * BLOCK
        stop = max(first + 1, min(total, round(end * sample_rate)))
        region_start = max(0, first - MARGIN)
        region_stop = min(total, stop + MARGIN)
        region = _fold(events.mix(region_start, region_stop), channels)
        fades = _automation(region_start, region_stop, total, fade_in, fade_out)
        if fades is not None:
            region *= fades
        part = region[:, first - region_start : stop - region_start]
        segments = segment_power(part, sample_rate)
        spans.append((region, region_start, first, stop, weight, segments))

    def loudness(gain: float, peaks: list[npt.NDArray[np.float64]] | None) -> float:
        powers, weights = [], []
        for index, (_, region_start, first, stop, weight, segments) in enumerate(spans):
            scaled = segments * gain * gain
            smooth = None if peaks is None else _block_gains(peaks[index] * gain)
            if smooth is not None and len(segments):
                squared = np.square(
                    _gain_between(smooth, region_start, first, stop), dtype=np.float64
                )
                scaled = scaled * squared[: len(segments) * step].reshape(-1, step).mean(axis=1)
            blocks = block_power(scaled, sample_rate)
            powers.append(blocks)
            weights.append(np.full(len(blocks), weight))
        if not any(len(p) for p in powers):
            return -math.inf
        return gated_loudness(np.concatenate(powers), np.concatenate(weights))

    measured = loudness(1.0, None)
    if not math.isfinite(measured):
        return 1.0  # silence, or too short to measure: leave the level alone
    gain = 10.0 ** ((TARGET_LUFS - measured) / 20.0)
    # Blocks this far down cannot reach the ceiling at up to four times the first guess.
    floor = CEILING * _OVERSHOOT / (4.0 * gain)
    # Measured at unit gain, so exact wherever a gain up to 4x the guess makes them matter.
    peaks = [_block_peaks(span[0], floor, CEILING / (4.0 * gain)) for span in spans]
    for _ in range(8):
        measured = loudness(gain, peaks)
        if not math.isfinite(measured) or abs(measured - TARGET_LUFS) < 0.05:
            break
        gain *= 10.0 ** ((TARGET_LUFS - measured) / 20.0)
    return float(gain)


def _check_plan(plan: MusicPlan) -> None:
    check_prompt(plan.prompt)
    check_seed(plan.seed)
    check_duration(plan.duration)
    check_sample_rate(plan.sample_rate)
    if not math.isfinite(plan.tempo_bpm) or not 20.0 <= plan.tempo_bpm <= 400.0:
        raise ValueError(f"tempo_bpm must be within 20..400, got {plan.tempo_bpm!r}")


def frame_count(plan: MusicPlan) -> int:
    """How many frames ``plan`` renders to: round(duration * sample_rate)."""
    return round(plan.duration * plan.sample_rate)


def render_blocks(plan: MusicPlan, *, channels: int = 2) -> Iterator[npt.NDArray[np.int16]]:
    """Render ``plan`` as int16 blocks of shape (CHUNK or fewer frames, channels), in order.

    The plan and ``channels`` are checked, and the score built, before this returns, so a
    bad plan raises here and not while the blocks are read. The blocks join up to exactly
    what :func:`render_plan` returns; only one chunk of samples is alive at a time.
    """
    channels = check_channels(channels)
    _check_plan(plan)
    total = frame_count(plan)
    if total == 0:
        return iter(())
    return _chunks(plan, build_score(plan), channels, total)


def _chunks(
    plan: MusicPlan, score: Score, channels: int, total: int
) -> Iterator[npt.NDArray[np.int16]]:
    sample_rate = plan.sample_rate
    events = _Events(score, sample_rate, total)
    gain = np.float32(_master_gain(events, score, plan, channels))
    fade_in = round(score.fade_in * sample_rate)
    fade_out = round(score.fade_out * sample_rate)
    for first in range(0, total, CHUNK):
        stop = min(total, first + CHUNK)
        region_start = max(0, first - MARGIN)
        region_stop = min(total, stop + MARGIN)
        region = _fold(events.mix(region_start, region_stop), channels)
        region *= gain
        fades = _automation(region_start, region_stop, total, fade_in, fade_out)
        if fades is not None:
            region *= fades
        block = _limit(region, region_start, first, stop)
        yield np.rint(block.T * 32767.0).astype(np.int16)
    del events, region, block
    _return_freed_memory()


def _return_freed_memory() -> None:
    """Hand the heap the render freed back to the system, where the C library allows it.

    The waves are many arrays of a few hundred KB, which glibc keeps in its heap once freed
    rather than unmapping; without this an hour's render left ~90 MB resident under the
    signing and verifying that follow, and their peaks stacked on it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # a C library without it (musl): nothing to do
        return
    trim(0)


def render_plan(plan: MusicPlan, *, channels: int = 2) -> npt.NDArray[np.int16]:
    """Render ``plan`` to int16 samples of shape (frames, channels).

    frames == round(duration * sample_rate). Peaks stay at or below -1 dBFS.
    The output is a pure function of the plan and ``channels``.
    """
    blocks = render_blocks(plan, channels=channels)
    output = np.zeros((frame_count(plan), check_channels(channels)), dtype=np.int16)
    at = 0
    for block in blocks:
        output[at : at + len(block)] = block
        at += len(block)
    return output


def render_track(
    prompt: str,
    *,
    seed: int,
    duration: float,
    sample_rate: int = 44100,
    channels: int = 2,
) -> tuple[npt.NDArray[np.int16], MusicPlan]:
    """Plan and render in one call; returns (samples, plan)."""
    channels = check_channels(channels)
    plan = plan_track(prompt, seed=seed, duration=duration, sample_rate=sample_rate)
    return render_plan(plan, channels=channels), plan
