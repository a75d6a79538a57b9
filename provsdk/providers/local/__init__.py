"""The built-in "local" generator: deterministic procedural music in pure numpy.

A prompt becomes a :class:`MusicPlan` (style, tempo, key, mode, groove,
instruments, sections) with :func:`plan_track`; :func:`render_plan` turns the
plan into int16 PCM, and :func:`render_blocks` hands out the same samples a
chunk at a time, for tracks too long to hold at once. The same prompt, seed,
duration, sample rate and channel count always give byte-identical samples.
"""

from __future__ import annotations

from .plan import GENERATOR_NAME, GENERATOR_VERSION, MusicPlan, Section
from .prompt import plan_track
from .render import frame_count, render_blocks, render_plan, render_track

__all__ = [
    "GENERATOR_NAME",
    "GENERATOR_VERSION",
    "MusicPlan",
    "Section",
    "frame_count",
    "plan_track",
    "render_blocks",
    "render_plan",
    "render_track",
]
