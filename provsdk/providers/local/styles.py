"""The styles a prompt can select, and what each implies for the arrangement."""

from __future__ import annotations

from dataclasses import dataclass

FALLBACK_STYLE = "generic"

GROOVES = ("straight", "swing", "halftime", "four-on-the-floor", "breakbeat", "double-kick")

BASS_TIMBRES = (
    "sub-bass", "electric-bass", "upright-bass", "808-bass", "saw-bass", "chip-bass",
    "acoustic-bass", "contrabass",
)  # fmt: skip
CHORD_TIMBRES = (
    "piano", "rhodes", "warm-pad", "strings", "organ", "guitar", "drive-guitar", "pluck",
    "chip-arp", "acoustic-guitar", "power-guitar", "harp",
)  # fmt: skip
LEAD_TIMBRES = (
    "saw-lead", "square-lead", "flute", "bell", "vibes", "pluck", "chip-lead", "brass",
    "strings", "piano", "rhodes", "fiddle", "banjo", "acoustic-guitar", "harp",
)  # fmt: skip
DRUM_KITS = (
    "drums", "electronic-drums", "808-drums", "lofi-drums", "brush-drums", "chip-drums",
    "cinematic-drums", "metal-drums",
)  # fmt: skip


@dataclass(frozen=True)
class Style:
    """Defaults a style word implies; the seed chooses among the tuples."""

    name: str
    words: tuple[str, ...]
    tempo: float
    modes: tuple[tuple[str, float], ...]
    groove: str
    kit: str | None
    basses: tuple[str, ...]
    chords: tuple[str, ...]
    leads: tuple[str, ...]
    family: str  # progression family in theory.py
    chord_size: int  # 3 triads, 4 sevenths
    harmonic_beats: int  # beats per chord
    swing: float  # long share of a swung pair when the groove swings
    swing_pair: int  # 16th steps per swung pair: 4 swings eighths, 2 swings sixteenths
    humanize: float  # seconds of timing looseness
    lead_density: float  # 0..1, how busy melodies are
    echo: float  # feedback of the tempo-synced lead delay, 0 = dry
    crackle: bool = False
    brightness: float = 0.0  # -1 dark .. +1 bright: the style's treble, before mood words
    forms: tuple[str, ...] = ("song",)  # form.py templates the seed chooses among
    trio_has_kit: bool = True  # a "trio" of this style is drums, bass and one more
    # The mix engineer's EQ: dB at 63 Hz, 250 Hz, 1 kHz, 4 kHz and 12 kHz on every sound.
    voicing: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)


STYLES: tuple[Style, ...] = (
    Style(
        "lofi", ("lofi", "lo fi", "chillhop", "study", "studying", "vinyl", "tape"),
        80, (("major", 0.4), ("dorian", 0.3), ("minor", 0.3)), "swing", "lofi-drums",
        ("sub-bass", "upright-bass"), ("rhodes", "piano"), ("flute", "rhodes", "vibes"),
        "lofi", 4, 4, 0.58, 2, 0.012, 0.45, 0.3, crackle=True, brightness=-0.2,
        forms=("loop", "song"),
        voicing=(-7.5, 5.5, -3.5, 3.0, -4.5),
    ),
    Style(
        "jazz", ("jazz", "jazzy", "bebop", "lounge", "bossa", "swingin"),
        126, (("major", 0.5), ("dorian", 0.3), ("minor", 0.2)), "swing", "brush-drums",
        ("upright-bass",), ("piano", "rhodes"), ("vibes", "flute"),
        "jazz", 4, 4, 0.64, 4, 0.008, 0.6, 0.0, forms=("aaba", "head"), brightness=0.1,
        voicing=(-9.5, 1.5, 4.5, -1.0, 2.0),
    ),
    Style(
        "techno", ("techno", "industrial", "warehouse", "rave", "minimal", "acid"),
        130, (("minor", 0.5), ("phrygian", 0.25), ("dorian", 0.25)), "four-on-the-floor",
        "electronic-drums", ("saw-bass", "sub-bass"), ("warm-pad", "organ"),
        ("saw-lead", "square-lead"),
        "drone", 3, 4, 0.5, 2, 0.0, 0.35, 0.4, forms=("club",), brightness=0.2,
        voicing=(0.5, 0.0, -6.0, 4.0, 3.5),
    ),
    Style(
        "house", ("house", "disco", "edm", "dance", "club", "garage house"),
        124, (("minor", 0.35), ("dorian", 0.35), ("major", 0.3)), "four-on-the-floor",
        "electronic-drums", ("electric-bass",), ("piano", "organ"),
        ("pluck", "vibes"), "pop", 4, 4, 0.5, 2, 0.0, 0.45, 0.35, forms=("club", "song"),
        brightness=0.3,
        voicing=(-4.5, -2.0, 4.5, 2.5, 3.0),
    ),
    Style(
        "ambient", ("ambient", "drone", "atmospheric", "meditation", "meditative", "space"),
        72, (("major", 0.35), ("lydian", 0.25), ("minor", 0.2), ("dorian", 0.2)), "straight",
        None, ("sub-bass",), ("warm-pad", "strings"), ("bell", "flute"),
        "ambient", 4, 8, 0.5, 2, 0.0, 0.25, 0.45, forms=("through",), brightness=-0.3,
        voicing=(-9.0, -9.5, -10.0, 9.5, 10.0),
    ),
    Style(
        "rock", ("rock", "indie", "punk", "grunge", "garage", "alternative"),
        122, (("major", 0.45), ("mixolydian", 0.25), ("minor", 0.3)), "straight", "drums",
        ("electric-bass",), ("drive-guitar", "guitar"), ("saw-lead", "square-lead"),
        "rock", 3, 4, 0.5, 2, 0.004, 0.55, 0.2, forms=("song", "riff"), brightness=0.3,
        voicing=(-7.0, -1.5, 7.0, 8.5, -2.5),
    ),
    Style(
        "cinematic", ("cinematic", "epic", "film", "score", "soundtrack", "trailer",
                      "heroic"),
        88, (("minor", 0.5), ("dorian", 0.2), ("lydian", 0.15), ("major", 0.15)), "halftime",
        "cinematic-drums", ("sub-bass",), ("strings",), ("brass", "flute", "bell"),
        "cinematic", 3, 4, 0.5, 2, 0.003, 0.4, 0.3, forms=("through", "song"),
        voicing=(-2.0, 3.0, 0.0, -3.0, -4.0),
    ),
    Style(
        "pop", ("pop", "catchy", "radio", "synthpop", "anthem"),
        112, (("major", 0.6), ("minor", 0.25), ("mixolydian", 0.15)), "straight", "drums",
        ("electric-bass", "sub-bass"), ("piano", "pluck", "warm-pad"),
        ("saw-lead", "square-lead", "pluck"), "pop", 3, 4, 0.5, 2, 0.003, 0.6, 0.3,
        forms=("song", "ballad"), brightness=0.4,
        voicing=(-5.5, -6.5, 4.5, 7.0, 2.0),
    ),
    Style(
        "trap", ("trap", "808", "drill"),
        140, (("minor", 0.5), ("phrygian", 0.3), ("dorian", 0.2)), "halftime", "808-drums",
        ("808-bass",), ("warm-pad", "piano"), ("bell", "pluck", "flute"),
        "pop", 3, 4, 0.5, 2, 0.0, 0.45, 0.35, forms=("loop", "song"),
        voicing=(4.0, -5.0, 0.0, 2.0, 10.0),
    ),
    Style(
        "chiptune", ("chiptune", "chip", "8 bit", "8bit", "16 bit", "retro game", "video game",
                     "arcade", "nes", "gameboy"),
        140, (("major", 0.5), ("minor", 0.3), ("dorian", 0.2)), "straight", "chip-drums",
        ("chip-bass",), ("chip-arp",), ("chip-lead",), "pop", 3, 4, 0.5, 2, 0.0, 0.75, 0.0,
        forms=("song", "aaba"),
        voicing=(-9.0, -3.0, 4.0, 4.0, -4.0),
    ),
    Style(
        "dnb", ("dnb", "drum and bass", "drum n bass", "drum & bass", "jungle", "liquid"),
        172, (("minor", 0.5), ("dorian", 0.3), ("major", 0.2)), "breakbeat", "electronic-drums",
        ("sub-bass", "saw-bass"), ("warm-pad", "rhodes"), ("pluck", "saw-lead"),
        "lofi", 4, 8, 0.5, 2, 0.0, 0.35, 0.35, forms=("club",), brightness=0.2,
        voicing=(6.5, -9.5, -9.5, -4.0, 8.0),
    ),
    Style(
        "hiphop", ("hip hop", "hiphop", "rap", "boom bap", "boombap"),
        90, (("minor", 0.5), ("dorian", 0.3), ("major", 0.2)), "breakbeat", "drums",
        ("sub-bass", "electric-bass"), ("piano", "rhodes", "strings"), ("bell", "flute", "piano"),
        "pop", 4, 4, 0.5, 2, 0.008, 0.4, 0.25, forms=("loop", "song"), brightness=-0.2,
        voicing=(-3.5, 5.5, -7.5, -3.0, 3.0),
    ),
    Style(
        "folk", ("folk", "acoustic", "campfire", "bluegrass", "country", "americana",
                 "singer songwriter", "unplugged"),
        100, (("major", 0.6), ("mixolydian", 0.25), ("dorian", 0.15)), "straight", None,
        ("acoustic-bass",), ("acoustic-guitar",), ("fiddle", "banjo", "flute"),
        "rock", 3, 4, 0.5, 2, 0.006, 0.5, 0.0, brightness=0.3, forms=("ballad", "song", "aaba"),
        trio_has_kit=False,
        voicing=(-8.0, -3.0, 3.0, 4.5, 2.0),
    ),
    Style(
        "metal", ("metal", "heavy metal", "thrash", "doom", "metalcore", "headbanging"),
        150, (("minor", 0.4), ("phrygian", 0.45), ("dorian", 0.15)), "double-kick",
        "metal-drums", ("electric-bass",), ("power-guitar",), ("saw-lead", "square-lead"),
        "rock", 3, 4, 0.5, 2, 0.002, 0.55, 0.0, brightness=0.6, forms=("song", "riff"),
        voicing=(-6.5, 2.0, -1.0, 4.0, -6.5),
    ),
    Style(
        "orchestral", ("orchestral", "orchestra", "symphonic", "symphony", "classical",
                       "chamber", "string quartet", "concerto"),
        84, (("minor", 0.45), ("major", 0.35), ("dorian", 0.2)), "halftime", "cinematic-drums",
        ("contrabass",), ("strings",), ("brass", "flute", "strings"),
        "cinematic", 3, 4, 0.5, 2, 0.004, 0.45, 0.0, brightness=0.2,
        forms=("through", "aaba", "song"), trio_has_kit=False,
        voicing=(-8.0, -1.0, 0.0, 3.5, -0.5),
    ),
    Style(
        "ballad", ("power ballad",),
        110, (("major", 0.55), ("minor", 0.45)), "straight", "brush-drums",
        ("electric-bass", "acoustic-bass"), ("piano",), ("strings", "flute", "piano"),
        "pop", 4, 4, 0.5, 2, 0.006, 0.4, 0.2, brightness=0.1, forms=("ballad", "song"),
        trio_has_kit=False,
        voicing=(-4.0, 0.0, 3.0, 0.0, 0.0),
    ),
    Style(
        FALLBACK_STYLE, (),
        110, (("major", 0.5), ("minor", 0.5)), "straight", "drums",
        ("electric-bass",), ("piano", "warm-pad"), ("square-lead", "saw-lead", "pluck"),
        "pop", 3, 4, 0.5, 2, 0.003, 0.55, 0.25,
    ),
)  # fmt: skip

STYLE_BY_NAME: dict[str, Style] = {style.name: style for style in STYLES}


def style_named(name: str) -> Style:
    """The style table entry for ``name``."""
    try:
        return STYLE_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown style {name!r}") from None


def comp_for(style: str, timbre: str) -> str:
    """How the chord instrument plays its chords: a name patterns.py understands."""
    if timbre in ("warm-pad", "strings"):
        return "sustain"
    if timbre == "chip-arp":
        return "arp16"
    if timbre == "power-guitar":
        return "chug"
    if timbre == "harp":
        return "arp8"
    if timbre == "acoustic-guitar":
        return "fingerpick" if style in ("ballad", "ambient") else "strum"
    if timbre in ("guitar", "drive-guitar"):
        return "strum"
    if timbre == "organ":
        return "stabs" if style == "house" else "sustain"
    if timbre == "pluck":
        return "arp8" if style in ("techno", "dnb", "ambient") else "stabs"
    if style == "jazz":
        return "comp"
    if style in ("lofi", "hiphop", "dnb", "trap"):
        return "hits"
    if style == "house":
        return "stabs"
    if style in ("ambient", "cinematic"):
        return "arp8"
    if style == "ballad":
        return "ballad"  # chords on the beat: the slow pulse a ballad is felt in
    return "pulse"
