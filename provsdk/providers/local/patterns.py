"""Rhythm patterns on a 16-step (sixteenth-note) bar: drums, bass figures, chord comping.

Drum patterns are strings, one character per step: ``X`` accent, ``x`` normal,
``o`` soft, ``g`` ghost, ``.`` rest. A pattern has a ``core`` played in verses
and a ``lift`` that is layered on top (replacing the same piece) in choruses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STEPS_PER_BEAT = 4
VELOCITY = {"X": 1.0, "x": 0.8, "o": 0.55, "g": 0.32}
# Pieces that keep time quietly; the only ones played in intros and breakdowns.
TIMEKEEPERS = ("hat", "ride", "shaker")


@dataclass(frozen=True)
class DrumPattern:
    core: dict[str, str]
    lift: dict[str, str] = field(default_factory=dict)


def hits(row: str) -> list[tuple[int, float]]:
    """(step, velocity) for each struck step of a pattern row."""
    return [(step, VELOCITY[ch]) for step, ch in enumerate(row) if ch in VELOCITY]


DRUM_PATTERNS: dict[str, tuple[DrumPattern, ...]] = {
    "four-on-the-floor": (
        DrumPattern(
            {"kick": "X...X...X...X...", "clap": "....x.......x...", "hat": "o.x.o.x.o.x.o.x."},
            {"hat": "x...x...x...x...", "open": "..x...x...x...x.", "shaker": "gogogogogogogogo"},
        ),
        DrumPattern(
            {"kick": "X...X...X...X...", "clap": "....x.......x...", "hat": "..x...x...x...x."},
            {"hat": "gogxgogxgogxgogx", "open": "..x...x...x...x.", "rim": "...o..o....o..o."},
        ),
    ),
    "straight": (
        DrumPattern(
            {"kick": "X.......X.x.....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
            {
                "kick": "X.....x.X.x.....",
                "hat": "",
                "ride": "x.o.x.o.x.o.x.o.",
                "open": "..............x.",
            },
        ),
        DrumPattern(
            {"kick": "X......xX.......", "snare": "....X.......X..g", "hat": "x.o.x.o.x.o.x.o."},
            {"hat": "xoxoxoxoxoxoxoxo", "open": "......x.......x."},
        ),
        DrumPattern(
            {"kick": "X..x..x.X.......", "snare": "....X.......X...", "hat": "xgoxxgoxxgoxxgox"},
            {"clap": "....x.......x...", "open": "..............x.", "shaker": "..o...o...o...o."},
        ),
    ),
    "halftime": (
        DrumPattern(
            {"kick": "X.........x.....", "snare": "........X.......", "hat": "x.o.x.o.x.o.x.o."},
            {"kick": "X......x..x.....", "hat": "xoxoxoxoxoxoxoxo", "open": "..............x."},
        ),
        DrumPattern(
            {"kick": "X......x.X......", "snare": "........X.......", "hat": "x.xox.x.x.xox.x."},
            {"hat": "xoxoxoxoxoxoxoxo", "clap": "........x.......", "rim": "...o.......o...."},
        ),
    ),
    "breakbeat": (
        DrumPattern(
            {"kick": "X.x.......Xx....", "snare": "....X..g.g..X..g", "hat": "x.o.x.o.x.o.x.o."},
            {"hat": "", "ride": "x.o.x.o.x.o.x.o.", "open": "..............x."},
        ),
        DrumPattern(
            {"kick": "X......x..x.....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.oo"},
            {"hat": "xoxoxoxoxoxoxoxo", "open": "......x........."},
        ),
        DrumPattern(
            {"kick": "X.........x.....", "snare": "....X.......X...", "hat": "x.ox.ox.x.ox.ox."},
            {"hat": "xoxoxoxoxoxoxoxo", "shaker": "gogogogogogogogo", "rim": "..o.......o....."},
        ),
    ),
    "swing": (
        DrumPattern(
            {"kick": "X......x.xX.....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
            {"hat": "xoxoxoxoxoxoxoxo", "open": "..............x."},
        ),
        DrumPattern(
            {"kick": "X.....x...x.....", "snare": "....X.......X...", "hat": "x.xox.x.x.xox.x."},
            {"kick": "X.....x...x..x..", "shaker": "..o...o...o...o.", "rim": "...g.......g...."},
        ),
    ),
    # Metal: eighth-note kick under the verse riff, sixteenth double kick in the chorus.
    "double-kick": (
        DrumPattern(
            {"kick": "X.x.X.x.X.x.X.x.", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
            {
                "kick": "XxxxXxxxXxxxXxxx",
                "hat": "",
                "ride": "x.x.x.x.x.x.x.x.",
                "crash": "x.......x.......",
            },
        ),
        DrumPattern(
            {"kick": "X.xxX.x.X.xxX.x.", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
            {"kick": "XxxxXxxxXxxxXxxx", "crash": "x...x...x...x...", "hat": ""},
        ),
    ),
    # Style feels, used when the style keeps its own groove (arrange.feel).
    # Ballad: nothing between the beats, so the slow beat is what one feels.
    "ballad": (
        DrumPattern(
            {"kick": "X.......X.......", "snare": "....x.......x...", "hat": "x...x...x...x..."},
            {"hat": "", "ride": "x...x...x...x...", "kick": "X.......X...o..."},
        ),
    ),
    # Drum and bass: the two-step's kick and snare, every beat marked by a ride and one and
    # three by an open hat as well (the snare not accented over them), so the 170s pulse, not
    # its half, is the one that carries.
    "dnb": (
        DrumPattern(
            {
                "kick": "X.......x.X.....",
                "snare": "....x.......x...",
                "hat": "x.x.x.x.x.x.x.x.",
                "ride": "X...X...X...X...",
                "open": "x.......x.......",
            },
            {"shaker": "gogogogogogogogo", "snare": "....x.......x..g"},
        ),
        DrumPattern(
            {
                "kick": "X.......x.X..o..",
                "snare": "....x.......x...",
                "hat": "x.x.x.x.x.x.x.x.",
                "ride": "X...X...X...X...",
                "open": "x.......x.......",
            },
            {"shaker": "gogogogogogogogo", "rim": "..o.......o....."},
        ),
    ),
    # Lofi: a lazy boom-bap whose kick still lands on one and three under the swung hats.
    "lofi": (
        DrumPattern(
            {"kick": "X.......X.x.....", "snare": "....X.......X...", "hat": "x.o.x.o.x.o.x.o."},
            {"kick": "X.......X.x...x.", "rim": "...g.......g....", "open": "..............x."},
        ),
        DrumPattern(
            {"kick": "X.....x.X.......", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
            {"shaker": "..o...o...o...o.", "kick": "X.....x.X.x....."},
        ),
    ),
    # Jazz time: ride "spang-a-lang", hi-hat foot on 2 and 4, feathered kick, brush ghosts.
    "jazz": (
        DrumPattern(
            {"ride": "x...x.o.x...x.o.", "hat": "....o.......o...", "kick": "g.......g......."},
            {"ride": "X...x.o.X...x.o.", "snare": "......g.......g.", "kick": "g...g...g...g..."},
        ),
        DrumPattern(
            {"ride": "x...x.o.x...x.o.", "hat": "....o.......o...", "snare": "..........g....."},
            {"snare": "...g..g....g..g.", "kick": "g.......g....g.."},
        ),
    ),
}

# Bass figures: (step, length in steps, tone); tones: R root, 5 fifth, 8 octave,
# 3 third, A chromatic approach to the next chord's root.
BassFigure = tuple[tuple[int, int, str], ...]

BASS_FIGURES: dict[str, tuple[tuple[BassFigure, BassFigure], ...]] = {
    "four-on-the-floor": (
        (((2, 2, "R"), (6, 2, "R"), (10, 2, "R"), (14, 2, "R")),
         ((2, 1, "R"), (3, 1, "R"), (6, 1, "R"), (7, 1, "8"), (10, 1, "R"), (11, 1, "R"),
          (14, 1, "5"), (15, 1, "R"))),
        (((0, 2, "R"), (3, 1, "R"), (6, 2, "R"), (10, 2, "8"), (14, 2, "R")),
         ((2, 2, "R"), (6, 2, "8"), (10, 2, "R"), (13, 1, "5"), (14, 2, "8"))),
    ),
    "straight": (
        (((0, 6, "R"), (6, 2, "R"), (8, 6, "R"), (14, 2, "5")),
         ((0, 2, "R"), (2, 2, "R"), (4, 2, "R"), (6, 2, "8"), (8, 2, "R"), (10, 2, "R"),
          (12, 2, "5"), (14, 2, "A"))),
        (((0, 3, "R"), (3, 3, "R"), (8, 3, "R"), (11, 3, "5"), (14, 2, "R")),
         ((0, 2, "R"), (2, 2, "8"), (4, 2, "R"), (6, 2, "5"), (8, 2, "R"), (10, 2, "8"),
          (12, 2, "3"), (14, 2, "A"))),
    ),
    "halftime": (
        (((0, 10, "R"), (10, 6, "R")),
         ((0, 7, "R"), (7, 3, "8"), (10, 6, "5"))),
        (((0, 6, "R"), (7, 9, "R")),
         ((0, 4, "R"), (6, 2, "R"), (7, 5, "8"), (13, 3, "5"))),
    ),
    "breakbeat": (
        (((0, 3, "R"), (3, 4, "R"), (10, 3, "R"), (13, 3, "5")),
         ((0, 2, "R"), (3, 2, "8"), (6, 2, "R"), (10, 2, "R"), (12, 2, "5"), (14, 2, "A"))),
        (((0, 6, "R"), (7, 3, "R"), (10, 6, "5")),
         ((0, 3, "R"), (3, 3, "8"), (7, 3, "R"), (10, 4, "5"), (14, 2, "A"))),
    ),
    "double-kick": (
        (((0, 1, "R"), (2, 1, "R"), (4, 1, "R"), (6, 1, "R"), (8, 1, "R"), (10, 1, "R"),
          (12, 1, "R"), (14, 1, "R")),
         ((0, 4, "R"), (4, 2, "R"), (6, 2, "R"), (8, 4, "R"), (12, 2, "5"), (14, 2, "R"))),
    ),
    # A ballad's bass holds the downbeats and walks the beats only in the chorus.
    "ballad": (
        (((0, 8, "R"), (8, 8, "5")),
         ((0, 4, "R"), (4, 4, "5"), (8, 4, "8"), (12, 4, "5"))),
    ),
    # Drum and bass: a rolling line on every beat, eighths when the drop lands.
    "dnb": (
        (((0, 3, "R"), (4, 3, "R"), (8, 3, "5"), (12, 3, "R")),
         ((0, 2, "R"), (2, 2, "8"), (4, 2, "R"), (6, 2, "8"), (8, 2, "5"), (10, 2, "8"),
          (12, 2, "R"), (14, 2, "A"))),
    ),
    "swing": (
        (((0, 6, "R"), (7, 3, "5"), (10, 6, "R")),
         ((0, 4, "R"), (6, 2, "5"), (8, 4, "8"), (12, 2, "5"), (14, 2, "A"))),
        (((0, 10, "R"), (10, 6, "5")),
         ((0, 6, "R"), (6, 4, "3"), (10, 4, "5"), (14, 2, "A"))),
    ),
}  # fmt: skip

# Chord comping: (step, length in steps) per bar; "hits" and "comp" vary bar by bar.
Comp = tuple[tuple[int, int], ...]

COMP_FIGURES: dict[str, tuple[Comp, ...]] = {
    "pulse": (((0, 4), (4, 4), (8, 4), (12, 4)),
              ((0, 3), (4, 2), (6, 2), (8, 3), (12, 2), (14, 2))),
    "stabs": (((2, 2), (6, 2), (10, 2), (14, 2)), ((0, 2), (3, 2), (6, 2), (10, 2), (13, 2))),
    "hits": (((0, 10), (10, 6)), ((0, 6), (6, 10)), ((0, 3), (3, 13)), ((0, 14), (14, 2))),
    "comp": (((0, 3),), ((2, 2), (10, 4)), ((0, 2), (6, 2), (12, 3)), ((4, 3), (14, 2)),
             ((2, 3), (8, 2))),
    # Ballad piano: a chord on every beat, then a fuller bar in the chorus, no eighths.
    "ballad": (((0, 4), (4, 4), (8, 4), (12, 4)), ((0, 8), (8, 4), (12, 4))),
    # Metal rhythm guitar: palm-muted sixteenth chugs, then open ringing chords.
    "chug": (((0, 1), (1, 1), (2, 2), (4, 1), (5, 1), (6, 2), (8, 1), (9, 1), (10, 2), (12, 1),
              (13, 1), (14, 2)),
             ((0, 6), (6, 2), (8, 6), (14, 2))),
    # Strums: negative length marks an up-strum (played high to low, softer).
    "strum": (((0, 4), (4, 2), (6, -4), (10, -2), (12, 2), (14, -2)),
              ((0, 2), (2, 2), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2), (14, 2))),
}  # fmt: skip
