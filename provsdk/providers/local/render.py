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
from .dsp import Signal, f32
from .instruments import note
from .plan import (
    MusicPlan,
    check_channels,
    check_duration,
    check_prompt,
    check_sample_rate,
    check_seed,
)
from .prompt import plan_track

CEILING = 10.0 ** (-1.0 / 20.0)  # -1 dBFS
TARGET_RMS = 10.0 ** (-15.0 / 20.0)
MAX_LIMITING = 10.0 ** (5.0 / 20.0)  # never ask the limiter for more than ~5 dB
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
                waves.append(_synthesise(key, sample_rate))
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


def _synthesise(key: tuple[str, int, int], sample_rate: int) -> Signal:
    voice, pitch, held = key
    if "/" in voice:
        kit, piece = voice.split("/", 1)
        return (
            texture(piece, sample_rate) if kit == "texture" else drum_hit(kit, piece, sample_rate)
        )
    return note(voice, pitch, held, sample_rate)


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


def _limit(
    region: npt.NDArray[np.float32], region_start: int, first: int, stop: int
) -> npt.NDArray[np.float32]:
    """Look-ahead peak limiter at CEILING for samples [first, stop) of ``region``.

    Per 256-sample block: the gain that block needs; a minimum over +-2R blocks
    then a moving average over +-R blocks (R = SMOOTHING) gives gain changes
    tens of milliseconds long, and every block still gets at most the gain it
    needs, because each averaged value only mixes minima whose windows cover
    it. Gains are interpolated between block centres. The result depends
    only on blocks near a sample, so chunking never changes the output.
    """
    part = region[:, first - region_start : stop - region_start]
    length = region.shape[1]
    blocks = -(-length // BLOCK)
    padded = np.zeros((2, blocks * BLOCK), dtype=np.float32)
    padded[:, :length] = np.abs(region)
    peaks = padded.reshape(2, blocks, BLOCK).max(axis=(0, 2))
    if float(peaks.max()) <= CEILING:
        return part  # nothing to do: the common case
    needed = np.minimum(1.0, CEILING / np.maximum(peaks.astype(np.float64), 1e-9))
    reach = 2 * SMOOTHING
    edged = np.pad(needed, reach, mode="edge")
    held = edged[: len(needed)].copy()
    for shift in range(1, 2 * reach + 1):
        np.minimum(held, edged[shift : shift + len(needed)], out=held)
    sums = np.concatenate(([0.0], np.cumsum(np.pad(held, SMOOTHING, mode="edge"))))
    width = 2 * SMOOTHING + 1
    smooth = (sums[width:] - sums[:-width]) / width
    centres = region_start + np.arange(blocks) * BLOCK + BLOCK / 2.0
    gain = np.interp(np.arange(first, stop, dtype=np.float64), centres, smooth).astype(np.float32)
    return f32(np.clip(part * gain, -CEILING, CEILING))


def _master_gain(events: _Events, score: Score, sample_rate: int, total: int) -> float:
    first = min(total - 1, round(score.reference[0] * sample_rate))
    stop = max(first + 1, min(total, round(score.reference[1] * sample_rate)))
    probe = events.mix(first, stop)
    rms = float(np.sqrt(np.mean(np.square(probe, dtype=np.float64))))
    peak = float(np.max(np.abs(probe))) if probe.size else 0.0
    if rms < 1e-7 or peak < 1e-7:
        return 1.0
    return min(TARGET_RMS / rms, MAX_LIMITING * CEILING / peak)


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
    gain = np.float32(_master_gain(events, score, sample_rate, total))
    fade_in = round(score.fade_in * sample_rate)
    fade_out = round(score.fade_out * sample_rate)
    for first in range(0, total, CHUNK):
        stop = min(total, first + CHUNK)
        region_start = max(0, first - MARGIN)
        region_stop = min(total, stop + MARGIN)
        region = events.mix(region_start, region_stop)
        region *= gain
        fades = _automation(region_start, region_stop, total, fade_in, fade_out)
        if fades is not None:
            region *= fades
        block = _limit(region, region_start, first, stop)
        if channels == 1:
            block = block.mean(axis=0, keepdims=True)
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
