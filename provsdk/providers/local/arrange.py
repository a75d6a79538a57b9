"""From a plan to a score: every note and drum hit with its time, pitch, level and pan.

Work happens on a grid of sixteenth notes ("steps"); swing and human timing
are applied only when a step is turned into seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .drums import TEXTURE_OVERLAP, TEXTURE_SECONDS
from .dsp import Voicing
from .melody import BAR, write_melody
from .patterns import (
    BASS_FIGURES,
    COMP_FIGURES,
    DRUM_PATTERNS,
    STEPS_PER_BEAT,
    TIMEKEEPERS,
    DrumPattern,
    hits,
)
from .plan import MusicPlan, Section
from .seeding import Dice, normalise_prompt
from .styles import (
    BASS_TIMBRES,
    CHORD_TIMBRES,
    DRUM_KITS,
    GROOVES,
    LEAD_TIMBRES,
    Style,
    comp_for,
    style_named,
)
from .theory import (
    MODES,
    Chord,
    Scale,
    diatonic_chord,
    pitch_class,
    progression_options,
    voice_chord,
)

# Mix levels of each part before the master bus.
_DRUM_LEVEL = {
    "kick": 0.95, "snare": 0.85, "clap": 0.75, "hat": 0.26, "open": 0.2, "ride": 0.2,
    "crash": 0.3, "shaker": 0.14, "rim": 0.28, "tom1": 0.5, "tom2": 0.5, "tom3": 0.5,
}  # fmt: skip
_CYMBALS = ("hat", "open", "ride", "crash", "shaker")
_DRUM_PAN = {"hat": 0.3, "open": 0.3, "ride": -0.3, "shaker": -0.4, "crash": -0.35, "rim": 0.2,
             "tom1": 0.45, "tom2": 0.0, "tom3": -0.45}  # fmt: skip
_BASS_LEVEL = 0.62
_CHORD_LEVEL = 0.14
_LEAD_LEVEL = 0.45
_ROLE_LEVEL = {"intro": 0.75, "verse": 0.88, "chorus": 1.0, "bridge": 0.9, "breakdown": 0.85,
               "outro": 0.85, "main": 1.0}  # fmt: skip
# Below this tempo the beat, not its eighths, must lead: cymbals and tunes move on the beat.
SLOW_BPM = 95.0
# Voicing range (lowest, highest MIDI) and voice count per chord timbre.
_VOICING = {
    "warm-pad": (50, 74, 4), "strings": (50, 76, 4), "organ": (50, 74, 4), "piano": (52, 76, 4),
    "rhodes": (52, 76, 4), "guitar": (45, 71, 5), "pluck": (55, 79, 3), "chip-arp": (55, 79, 3),
    "acoustic-guitar": (43, 69, 5), "harp": (48, 84, 4),
}  # fmt: skip
# Timbres that can carry the bass line, chords and tune alone, as a solo player does.
_SELF_ACCOMPANYING = ("piano", "acoustic-guitar", "harp", "rhodes", "guitar")


@dataclass(frozen=True, slots=True)
class Note:
    """One sound event: a pitched note or, when ``voice`` is "kit/piece", a drum hit."""

    time: float
    voice: str
    pitch: int
    length: float
    velocity: float
    pan: float


@dataclass(frozen=True)
class Score:
    """All notes of a track plus what the master bus needs to know about it."""

    notes: tuple[Note, ...]
    fade_in: float  # seconds faded in at the start
    fade_out: float  # seconds faded out before the end
    # (start, end, weight) spans, in seconds, whose loudness, each standing for ``weight``
    # times its own length of the track, sets the master gain.
    reference: tuple[tuple[float, float, float], ...]
    voicing: Voicing = ()  # the style's equalisation of every note, dB per dsp.VOICING_HZ


@dataclass(frozen=True)
class Slot:
    """A chord held over steps [start, start + steps)."""

    start: int
    steps: int
    chord: Chord
    voicing: tuple[int, ...]

    @property
    def end(self) -> int:
        return self.start + self.steps


@dataclass(frozen=True)
class Ensemble:
    """The plan's instruments by role; a missing role is None (a solo, duo or trio)."""

    kit: str | None
    bass: str | None
    chords: str
    lead: str | None


def ensemble(instruments: tuple[str, ...]) -> Ensemble:
    """Read ([kit,] [bass,] chords[, lead]) back out of a plan's instruments, in that order."""
    items = list(instruments)
    roles: list[str | None] = []
    for allowed in (DRUM_KITS, BASS_TIMBRES, CHORD_TIMBRES, LEAD_TIMBRES):
        if items and items[0] in allowed:
            roles.append(items.pop(0))
        else:
            roles.append(None)
    kit, bass, chords, lead = roles
    if items or chords is None:
        raise ValueError(
            f"instruments must be ([kit,] [bass,] chords[, lead]) of known timbres, "
            f"got {instruments!r}"
        )
    return Ensemble(kit, bass, chords, lead)


class Grid:
    """Sixteenth-note steps to seconds, with swing."""

    def __init__(self, tempo: float, swing: float, pair: int) -> None:
        self.step = 60.0 / tempo / STEPS_PER_BEAT
        self.swing = swing
        self.pair = pair

    def time(self, step: float) -> float:
        if self.swing == 0.5:
            return step * self.step
        pairs, within = divmod(step, self.pair)
        half = self.pair / 2.0
        long_part = self.swing * self.pair
        if within < half:
            offset = within * long_part / half
        else:
            offset = long_part + (within - half) * (self.pair - long_part) / half
        return (pairs * self.pair + offset) * self.step


def _spread(index: int, count: int, width: float) -> float:
    """Pan of voice ``index`` of ``count`` fanned across [-width, width], low notes left."""
    return 0.0 if count < 2 else width * (2.0 * index / (count - 1) - 1.0)


class _Writer:
    """Collects notes for one render, turning steps into seconds."""

    def __init__(self, plan: MusicPlan, style: Style, grid: Grid, dice: Dice) -> None:
        self.plan = plan
        self.grid = grid
        self.humanize = style.humanize
        self.brightness = style.brightness + plan.brightness
        self.dice = dice
        self.notes: list[Note] = []
        self.duration = plan.duration

    def add(
        self,
        step: float,
        voice: str,
        pitch: int,
        length_steps: float,
        velocity: float,
        pan: float,
        loose: float = 1.0,
        offset: float = 0.0,
    ) -> None:
        time = self.grid.time(step) + offset
        if self.humanize and loose:
            time += self.dice.jitter(self.humanize * loose)
        time = max(0.0, time)
        if time >= self.duration:
            return
        length = max(0.0, self.grid.time(step + length_steps) - self.grid.time(step))
        self.notes.append(Note(time, voice, pitch, length, velocity, pan))


def _harmony(plan: MusicPlan, style: Style, scale: Scale, chords: str, dice: Dice) -> list[Slot]:
    total_beats = plan.sections[-1].end_beat
    beats = style.harmonic_beats if total_beats >= 16 else min(style.harmonic_beats, 2)
    options = progression_options(scale, style.family, style.chord_size)
    verse_prog = dice.pick(options)
    others = [p for p in options if p != verse_prog]
    chorus_prog = dice.pick(others) if others and dice.chance(0.6) else verse_prog
    rest = [p for p in others if p != chorus_prog]
    bridge_prog = dice.pick(rest) if rest else tuple(reversed(verse_prog))

    degrees: list[tuple[int, int, int]] = []  # (start step, steps, degree)
    for section in plan.sections:
        prog = {"chorus": chorus_prog, "bridge": bridge_prog}.get(section.name, verse_prog)
        step, end = section.start_beat * STEPS_PER_BEAT, section.end_beat * STEPS_PER_BEAT
        index = 0
        while step < end:
            length = min(beats * STEPS_PER_BEAT, end - step)
            degrees.append((step, length, prog[index % len(prog)]))
            step += length
            index += 1
    # Cadence: end on the tonic, approached from V (or IV where V would be diminished).
    start, length, _ = degrees[-1]
    degrees[-1] = (start, length, 0)
    outro_start = plan.sections[-1].start_beat * STEPS_PER_BEAT
    if len(degrees) >= 2 and degrees[-2][0] >= outro_start and degrees[-2][2] not in (3, 4):
        before = 4 if not diatonic_chord(scale, 4, 3).is_diminished else 3
        degrees[-2] = (degrees[-2][0], degrees[-2][1], before)

    low, high, count = _VOICING.get(chords, (52, 76, 4))
    low, high = low + 5 * plan.register, high + 5 * plan.register
    slots: list[Slot] = []
    previous: tuple[int, ...] | None = None
    for start, length, degree in degrees:
        chord = diatonic_chord(scale, degree, style.chord_size)
        if chords == "power-guitar":
            voicing: tuple[int, ...] = (40 + (chord.root - 4) % 12,)  # one voice plays all three
        elif chords == "drive-guitar":
            root = 40 + (chord.root - 4) % 12
            voicing = (root, root + 7, root + 12)  # power chord
        else:
            voicing = voice_chord(chord.tones, previous, low, high, count)
        previous = voicing
        slots.append(Slot(start, length, chord, voicing))
    return slots


def _drums(
    out: _Writer,
    kit: str,
    pattern: DrumPattern,
    sections: tuple[Section, ...],
    final_step: int,
    dice: Dice,
) -> None:
    # Which side the cymbals sit on is the seed's choice, like a drummer's kit set-up.
    side = 1.0 if dice.chance(0.5) else -1.0
    pans = {piece: side * pan for piece, pan in _DRUM_PAN.items()}
    shimmer = 1.0 + 0.6 * max(-1.0, min(1.0, out.brightness))
    slow = out.plan.tempo_bpm < SLOW_BPM
    for index, section in enumerate(sections):
        start, end = section.start_beat * STEPS_PER_BEAT, section.end_beat * STEPS_PER_BEAT
        if section.name == "outro":
            end = min(end, final_step)
        energy = section.energy
        level = _ROLE_LEVEL.get(section.name, 1.0)
        if energy >= 0.5:
            rows = dict(pattern.core)
            if energy >= 0.8:
                rows.update(pattern.lift)
        else:
            rows = {piece: row for piece, row in pattern.core.items() if piece in TIMEKEEPERS}
            level *= 0.7
            if section.name == "intro" and end - start >= 2 * BAR:
                # Long intros let the harmony breathe alone before the time-keeping enters.
                start += ((end - start) // 2 // BAR) * BAR
        following = sections[index + 1] if index + 1 < len(sections) else None
        fill_from = end
        if following is not None and following.energy > energy and end - start >= 2 * BAR:
            fill_from = end - dice.pick((4, 8, 8))
            _fill(out, kit, fill_from, end, dice, level, pans)
        if energy >= 0.8 and section.name in ("chorus", "main"):
            out.add(start, f"{kit}/crash", 0, 0, _DRUM_LEVEL["crash"] * level, pans["crash"], 0)
        rolls = kit == "808-drums" and energy >= 0.5
        for bar in range(start - (start % BAR), end, BAR):
            roll_beat = dice.below(3) + 1 if rolls and dice.chance(0.4) else -1
            for piece, row in rows.items():
                for step, velocity in hits(row):
                    at = bar + step
                    if at < start or at >= end:
                        continue
                    if at >= fill_from and piece not in TIMEKEEPERS:
                        continue
                    if piece == "hat" and roll_beat >= 0 and step // 4 == roll_beat:
                        continue
                    loose = 0.3 if piece == "kick" else 1.0
                    gain = velocity * _DRUM_LEVEL[piece] * level * (0.94 + dice.jitter(0.06))
                    if piece in _CYMBALS:
                        if slow and step % STEPS_PER_BEAT:
                            continue  # at a slow tempo the cymbals keep the beat, not eighths
                        gain *= shimmer
                    out.add(at, f"{kit}/{piece}", 0, 0, gain, pans.get(piece, 0.0), loose)
            if roll_beat >= 0:
                # Trap hi-hat roll: 32nds or sixteenth triplets rising in level.
                count = dice.pick((8, 6))
                for i in range(count):
                    roll_at = bar + roll_beat * 4 + i * 4.0 / count
                    if start <= roll_at < end:
                        gain = _DRUM_LEVEL["hat"] * level * (0.45 + 0.45 * i / count)
                        out.add(roll_at, f"{kit}/hat", 0, 0, gain, pans["hat"], 0.0)
    if sections[-1].name == "outro":
        # The last chord gets a kick and a cymbal under it.
        out.add(final_step, f"{kit}/kick", 0, 0, _DRUM_LEVEL["kick"] * 0.9, 0.0, 0)
        out.add(final_step, f"{kit}/crash", 0, 0, _DRUM_LEVEL["crash"] * 0.9, pans["crash"], 0)


def _fill(
    out: _Writer,
    kit: str,
    start: int,
    end: int,
    dice: Dice,
    level: float,
    pans: dict[str, float],
) -> None:
    kind = dice.pick(("roll", "toms", "toms", "short"))
    steps = list(range(start, end))
    for i, at in enumerate(steps):
        rise = 0.45 + 0.55 * (i + 1) / len(steps)
        if kind == "roll":
            piece = "snare"
        elif kind == "toms":
            piece = ("tom1", "tom2", "tom3")[min(2, 3 * i // len(steps))]
        else:
            if (at - start) % 2 and i != len(steps) - 1:
                continue
            piece = "snare" if i % 4 != 2 else "tom2"
        gain = _DRUM_LEVEL[piece] * level * rise
        out.add(at, f"{kit}/{piece}", 0, 0, gain, pans.get(piece, 0.0))
        if i == 0:
            out.add(at, f"{kit}/kick", 0, 0, _DRUM_LEVEL["kick"] * level * 0.8, 0.0, 0.3)


def feel(style: Style, groove: str) -> str:
    """The pattern set a style plays: its own feel while it keeps its groove, else the groove's.

    A groove word in the prompt ("halftime dnb") still wins over the style's feel.
    """
    own = groove == style.groove and style.name in DRUM_PATTERNS
    return style.name if own else groove


def _bass_root(pc: int, timbre: str) -> int:
    root = 28 + (pc - 4) % 12  # E1..D#2
    # The chip bass, and a solo player's left hand or thumb, sit an octave up.
    return root + 12 if timbre == "chip-bass" or timbre not in BASS_TIMBRES else root


def _bass(
    out: _Writer,
    timbre: str,
    style: Style,
    groove: str,
    sections: tuple[Section, ...],
    slots: list[Slot],
    dice: Dice,
) -> None:
    options = BASS_FIGURES.get(feel(style, groove)) or BASS_FIGURES.get(groove)
    figures = dice.pick(options or BASS_FIGURES["straight"])
    walking = style.name == "jazz" and groove == "swing"
    drone = style.name == "ambient"
    final = slots[-1]
    for section in sections:
        role = section.name
        if role == "intro":
            continue
        if role == "breakdown" and not dice.chance(0.5):
            continue
        level = _BASS_LEVEL * _ROLE_LEVEL.get(role, 1.0)
        if timbre not in BASS_TIMBRES:
            level *= 0.45
        start, end = section.start_beat * STEPS_PER_BEAT, section.end_beat * STEPS_PER_BEAT
        for index, slot in enumerate(slots):
            if slot.start < start or slot.start >= end:
                continue
            root = _bass_root(slot.chord.root, timbre)
            if slot is final:
                out.add(slot.start, timbre, root, 10_000, level, 0.0, 0.3)
                continue
            if drone or role == "breakdown":
                out.add(slot.start, timbre, root, slot.steps, level * 0.8, 0.0, 0.3)
                continue
            nxt = slots[index + 1] if index + 1 < len(slots) else slot
            next_root = _bass_root(nxt.chord.root, timbre)
            if walking:
                _walk(out, timbre, slot, root, next_root, level, dice)
                continue
            figure = figures[1] if section.energy >= 0.8 else figures[0]
            for bar in range(slot.start, slot.end, BAR):
                for step, length, tone in figure:
                    at = bar + step
                    if at >= slot.end:
                        continue
                    pitch = _bass_tone(tone, root, slot.chord, next_root, dice)
                    accent = 1.0 if step % 4 == 0 else 0.85
                    out.add(
                        at,
                        timbre,
                        pitch,
                        min(length, slot.end - at) * 0.92,
                        level * accent,
                        0.0,
                        0.5,
                    )


def _bass_tone(tone: str, root: int, chord: Chord, next_root: int, dice: Dice) -> int:
    if tone == "5":
        return root + (chord.tones[2] - chord.root) % 12
    if tone == "8":
        return root + 12
    if tone == "3":
        return root + (chord.tones[1] - chord.root) % 12
    if tone == "A":
        return next_root + (1 if dice.chance(0.5) else -1) if next_root != root else root + 7
    return root


def _walk(
    out: _Writer, timbre: str, slot: Slot, root: int, next_root: int, level: float, dice: Dice
) -> None:
    """Walking bass: root on the downbeat, chord tones through the bar, a chromatic approach."""
    beats = slot.steps // STEPS_PER_BEAT
    tones = [root + (t - slot.chord.root) % 12 for t in slot.chord.tones]
    for beat in range(beats):
        if beat == 0:
            pitch = root
        elif beat == beats - 1:
            pitch = next_root + (1 if dice.chance(0.5) else -1)
        else:
            pitch = dice.pick([*tones[1:], root + 12])
        while pitch > 50:
            pitch -= 12
        accent = 0.95 if beat % 2 else 0.85
        out.add(slot.start + beat * STEPS_PER_BEAT, timbre, pitch, 3.6, level * accent, 0.0)


def _chords(
    out: _Writer,
    timbre: str,
    comp: str,
    sections: tuple[Section, ...],
    slots: list[Slot],
    dice: Dice,
) -> None:
    final = slots[-1]
    for section in sections:
        start, end = section.start_beat * STEPS_PER_BEAT, section.end_beat * STEPS_PER_BEAT
        role = section.name
        level = _CHORD_LEVEL * _ROLE_LEVEL.get(role, 1.0)
        busy = role in ("verse", "chorus", "main", "bridge")
        style_comp = comp if busy or comp.startswith("arp") else "sustain"
        for slot in slots:
            if slot.start < start or slot.start >= end:
                continue
            voicing = slot.voicing
            count = len(voicing)
            pans = [_spread(i, count, 0.45) for i in range(count)]
            if slot is final or style_comp == "sustain":
                length = 10_000 if slot is final else slot.steps
                for i, pitch in enumerate(voicing):
                    out.add(slot.start, timbre, pitch, length, level, pans[i], 0.4)
                continue
            if style_comp.startswith("arp") or style_comp == "fingerpick":
                _arpeggio(out, timbre, slot, 1 if style_comp == "arp16" else 2, level, dice)
                continue
            for bar in range(slot.start, slot.end, BAR):
                figure = _figure(style_comp, section, timbre, dice)
                for step, signed in figure:
                    at = bar + step
                    if at >= slot.end:
                        continue
                    up = signed < 0
                    held = min(abs(signed), slot.end - at) * (0.55 if comp == "stabs" else 0.95)
                    order = list(range(count))[::-1] if up else list(range(count))
                    strum = 0.012 if comp == "strum" else 0.0
                    gain = level * (0.75 if up else 1.0)
                    for rank, i in enumerate(order):
                        out.add(
                            at,
                            timbre,
                            voicing[i],
                            held,
                            gain * (1.1 if i == count - 1 else 1.0),
                            pans[i],
                            0.6,
                            offset=rank * strum,
                        )


def _figure(comp: str, section: Section, timbre: str, dice: Dice) -> tuple[tuple[int, int], ...]:
    figures = COMP_FIGURES[comp]
    if comp in ("chug", "ballad"):
        return figures[1] if section.energy >= 0.8 else figures[0]
    if comp == "strum":
        # Distorted guitars chug eighths in verses and open up in choruses.
        chug = timbre == "drive-guitar" and section.energy < 0.8
        return figures[1] if chug else figures[0]
    if comp in ("comp", "hits"):
        return dice.pick(figures)
    return figures[1] if section.energy >= 0.8 else figures[0]


def _arpeggio(out: _Writer, timbre: str, slot: Slot, every: int, level: float, dice: Dice) -> None:
    tones = [*slot.voicing, slot.voicing[0] + 12]
    shape = dice.pick(("up", "updown", "up"))
    if shape == "updown":
        tones = tones + tones[-2:0:-1]
    for i, at in enumerate(range(slot.start, slot.end, every)):
        pitch = tones[i % len(tones)]
        out.add(at, timbre, pitch, every * 1.5, level * (1.1 if i % 4 == 0 else 0.85), 0.0, 0.5)


def _lead(
    out: _Writer,
    timbre: str,
    style: Style,
    scale: Scale,
    sections: tuple[Section, ...],
    slots: list[Slot],
    norm: str,
    seed: int,
    register: int = 0,
) -> None:
    def chord_at(step: int) -> Chord:
        for slot in slots:
            if slot.start <= step < slot.end:
                return slot.chord
        return slots[-1].chord

    tonic = 60 + 12 * register + scale.tonic
    plans = {"verse": (0.8, 0), "chorus": (1.05, 2), "main": (1.0, 1), "breakdown": (0.5, -1),
             "bridge": (0.7, 1)}  # fmt: skip
    beat_seconds = out.grid.step * STEPS_PER_BEAT
    slow = out.plan.tempo_bpm < SLOW_BPM
    # A dotted-eighth echo answers between beats; in a slow song it would be the pulse heard.
    echo_delay = (1.0 if slow else 0.75) * beat_seconds
    offbeat = 0.4 if slow else 1.0
    played = False
    for section in sections:
        role = section.name
        if role not in plans:
            continue
        if role == "breakdown" and not Dice(norm, seed, "lead-breakdown").chance(0.6):
            continue
        density_scale, lift = plans[role]
        start, end = section.start_beat * STEPS_PER_BEAT, section.end_beat * STEPS_PER_BEAT
        # Same role, same dice: every chorus sings the same tune.
        dice = Dice(norm, seed, "melody", role)
        density = min(1.0, style.lead_density * density_scale)
        level = _LEAD_LEVEL * _ROLE_LEVEL.get(role, 1.0)
        pan = dice.jitter(0.15)
        for melody_note in write_melody(dice, scale, chord_at, start, end, density, lift, offbeat):
            pitch = tonic + scale.degree_offset(melody_note.degree)
            gain = level * melody_note.velocity
            out.add(melody_note.step, timbre, pitch, melody_note.length * 0.9, gain, pan, 0.7)
            played = True
            if style.echo:
                base = out.notes[-1]
                for repeat in (1, 2):
                    out.notes.append(
                        Note(
                            base.time + repeat * echo_delay,
                            timbre,
                            pitch,
                            base.length,
                            gain * style.echo**repeat,
                            0.55 if repeat % 2 else -0.55,
                        )
                    )
    final = slots[-1]
    if played and sections[-1].name == "outro":
        pitch = tonic + (final.chord.root - scale.tonic) % 12
        out.add(final.start, timbre, pitch, 10_000, _LEAD_LEVEL * 0.7, 0.0, 0.3)


def build_score(plan: MusicPlan) -> Score:
    """Everything that sounds in ``plan``, in time order of writing (not sorted)."""
    style = style_named(plan.style)
    band = ensemble(plan.instruments)
    if plan.mode not in MODES:
        raise ValueError(f"unknown mode {plan.mode!r}")
    if plan.groove not in GROOVES:
        raise ValueError(f"unknown groove {plan.groove!r}")
    if not plan.sections or plan.sections[0].start_beat != 0:
        raise ValueError("a plan's sections must start at beat 0")
    for before, after in itertools.pairwise(plan.sections):
        if before.end_beat != after.start_beat:
            raise ValueError("a plan's sections must follow each other without gaps")
    if any(section.end_beat <= section.start_beat for section in plan.sections):
        raise ValueError("every section must last at least one beat")
    scale = Scale(pitch_class(plan.key), plan.mode)
    norm = normalise_prompt(plan.prompt)

    def dice(tag: str) -> Dice:
        return Dice(norm, plan.seed, "render", tag)

    swing = plan.groove == "swing"
    if swing:
        ratio = style.swing if style.swing > 0.5 else 0.6
        grid = Grid(plan.tempo_bpm, ratio, style.swing_pair)
    else:
        grid = Grid(plan.tempo_bpm, 0.5, 2)

    slots = _harmony(plan, style, scale, band.chords, dice("harmony"))
    final_step = slots[-1].start
    out = _Writer(plan, style, grid, dice("timing"))

    if band.kit is not None:
        groove_key = feel(style, plan.groove)
        if plan.groove == "swing" and band.kit == "brush-drums":
            groove_key = "jazz"
        pattern = dice("drum-pattern").pick(DRUM_PATTERNS[groove_key])
        _drums(out, band.kit, pattern, plan.sections, final_step, dice("drums"))
    bass = band.bass
    if bass is None and band.chords in _SELF_ACCOMPANYING and band.kit is None:
        bass = band.chords  # a solo or duo player keeps the bass line in the left hand
    if bass is not None:
        _bass(out, bass, style, plan.groove, plan.sections, slots, dice("bass"))
    _chords(
        out, band.chords, comp_for(style.name, band.chords), plan.sections, slots, dice("chords")
    )
    lead = band.lead
    if lead is None and band.chords in LEAD_TIMBRES:
        lead = band.chords  # without a lead player, the chord player carries the tune
    if lead is not None:
        _lead(out, lead, style, scale, plan.sections, slots, norm, plan.seed, plan.register)
    if style.crackle:
        loop = TEXTURE_SECONDS - TEXTURE_OVERLAP
        count = int(plan.duration / loop) + 1
        out.notes.extend(Note(i * loop, "texture/vinyl", 0, 0.0, 0.09, 0.0) for i in range(count))

    first, last = plan.sections[0], plan.sections[-1]
    fade_in = min(0.5 * (first.end - first.start), 2.0) if first.name == "intro" else 0.005
    if last.name == "outro":
        fade_out = min(max(0.4 * (last.end - last.start), 0.05), 6.0)
    else:
        fade_out = min(0.3 * plan.duration, 0.5)
    brightness = max(-1.0, min(1.0, style.brightness + plan.brightness))
    # Brightness tilts the style's voicing about 1 kHz: +1 is +6 dB at 12 kHz, -3 at 63 Hz.
    voicing = tuple(
        round(gain + brightness * tilt, 3)
        for gain, tilt in zip(style.voicing, (-3.0, -1.5, 0.0, 3.0, 6.0), strict=True)
    )
    return Score(tuple(out.notes), fade_in, fade_out, reference_spans(plan.sections), voicing)


# Longest stretch of each section rendered to measure the mix's loudness before streaming.
_SPAN = 5.0
_WHOLE = 20.0  # tracks up to this long are measured whole


def reference_spans(sections: tuple[Section, ...]) -> tuple[tuple[float, float, float], ...]:
    """Spans whose loudness stands for the whole track's, with how much track each covers.

    Short tracks are measured whole. Longer ones: up to two spans of each section role (the
    first and the last of that role, which differ most: choruses lift as they repeat), each
    weighted by the share of the track its role takes, so the cost stays bounded for an hour.
    """
    end = sections[-1].end
    if end <= _WHOLE:
        return ((0.0, end, 1.0),)
    by_role: dict[str, list[Section]] = {}
    for section in sections:
        by_role.setdefault(section.name, []).append(section)
    spans: list[tuple[float, float, float]] = []
    for members in by_role.values():
        picked = [members[0]] if len(members) == 1 else [members[0], members[-1]]
        covered = sum(s.end - s.start for s in members)
        lengths = [min(_SPAN, s.end - s.start) for s in picked]
        for section, length in zip(picked, lengths, strict=True):
            middle = (section.start + section.end) / 2.0
            start = max(section.start, middle - length / 2.0)
            spans.append((start, start + length, covered / sum(lengths)))
    return tuple(sorted(spans))
