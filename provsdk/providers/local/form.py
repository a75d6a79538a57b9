"""Song form: how many beats go to the intro, verses, choruses, breakdown and outro."""

from __future__ import annotations

import math

from .plan import Section
from .seeding import Dice

_BASE_ENERGY = {"intro": 0.3, "verse": 0.6, "chorus": 0.85, "breakdown": 0.4, "outro": 0.35}


def _middle_roles(count: int, dice: Dice) -> list[str]:
    """Verse/chorus alternation with an occasional breakdown; always ends on a chorus."""
    if count == 1:
        return ["chorus"]
    roles: list[str] = []
    choruses_since_break = 0
    while len(roles) < count:
        remaining = count - len(roles)
        last = roles[-1] if roles else ""
        if remaining == 1 or last in ("verse", "breakdown"):
            roles.append("chorus")
            choruses_since_break += 1
        elif last == "chorus" and choruses_since_break >= 2 and remaining >= 2 and dice.chance(0.7):
            roles.append("breakdown")
            choruses_since_break = 0
        elif last == "chorus" and choruses_since_break >= 2 and dice.chance(0.3):
            # A double chorus now and then, so long tracks don't alternate mechanically.
            roles.append("chorus")
            choruses_since_break += 1
        else:
            roles.append("verse")
    return roles


def _parts(total: int, dice: Dice) -> list[tuple[str, int]]:
    """(role, beats) for a track of ``total`` whole beats."""
    if total <= 2:
        return [("main", max(total, 1))]
    if total < 8:
        # A couple of seconds: one beat to set the chord, the groove, one beat to land.
        return [("intro", 1), ("chorus", total - 2), ("outro", 1)]
    if total < 32:
        intro = 4 if total >= 12 else 2
        outro = 4 if total >= 16 else 2
        middle = total - intro - outro
        if middle >= 12:
            verse = (middle // 8) * 4
            return [
                ("intro", intro),
                ("verse", verse),
                ("chorus", middle - verse),
                ("outro", outro),
            ]
        return [("intro", intro), ("chorus", middle), ("outro", outro)]
    bars, spare_beats = divmod(total, 4)
    if bars < 24:
        intro, outro, block = (2, 2, 4) if bars < 16 else (4, 4, 4)
    else:
        intro = 4 if bars < 48 else 8
        outro = 4 if bars < 64 else 8
        block = 8
    middle = bars - intro - outro
    sizes = [block] * max(1, middle // block)
    leftover = middle - block * len(sizes)
    if leftover * 2 >= block:
        sizes.append(leftover)
    else:
        sizes[-1] += leftover
    roles = _middle_roles(len(sizes), dice)
    parts = [("intro", intro * 4)]
    parts += [(role, size * 4) for role, size in zip(roles, sizes, strict=True)]
    parts.append(("outro", outro * 4 + spare_beats))
    return parts


def layout_sections(duration: float, tempo_bpm: float, dice: Dice) -> tuple[Section, ...]:
    """Sections covering [0, duration] back to back, on the beat grid of ``tempo_bpm``."""
    beat = 60.0 / tempo_bpm
    total = math.floor(duration / beat + 1e-9)
    sections: list[Section] = []
    cursor = 0
    choruses = 0
    parts = _parts(total, dice)
    for index, (role, beats) in enumerate(parts):
        energy = _BASE_ENERGY.get(role, 0.8)
        if role == "chorus":
            # Each chorus lifts a little more than the last.
            energy = min(1.0, energy + 0.05 * choruses)
            choruses += 1
        end_beat = cursor + beats
        is_last = index == len(parts) - 1
        sections.append(
            Section(
                name=role,
                start=cursor * beat,
                end=duration if is_last else end_beat * beat,
                start_beat=cursor,
                end_beat=end_beat,
                energy=round(energy, 3),
            )
        )
        cursor = end_beat
    return tuple(sections)
