"""Melodies: a one-bar rhythm motif, varied and repeated in 2- or 4-bar phrases,
with pitches that step along the scale under an arch-shaped contour, land on
chord tones on strong beats and resolve each phrase on a chord tone (the root
at the end of an answering phrase).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .seeding import Dice
from .theory import Chord, Scale

BAR = 16
# How likely a melody note starts on each sixteenth of the bar, before density scaling.
_STEP_WEIGHT = (
    1.0, 0.08, 0.45, 0.12,  0.8, 0.08, 0.45, 0.12,  0.9, 0.08, 0.45, 0.12,  0.7, 0.08, 0.45, 0.15,
)  # fmt: skip
_INTERVAL_WEIGHT = {0: 0.3, 1: 1.0, 2: 0.6, 3: 0.25, 4: 0.15}
LOWEST, HIGHEST = -4, 11  # scale degrees around the lead's tonic

Cell = tuple[tuple[int, int], ...]  # (step in bar, length in steps)


@dataclass(frozen=True)
class MelodyNote:
    step: int  # absolute sixteenth
    length: int
    degree: int  # scale degree relative to the lead's tonic
    velocity: float


def _lengths(dice: Dice, onsets: list[int]) -> Cell:
    cell = []
    for index, step in enumerate(onsets):
        following = onsets[index + 1] if index + 1 < len(onsets) else BAR
        gap = following - step
        # Long gaps become a held note plus a breath rather than one very long note.
        length = gap if gap <= 4 else min(gap, 3 + dice.below(4))
        cell.append((step, length))
    return tuple(cell)


def _rhythm(dice: Dice, density: float, offbeat: float = 1.0) -> Cell:
    scale = 0.35 + 1.1 * density
    weights = [w if s % 4 == 0 else w * offbeat for s, w in enumerate(_STEP_WEIGHT)]
    onsets = [s for s, w in enumerate(weights) if dice.chance(min(0.95, w * scale))]
    if len(onsets) < 2:
        onsets = sorted(set(onsets) | {0, 8})
    return _lengths(dice, onsets)


def _vary(dice: Dice, cell: Cell, offbeat: float = 1.0) -> Cell:
    """Same motif with a few off-beat notes added or dropped."""
    onsets = {step for step, _ in cell}
    for step in range(1, BAR):
        if step % 4 and dice.chance(0.18 * offbeat):
            onsets ^= {step}
    if len(onsets) < 2:
        onsets |= {0, 8}
    return _lengths(dice, sorted(onsets))


def _cadence(cell: Cell) -> Cell:
    """The motif's first half, then a note held through most of the bar."""
    head = [(step, min(length, 8 - step)) for step, length in cell if step < 8]
    return (*head, (8, 7))


def _nearest_degree(scale: Scale, degree: int, pcs: tuple[int, ...]) -> int:
    for distance in range(8):
        for candidate in (degree - distance, degree + distance):
            if LOWEST <= candidate <= HIGHEST and scale.degree_pc(candidate) in pcs:
                return candidate
    return degree


def _next_degree(
    dice: Dice,
    scale: Scale,
    current: int,
    target: float,
    chord: Chord,
    strong: bool,
    last_move: int,
) -> int:
    options: list[int] = []
    weights: list[float] = []
    for move in range(-4, 5):
        candidate = current + move
        if not LOWEST <= candidate <= HIGHEST:
            continue
        weight = _INTERVAL_WEIGHT[abs(move)] * math.exp(-abs(candidate - target) / 2.0)
        if strong and scale.degree_pc(candidate) not in chord.tones:
            weight *= 0.12
        if abs(last_move) >= 3 and move * last_move > 0:
            weight *= 0.3  # after a leap, turn back
        options.append(candidate)
        weights.append(weight)
    return dice.pick(options, weights)


def write_melody(
    dice: Dice,
    scale: Scale,
    chord_at: Callable[[int], Chord],
    start: int,
    end: int,
    density: float,
    lift: int,
    offbeat: float = 1.0,
) -> list[MelodyNote]:
    """A melody for the sixteenths [start, end), over the chords ``chord_at`` reports.

    ``offbeat`` scales how often notes start between beats: a slow song's tune moves
    mostly on the beat, so the beat, not its eighths, is the pulse one hears.
    """
    bars = max(1, math.ceil((end - start) / BAR))
    phrase_bars = 4 if bars >= 4 else 2 if bars >= 2 else 1
    layout = {4: ("a", "b", "a", "end"), 2: ("a", "end"), 1: ("end",)}[phrase_bars]
    cell_a = _rhythm(dice, density, offbeat)
    cells = {"a": cell_a, "b": _vary(dice, cell_a, offbeat), "end": _cadence(cell_a)}
    remembered: dict[str, list[int]] = {}
    degree = dice.pick((0, 2, 4)) + lift
    last_move = 0
    notes: list[MelodyNote] = []
    for bar in range(bars):
        phrase, position = divmod(bar, phrase_bars)
        kind = layout[position]
        is_last_bar = bar == bars - 1
        if is_last_bar and kind != "end":
            kind = "end"
        peak = 3.5 + 2.0 * dice.random()
        rhythm = cells[kind]
        memory = remembered.get(kind) if kind != "end" else None
        realised: list[int] = []
        for index, (step, length) in enumerate(rhythm):
            at = start + bar * BAR + step
            if at >= end:
                break
            length = min(length, end - at)
            chord = chord_at(at)
            strong = step % 8 == 0
            if kind == "end" and index == len(rhythm) - 1:
                # Answering phrases (and the section's end) come home to the root.
                answering = phrase % 2 == 1 or is_last_bar
                targets = (chord.root,) if answering else chord.tones[1:3]
                new = _nearest_degree(scale, degree, targets)
            elif memory is not None and index < len(memory):
                new = memory[index]
                if strong and scale.degree_pc(new) not in chord.tones:
                    new = _nearest_degree(scale, new, chord.tones)
            else:
                progress = (position * BAR + step) / (phrase_bars * BAR)
                target = lift + 1.0 + peak * math.sin(math.pi * progress)
                new = _next_degree(dice, scale, degree, target, chord, strong, last_move)
            last_move, degree = new - degree, new
            realised.append(new)
            velocity = 0.72 + (0.14 if strong else 0.0) + dice.jitter(0.05)
            notes.append(MelodyNote(at, max(1, length), new, velocity))
        if kind != "end" and kind not in remembered:
            remembered[kind] = realised
    return notes
