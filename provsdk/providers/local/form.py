"""Song form: how many beats go to the intro, verses, choruses, bridges, breakdowns and outro.

A style names the forms it may take (FORMS); the seed picks one, the intro and outro
lengths, and where a long track repeats a chorus or skips a bridge.
"""

from __future__ import annotations

import math

from .plan import Section
from .seeding import Dice

_BASE_ENERGY = {
    "intro": 0.3, "verse": 0.6, "chorus": 0.85, "bridge": 0.55, "breakdown": 0.4, "outro": 0.35,
}  # fmt: skip

# The middle of each form, as the roles of its blocks of bars; a long track cycles it.
FORMS: dict[str, tuple[str, ...]] = {
    "song": ("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
    "ballad": ("verse", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "chorus"),
    "aaba": ("verse", "verse", "bridge", "verse"),
    "head": ("verse", "chorus", "chorus", "verse"),  # head, solos, head
    "riff": ("chorus", "verse", "chorus", "verse", "breakdown", "chorus"),
    "club": ("verse", "chorus", "breakdown", "verse", "chorus"),  # build, drop, break
    "through": ("verse", "bridge", "chorus", "breakdown", "chorus"),
    "loop": ("verse", "chorus", "verse", "chorus"),
}


def _middle_roles(count: int, form: str, dice: Dice) -> list[str]:
    """Roles of ``count`` blocks following ``form``; ends where the form ends its cycle."""
    cycle = FORMS[form]
    if count == 1:
        return [cycle[-1]]
    roles: list[str] = []
    position = 0
    while len(roles) < count:
        role = cycle[position % len(cycle)]
        position += 1
        if role == "bridge" and roles.count("bridge") and dice.chance(0.5):
            role = "breakdown"  # later bridges of a long track become breakdowns or go
        roles.append(role)
        if role == "chorus" and len(roles) < count - 1 and dice.chance(0.15):
            roles.append("chorus")  # a double chorus now and then
    roles = roles[:count]
    # Close on the form's strongest block: its last chorus (or verse, for an AABA).
    closing = "verse" if form == "aaba" else "chorus"
    if roles[-1] != closing:
        roles[-1] = closing
    return roles


def _parts(total: int, dice: Dice, form: str = "song") -> list[tuple[str, int]]:
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
        intro, outro, block = (2, 2, 4) if bars < 16 else (4, dice.pick((2, 4)), 4)
    else:
        intro = dice.pick((4, 8)) if bars < 48 else dice.pick((4, 8, 8))
        outro = dice.pick((4, 4, 8)) if bars < 64 else 8
        block = 8
    middle = bars - intro - outro
    sizes = [block] * max(1, middle // block)
    leftover = middle - block * len(sizes)
    if leftover * 2 >= block:
        sizes.append(leftover)
    else:
        sizes[-1] += leftover
    roles = _middle_roles(len(sizes), form, dice)
    parts = [("intro", intro * 4)]
    parts += [(role, size * 4) for role, size in zip(roles, sizes, strict=True)]
    parts.append(("outro", outro * 4 + spare_beats))
    return parts


def layout_sections(
    duration: float, tempo_bpm: float, dice: Dice, forms: tuple[str, ...] = ("song",)
) -> tuple[Section, ...]:
    """Sections covering [0, duration] back to back, on the beat grid of ``tempo_bpm``.

    ``forms`` are the FORMS the style allows; the dice pick one.
    """
    beat = 60.0 / tempo_bpm
    total = math.floor(duration / beat + 1e-9)
    sections: list[Section] = []
    cursor = 0
    choruses = 0
    parts = _parts(total, dice, dice.pick(forms))
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
