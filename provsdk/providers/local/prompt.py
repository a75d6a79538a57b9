"""From the words of a prompt to a MusicPlan.

Explicit cues (style words, moods, "120 bpm", "in D minor", instrument names)
are read without any randomness, so they mean the same thing for every seed;
the seed only fills in what the words leave open.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TypeVar

from .form import layout_sections
from .plan import (
    MusicPlan,
    check_duration,
    check_prompt,
    check_sample_rate,
    check_seed,
)
from .seeding import Dice, normalise_prompt
from .styles import (
    CHORD_TIMBRES,
    FALLBACK_STYLE,
    LEAD_TIMBRES,
    STYLE_BY_NAME,
    STYLES,
    Style,
)
from .theory import MAJOR_FAMILY, MINOR_FAMILY, MODES, NOTE_NAMES, spell_key

MIN_TEMPO, MAX_TEMPO = 30.0, 300.0

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Mood:
    words: tuple[str, ...]
    tempo: float = 1.0  # multiplies the style's tempo
    family: int = 0  # +1 major-ish, -1 minor-ish, 0 no opinion
    modes: Weights = ()
    hint: str = ""  # style this mood leans towards when no style word is given
    chords: tuple[str, ...] = ()  # preferred chord timbres, best first
    brightness: float = 0.0  # treble tilt it adds, -1 dark .. +1 bright
    register: int = 0  # octaves it moves the tune by
    energy: float = 0.0  # added to every section's energy (busier or sparser drums)


_MOODS: tuple[_Mood, ...] = (
    _Mood(("happy", "joyful", "joyous", "uplifting", "cheerful", "bright", "sunny", "playful",
           "fun", "summer", "triumphant"),
          1.08, +1, (("major", 0.6), ("lydian", 0.2), ("mixolydian", 0.2)), "pop",
          brightness=0.5, register=1, energy=0.05),
    _Mood(("sad", "melancholy", "melancholic", "somber", "sombre", "sorrow", "sorrowful",
           "lonely", "heartbreak", "heartbroken", "tears", "rainy", "grief", "tragic"),
          0.9, -1, (("minor", 0.6), ("dorian", 0.3), ("phrygian", 0.1)),
          brightness=-0.3, energy=-0.1),
    _Mood(("dark", "ominous", "sinister", "spooky", "horror", "menacing", "evil", "gloomy",
           "haunting", "eerie"),
          0.95, -1, (("minor", 0.45), ("phrygian", 0.45), ("dorian", 0.1)), "cinematic",
          brightness=-0.6, register=-1),
    _Mood(("mysterious", "mystery", "mystic", "mystical"),
          1.0, -1, (("dorian", 0.6), ("phrygian", 0.2), ("minor", 0.2))),
    _Mood(("dreamy", "dream", "ethereal", "floating", "magical", "wonder"),
          0.92, +1, (("lydian", 0.6), ("major", 0.4)), "ambient"),
    _Mood(("warm", "cozy", "cosy", "mellow", "soft", "smooth"),
          0.95, chords=("rhodes", "warm-pad", "piano"), brightness=-0.3, energy=-0.1),
    _Mood(("chill", "chilled", "chillout", "chilling", "laid back", "laidback"),
          0.88, hint="lofi", chords=("rhodes", "warm-pad", "piano")),
    _Mood(("fast", "upbeat", "energetic", "uptempo", "up tempo", "driving", "quick", "hyper",
           "frantic", "intense", "high energy"), 1.2, energy=0.15),
    _Mood(("slow", "relaxed", "relaxing", "calm", "lazy", "peaceful", "gentle", "sleepy",
           "downtempo", "tranquil", "serene"), 0.82, energy=-0.2),
    _Mood(("aggressive", "angry", "hard", "heavy", "brutal"),
          1.1, -1, (("minor", 0.5), ("phrygian", 0.5)), "rock", brightness=0.2, energy=0.15),
    # A ballad is slow whatever the style ("rock ballad"); alone it picks the ballad style.
    _Mood(("ballad", "ballads"), 0.62, hint="ballad", energy=-0.1),
    _Mood(("sparkling", "shimmering", "crisp", "airy", "brilliant"), brightness=0.5),
    _Mood(("muffled", "murky", "muddy", "underwater"), brightness=-0.6),
)  # fmt: skip

# Named instruments: phrase -> timbre. Order of mention decides chord vs lead.
_TONAL_WORDS: tuple[tuple[str, str], ...] = (
    ("grand piano", "piano"), ("piano", "piano"),
    ("electric piano", "rhodes"), ("e piano", "rhodes"), ("epiano", "rhodes"),
    ("rhodes", "rhodes"), ("wurlitzer", "rhodes"), ("keys", "rhodes"),
    ("electric guitar", "drive-guitar"), ("distorted", "drive-guitar"),
    ("overdrive", "drive-guitar"), ("guitar", "guitar"), ("guitars", "guitar"),
    ("strum", "guitar"), ("strumming", "guitar"),
    ("pluck", "pluck"), ("plucked", "pluck"), ("plucks", "pluck"), ("harp", "pluck"),
    ("pizzicato", "pluck"), ("koto", "pluck"),
    ("strings", "strings"), ("string", "strings"), ("violin", "strings"),
    ("violins", "strings"), ("cello", "strings"),
    ("organ", "organ"), ("pad", "warm-pad"), ("pads", "warm-pad"),
    ("bell", "bell"), ("bells", "bell"), ("music box", "bell"), ("glockenspiel", "bell"),
    ("celesta", "bell"), ("vibraphone", "vibes"), ("vibes", "vibes"), ("marimba", "vibes"),
    ("flute", "flute"), ("flutes", "flute"), ("woodwind", "flute"), ("whistle", "flute"),
    ("brass", "brass"), ("horn", "brass"), ("horns", "brass"), ("trumpet", "brass"),
    ("synth", "saw-lead"), ("synthesizer", "saw-lead"), ("supersaw", "saw-lead"),
    ("saw", "saw-lead"), ("square", "square-lead"),
)  # fmt: skip
_BASS_WORDS: tuple[tuple[str, str], ...] = (
    ("808", "808-bass"), ("upright bass", "upright-bass"), ("double bass", "upright-bass"),
    ("acoustic bass", "upright-bass"), ("sub bass", "sub-bass"), ("bass guitar", "electric-bass"),
    ("electric bass", "electric-bass"), ("acid", "saw-bass"), ("303", "saw-bass"),
    ("synth bass", "saw-bass"),
)  # fmt: skip
_GROOVE_WORDS: tuple[tuple[str, str], ...] = (
    ("swing", "swing"), ("swung", "swing"), ("shuffle", "swing"),
    ("halftime", "halftime"), ("half time", "halftime"),
    ("four on the floor", "four-on-the-floor"), ("4 on the floor", "four-on-the-floor"),
    ("four to the floor", "four-on-the-floor"),
    ("breakbeat", "breakbeat"), ("breakbeats", "breakbeat"), ("breaks", "breakbeat"),
    ("broken beat", "breakbeat"), ("straight", "straight"),
)  # fmt: skip
_NO_DRUMS = ("no drums", "without drums", "drumless", "no percussion", "without percussion",
             "no beat", "without beat", "beatless")  # fmt: skip
_WITH_DRUMS = ("drums", "drum", "percussion", "beat", "beats", "drum kit")
_MODE_WORDS = {
    "major": "major", "ionian": "major", "minor": "minor", "aeolian": "minor",
    "dorian": "dorian", "phrygian": "phrygian", "lydian": "lydian", "mixolydian": "mixolydian",
}  # fmt: skip

_MODE_RE = "|".join(sorted(_MODE_WORDS, key=len, reverse=True)) + "|maj|min|m"
_ACC_RE = r"sharp|flat|#|♯|♭|b"
_NUMBER = r"(?<![\d.])(\d{2,3}(?:\.\d+)?)(?![\d.])"
_TEMPO_RES = (
    re.compile(rf"{_NUMBER}\s*(?:bpm|beats per minute|beats a minute)\b"),
    re.compile(rf"\b(?:tempo|bpm)\s*(?:of\s*|=\s*|:\s*)?{_NUMBER}"),
)
# "in D minor", "key of F#", "Bb dorian", "in e" (but not the article in "in a dark mood").
_KEY_WITH_MODE = re.compile(rf"\b([a-g])\s?({_ACC_RE})?[\s-]?({_MODE_RE})\b")
_KEY_OF = re.compile(rf"\bkey(?:\s+of)?\s+([a-g])\s?({_ACC_RE})?(?![a-z0-9])")
_KEY_IN = re.compile(rf"\bin\s+([a-g])\s?({_ACC_RE})?(?=\s*(?:$|[,.;:!?)]))")
_KEY_IN_LETTER = re.compile(rf"\bin\s+([b-g])\s?({_ACC_RE})?(?![a-z0-9'])")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text))


def _find(tokens: tuple[str, ...], phrase: str) -> int:
    """Token index where ``phrase`` first occurs (a plural "s" allowed), or -1."""
    words = _tokens(phrase)
    width = len(words)
    for index in range(len(tokens) - width + 1):
        if all(
            token == word or token == word + "s"
            for token, word in zip(tokens[index : index + width], words, strict=True)
        ):
            return index
    return -1


# How many players: the plan keeps that many instruments (drums count as one).
_ENSEMBLE_WORDS: tuple[tuple[str, int], ...] = (
    ("solo", 1), ("unaccompanied", 1), ("alone", 1), ("duo", 2), ("duet", 2), ("trio", 3),
    ("quartet", 4), ("quintet", 4), ("full band", 4),
)  # fmt: skip


V = TypeVar("V")


def _earliest(tokens: tuple[str, ...], table: tuple[tuple[str, V], ...]) -> V | None:
    """The value of the phrase of ``table`` mentioned first in ``tokens``, if any."""
    found: V | None = None
    found_at = len(tokens)
    for phrase, value in table:
        at = _find(tokens, phrase)
        if 0 <= at < found_at:
            found, found_at = value, at
    return found


@dataclass(frozen=True)
class Cues:
    """What the words of a prompt ask for; None/empty where they say nothing."""

    style: Style
    tempo: float | None
    tempo_factor: float
    key: str | None
    mode: str | None
    mode_weights: Weights
    groove: str | None
    drums: bool | None
    bass: str | None
    chords: str | None
    lead: str | None
    chord_preference: tuple[str, ...]
    brightness: float = 0.0
    register: int = 0
    energy: float = 0.0
    players: int | None = None


def _read_key(text: str) -> tuple[str | None, str | None]:
    for pattern in (_KEY_WITH_MODE, _KEY_OF, _KEY_IN, _KEY_IN_LETTER):
        match = pattern.search(text)
        if match is None:
            continue
        letter, accidental = match.group(1), match.group(2) or ""
        mode_word = match.group(3) if pattern is _KEY_WITH_MODE else None
        if pattern is _KEY_WITH_MODE and letter == "a" and not accidental and mode_word == "m":
            continue  # "a m..." is English, not A minor
        mode = None
        if mode_word in ("maj",):
            mode = "major"
        elif mode_word in ("min", "m"):
            mode = "minor"
        elif mode_word:
            mode = _MODE_WORDS[mode_word]
        return spell_key(letter, accidental), mode
    return None, None


def _read_tempo(text: str) -> float | None:
    for pattern in _TEMPO_RES:
        match = pattern.search(text)
        if match:
            return min(MAX_TEMPO, max(MIN_TEMPO, float(match.group(1))))
    return None


def read_cues(prompt: str) -> Cues:
    """Interpret the words of ``prompt``; no randomness involved."""
    text = normalise_prompt(prompt)
    tokens = _tokens(text)

    # Style: most style words wins; mood hints count half; earliest mention breaks ties.
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for style in STYLES:
        for phrase in style.words:
            at = _find(tokens, phrase)
            if at >= 0:
                scores[style.name] = scores.get(style.name, 0.0) + 1.0
                first_seen[style.name] = min(first_seen.get(style.name, at), at)

    tempo_factor = 1.0
    family = 0
    mode_weights: dict[str, float] = {}
    chord_preference: tuple[str, ...] = ()
    brightness, register, energy = 0.0, 0, 0.0
    for mood in _MOODS:
        positions = [at for at in (_find(tokens, w) for w in mood.words) if at >= 0]
        if not positions:
            continue
        tempo_factor *= mood.tempo
        family += mood.family
        brightness += mood.brightness
        register += mood.register
        energy += mood.energy
        for mode_name, weight in mood.modes:
            mode_weights[mode_name] = mode_weights.get(mode_name, 0.0) + weight
        if mood.hint:
            scores[mood.hint] = scores.get(mood.hint, 0.0) + 0.5
            first_seen[mood.hint] = min(first_seen.get(mood.hint, min(positions)), min(positions))
        if mood.chords and not chord_preference:
            chord_preference = mood.chords
    if scores:
        name = min(scores, key=lambda n: (-scores[n], first_seen[n], n))
        style = STYLE_BY_NAME[name]
    else:
        style = STYLE_BY_NAME[FALLBACK_STYLE]

    allowed = MAJOR_FAMILY if family > 0 else MINOR_FAMILY if family < 0 else tuple(MODES)
    weights = tuple((m, w) for m, w in mode_weights.items() if m in allowed)

    key, mode = _read_key(text)
    if mode is None:
        for word, named in _MODE_WORDS.items():
            if _find(tokens, word) >= 0:
                mode = named
                break

    groove = _earliest(tokens, _GROOVE_WORDS)

    drums: bool | None = None
    if any(_find(tokens, phrase) >= 0 for phrase in _NO_DRUMS):
        drums = False
    elif any(_find(tokens, phrase) >= 0 for phrase in _WITH_DRUMS):
        drums = True

    bass = _earliest(tokens, _BASS_WORDS)

    mentioned: list[tuple[int, str]] = []
    for phrase, timbre in _TONAL_WORDS:
        at = _find(tokens, phrase)
        if at >= 0 and not (phrase == "synth" and _find(tokens, "synth bass") == at):
            mentioned.append((at, timbre))
    chords: str | None = None
    lead: str | None = None
    for _, timbre in sorted(mentioned):
        if chords is None and timbre in CHORD_TIMBRES and timbre != lead:
            chords = timbre
        elif lead is None and timbre in LEAD_TIMBRES and timbre != chords:
            lead = timbre

    players = _earliest(tokens, _ENSEMBLE_WORDS)

    return Cues(
        brightness=max(-1.0, min(1.0, brightness)),
        register=max(-1, min(1, register)),
        energy=max(-0.3, min(0.3, energy)),
        players=players,
        style=style,
        tempo=_read_tempo(text),
        tempo_factor=tempo_factor,
        key=key,
        mode=mode,
        mode_weights=weights,
        groove=groove,
        drums=drums,
        bass=bass,
        chords=chords,
        lead=lead,
        chord_preference=chord_preference,
    )


def plan_track(prompt: str, *, seed: int, duration: float, sample_rate: int = 44100) -> MusicPlan:
    """Turn a prompt into a complete, renderable plan.

    Raises ValueError for an empty prompt, a duration outside (0, 3600] seconds
    or an unsupported sample rate.
    """
    prompt = check_prompt(prompt)
    seed = check_seed(seed)
    duration = check_duration(duration)
    sample_rate = check_sample_rate(sample_rate)
    cues = read_cues(prompt)
    style = cues.style
    norm = normalise_prompt(prompt)

    def dice(tag: str) -> Dice:
        return Dice(norm, seed, "plan", tag)

    if cues.tempo is not None:
        tempo = cues.tempo
    else:
        # A few percent of seed-driven drift, far less than any tempo word moves it.
        raw = style.tempo * cues.tempo_factor * (1.0 + dice("tempo").jitter(0.025))
        tempo = float(round(min(200.0, max(50.0, raw))))

    if cues.mode is not None:
        mode = cues.mode
    else:
        options = cues.mode_weights or style.modes
        mode = dice("mode").pick([m for m, _ in options], [w for _, w in options])

    key = cues.key if cues.key is not None else dice("key").pick(NOTE_NAMES)
    groove = cues.groove or style.groove

    kit = style.kit
    if cues.drums is False:
        kit = None
    elif cues.drums and kit is None:
        kit = "drums"
    bass = cues.bass or dice("bass").pick(style.basses)
    chords = cues.chords
    if chords is None:
        preferred = [t for t in cues.chord_preference if t in style.chords]
        chords = preferred[0] if preferred else dice("chords").pick(style.chords)
    lead = cues.lead or dice("lead").pick(style.leads)
    instruments = _players(cues.players, kit, bass, chords, lead, style, named=cues.drums is True)
    sections = layout_sections(duration, tempo, dice("form"), style.forms)
    if cues.energy:
        sections = tuple(
            dataclasses.replace(s, energy=round(min(1.0, max(0.1, s.energy + cues.energy)), 3))
            for s in sections
        )

    return MusicPlan(
        prompt=prompt,
        seed=seed,
        duration=duration,
        sample_rate=sample_rate,
        tempo_bpm=tempo,
        key=key,
        mode=mode,
        groove=groove,
        instruments=instruments,
        sections=sections,
        style=style.name,
        brightness=cues.brightness,
        register=cues.register,
    )


def _players(
    players: int | None,
    kit: str | None,
    bass: str,
    chords: str,
    lead: str,
    style: Style,
    *,
    named: bool,
) -> tuple[str, ...]:
    """The instruments an ensemble of ``players`` keeps, in ([kit,] [bass,] chords[, lead]).

    A solo is the chord instrument alone (it plays the tune and bass too); a duo adds the
    lead; a trio is drums, bass and chords where the style's trio has drums (jazz, rock:
    the chords player takes the tune) and bass, chords, lead where it does not; a quartet
    is drums, bass, chords and lead. No number word: the style's full line-up.
    """
    if players is None:
        return ((kit,) if kit else ()) + (bass, chords, lead)
    if players == 1:
        return (chords,)
    if players == 2:
        return (chords, lead)
    if players == 3:
        if kit and (style.trio_has_kit or named):
            return (kit, bass, chords)
        return (bass, chords, lead)
    drums = kit or "brush-drums"
    return (drums, bass, chords, lead)
