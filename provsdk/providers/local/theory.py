"""Pitch names, modes, diatonic chords, progressions and voice leading."""

from __future__ import annotations

from dataclasses import dataclass

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER_PC = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
MINOR_FAMILY = ("minor", "dorian", "phrygian")
MAJOR_FAMILY = ("major", "lydian", "mixolydian")


def pitch_class(key: str) -> int:
    """Pitch class (0 = C) of a key name such as "A", "F#", "Bb"."""
    text = key.strip().lower()
    if not text or text[0] not in _LETTER_PC:
        raise ValueError(f"unknown key {key!r}")
    pc = _LETTER_PC[text[0]]
    for mark in text[1:]:
        if mark in "#♯":
            pc += 1
        elif mark in "b♭":
            pc -= 1
        else:
            raise ValueError(f"unknown key {key!r}")
    return pc % 12


def spell_key(letter: str, accidental: str) -> str:
    """Canonical spelling of a key the prompt named, e.g. ("f", "sharp") -> "F#"."""
    mark = {"#": "#", "♯": "#", "sharp": "#", "b": "b", "♭": "b", "flat": "b"}.get(accidental, "")
    return letter.upper() + mark


def midi_to_hz(midi: float) -> float:
    """Equal-tempered frequency, A4 = MIDI 69 = 440 Hz."""
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


@dataclass(frozen=True)
class Scale:
    """A tonic pitch class and a mode."""

    tonic: int
    mode: str

    @property
    def steps(self) -> tuple[int, ...]:
        return MODES[self.mode]

    def degree_offset(self, degree: int) -> int:
        """Semitones above the tonic of a scale degree (0-based, may exceed an octave)."""
        octave, index = divmod(degree, 7)
        return 12 * octave + self.steps[index]

    def degree_pc(self, degree: int) -> int:
        return (self.tonic + self.degree_offset(degree)) % 12

    def contains(self, pc: int) -> bool:
        return (pc - self.tonic) % 12 in self.steps


@dataclass(frozen=True)
class Chord:
    """A diatonic chord: its scale degree, root pitch class and tones as pitch classes."""

    degree: int
    root: int
    tones: tuple[int, ...]

    @property
    def is_diminished(self) -> bool:
        return (self.tones[2] - self.root) % 12 == 6


def diatonic_chord(scale: Scale, degree: int, size: int) -> Chord:
    """Stack ``size`` thirds inside the scale on ``degree`` (3 = triad, 4 = seventh, 5 = ninth)."""
    tones = tuple(scale.degree_pc(degree + 2 * i) for i in range(size))
    return Chord(degree=degree % 7, root=tones[0], tones=tones)


# Progressions as 0-based scale degrees, one chord per harmonic-rhythm slot.
# Sets are written for the major or minor family; the modal sets add each
# mode's signature move (dorian IV, phrygian bII, lydian II, mixolydian bVII).
_MAJOR_SETS: dict[str, tuple[tuple[int, ...], ...]] = {
    "pop": ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (3, 0, 4, 5), (0, 3, 5, 4)),
    "jazz": ((1, 4, 0, 0), (0, 5, 1, 4), (2, 5, 1, 4), (3, 2, 1, 0)),
    "lofi": ((1, 4, 0, 0), (3, 2, 1, 0), (0, 5, 1, 4), (3, 4, 2, 5)),
    "drone": ((0, 0, 0, 0), (0, 0, 3, 3), (0, 3, 0, 4)),
    "ambient": ((0, 3), (0, 5, 3, 0), (3, 0), (0, 2, 3, 0)),
    "cinematic": ((0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 5, 4), (0, 4, 5, 2)),
    "rock": ((0, 3, 4, 3), (0, 4, 3, 0), (0, 3, 0, 4), (5, 3, 0, 4)),
}
_MINOR_SETS: dict[str, tuple[tuple[int, ...], ...]] = {
    "pop": ((0, 5, 2, 6), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
    "jazz": ((1, 4, 0, 0), (0, 3, 1, 4), (0, 5, 1, 4)),
    "lofi": ((0, 3, 6, 2), (1, 4, 0, 0), (0, 5, 3, 4), (3, 6, 0, 0)),
    "drone": ((0, 0, 0, 0), (0, 0, 5, 5), (0, 0, 6, 6), (0, 5, 6, 0)),
    "ambient": ((0, 5), (0, 3), (5, 2, 6, 0), (0, 5, 2, 6)),
    "cinematic": ((0, 5, 2, 6), (0, 5, 3, 4), (5, 6, 0, 0), (0, 3, 5, 6)),
    "rock": ((0, 5, 6, 0), (0, 6, 5, 6), (0, 3, 6, 0)),
}
_MODAL_SETS: dict[str, tuple[tuple[int, ...], ...]] = {
    "dorian": ((0, 3), (0, 3, 0, 6), (0, 2, 3, 0)),
    "phrygian": ((0, 1), (0, 1, 0, 6), (0, 1, 6, 0)),
    "lydian": ((0, 1), (0, 1, 4, 0), (0, 1, 0, 4)),
    "mixolydian": ((0, 6, 3, 0), (0, 6, 0, 3), (0, 3, 6, 0)),
}


def progression_options(scale: Scale, family: str, size: int) -> tuple[tuple[int, ...], ...]:
    """Progressions of a style family that sound right in ``scale``.

    Plain triads on a diminished degree sound wrong in most of these styles,
    so such progressions are dropped unless sevenths (m7b5) are in use.
    """
    sets = _MINOR_SETS if scale.mode in MINOR_FAMILY else _MAJOR_SETS
    options = _MODAL_SETS.get(scale.mode, ()) + sets.get(family, sets["pop"])

    def usable(prog: tuple[int, ...]) -> bool:
        return size >= 4 or not any(diatonic_chord(scale, d, 3).is_diminished for d in prog)

    kept = tuple(prog for prog in options if usable(prog))
    return kept or ((0, 0, 0, 0),)


def voice_chord(
    tones: tuple[int, ...],
    previous: tuple[int, ...] | None,
    low: int,
    high: int,
    count: int,
) -> tuple[int, ...]:
    """MIDI notes for a chord in [low, high], moving as little as possible from ``previous``.

    Candidates are close-position stacks starting on each chord tone; the one
    with the smallest total movement wins (ties: the lower one), which gives
    the smooth inner-voice motion of a keyboard player.
    """
    centre = (low + high) / 2.0
    best: tuple[int, ...] | None = None
    best_cost = float("inf")
    pcs = list(tones)
    for start in range(low, low + 12):
        if start % 12 not in pcs:
            continue
        index = pcs.index(start % 12)
        notes = [start]
        while len(notes) < count:
            index = (index + 1) % len(pcs)
            step = (pcs[index] - notes[-1]) % 12 or 12
            notes.append(notes[-1] + step)
        if notes[-1] > high:
            continue
        if previous is not None and len(previous) == len(notes):
            cost = float(
                sum(abs(a - b) for a, b in zip(sorted(notes), sorted(previous), strict=True))
            )
            # A pull towards the middle of the range stops voicings drifting to its edge.
            cost += 0.4 * abs(sum(notes) / len(notes) - centre)
        else:
            cost = abs(sum(notes) / len(notes) - centre)
        if cost < best_cost:
            best, best_cost = tuple(notes), cost
    if best is None:
        # Range too narrow for the stack: fall back to the lowest stack.
        root = low + (tones[0] - low) % 12
        best = tuple(root + (t - tones[0]) % 12 for t in tones[:count])
    return best
