"""The plan the local generator renders, and the limits its inputs must respect."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

GENERATOR_NAME = "provsdk-local"
# Bump whenever the samples produced for the same inputs change: provenance
# manifests record this pair, so a verifier can tell which algorithm made a file.
GENERATOR_VERSION = "2.0"  # the sound changed in 2.0: same prompt and seed, other audio

SAMPLE_RATES = (22050, 32000, 44100, 48000)
MAX_DURATION = 3600.0


@dataclass(frozen=True)
class Section:
    """One part of the arrangement.

    ``start``/``end`` are seconds; ``start_beat``/``end_beat`` are the beat
    grid the arranger works on. The last section ends at the requested
    duration, which need not fall on a beat.
    """

    name: str
    start: float
    end: float
    start_beat: int
    end_beat: int
    energy: float


@dataclass(frozen=True)
class MusicPlan:
    """Everything the renderer needs; the same plan always renders the same samples."""

    prompt: str
    seed: int
    duration: float
    sample_rate: int
    tempo_bpm: float
    key: str
    mode: str
    groove: str
    instruments: tuple[str, ...]
    sections: tuple[Section, ...]
    style: str
    brightness: float = 0.0  # mood words' treble tilt, -1 dark .. +1 bright, on the style's own
    register: int = 0  # octaves the tune and chords sit above (+) or below (-) the style's


def check_prompt(prompt: object) -> str:
    """Return the prompt if usable, else raise."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
    if not prompt.strip():
        raise ValueError("prompt must not be empty")
    return prompt


def check_duration(duration: object) -> float:
    """Return the duration as float seconds if within (0, MAX_DURATION], else raise."""
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise TypeError(f"duration must be a number of seconds, not {type(duration).__name__}")
    value = float(duration)
    if not math.isfinite(value) or value <= 0.0 or value > MAX_DURATION:
        raise ValueError(f"duration must be > 0 and <= {MAX_DURATION:g} seconds, got {duration!r}")
    return value


def _as_int(value: object) -> int | None:
    """Plain or numpy integer as int; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return operator.index(value)
    return None


def check_sample_rate(sample_rate: object) -> int:
    """Return the sample rate if it is one of SAMPLE_RATES, else raise."""
    value = _as_int(sample_rate)
    if value is None or value not in SAMPLE_RATES:
        allowed = ", ".join(str(rate) for rate in SAMPLE_RATES)
        raise ValueError(f"sample_rate must be one of {allowed}, got {sample_rate!r}")
    return value


def check_channels(channels: object) -> int:
    """Return the channel count if it is 1 or 2, else raise."""
    value = _as_int(channels)
    if value is None or value not in (1, 2):
        raise ValueError(f"channels must be 1 (mono) or 2 (stereo), got {channels!r}")
    return value


def check_seed(seed: object) -> int:
    """Return the seed as a plain int; any integer (numpy ones included) is accepted."""
    value = _as_int(seed)
    if value is None:
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    return value
