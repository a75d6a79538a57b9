"""What a person may write into a new grant: purposes from the documented vocabulary and
ISO 3166-1 territories, each mistake refused with the value most likely meant.

Used where grants are made (``grant create``, the reference server's offer), never where they
are judged: the verifier reads old grants as they were signed. pycountry is imported on first
use, so verifying never pays for its tables.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from provsdk.errors import ConfigurationError
from provsdk.models.grant import PURPOSES, WORLD

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["purpose_name", "territory_code"]


def _pycountry() -> ModuleType:
    import pycountry

    return pycountry


# What people write for "anywhere", and common codes that are not ISO 3166-1 (UK, and EL, the
# EU's code for Greece), each with the code meant.
_NOT_ISO = {
    **dict.fromkeys(("WORLDWIDE", "GLOBAL", "ALL", "ANY", "ANYWHERE", "EVERYWHERE", "*"), WORLD),
    "UK": "GB",
    "EL": "GR",
}


def purpose_name(value: str) -> str:
    """``value`` as a purpose of :data:`PURPOSES` (case and spaces aside), else an error
    suggesting the nearest one and listing them all."""
    name = "-".join(value.strip().lower().replace("_", "-").split())
    if name in PURPOSES:
        return name
    # "promotional" means promo: a word one starts is a better guess than a similar-looking one.
    near = [p for p in PURPOSES if name.startswith(p) or p.startswith(name)][:1] if name else []
    near = near or difflib.get_close_matches(name, PURPOSES, n=1, cutoff=0.6)
    guess = f'did you mean "{near[0]}"? ' if near else ""
    raise ConfigurationError(
        f"unknown purpose {value!r}: {guess}the purposes are {', '.join(PURPOSES)}"
    )


def _country_names() -> dict[str, str]:
    """Every name pycountry knows for a country, lower case, with its alpha-2 code."""
    names: dict[str, str] = {}
    for country in _pycountry().countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                names[name.lower()] = country.alpha_2
    return names


def _meant_country(text: str) -> str | None:
    """The alpha-2 code someone who wrote ``text`` (not one) most likely meant, if any."""
    upper = text.upper()
    if upper in _NOT_ISO:
        return _NOT_ISO[upper]
    country, _, region = upper.partition("-")
    # An ISO 3166-2 subdivision (US-CA) belongs to the country its code starts with.
    known = region and _pycountry().countries.get(alpha_2=country) is not None
    if known and any(s.code == upper for s in _pycountry().subdivisions):
        return country
    by_code = (
        _pycountry().countries.get(alpha_3=upper)
        if len(upper) == 3 and upper.isalpha()
        else _pycountry().countries.get(numeric=text.zfill(3))
        if text.isdigit() and len(text) <= 3
        else None
    )
    if by_code is not None:
        return str(by_code.alpha_2)
    if len(text) > 3:
        try:
            return str(_pycountry().countries.lookup(text).alpha_2)
        except LookupError:
            names = _country_names()
            near = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.75)
            return names[near[0]] if near else None
    return None


def territory_code(value: str) -> str:
    """``value`` as a grant's territory: an ISO 3166-1 alpha-2 code in upper case ("us" is
    ``US``), or ``WORLD``; else an error suggesting the code meant.

    Subdivisions (ISO 3166-2, ``US-CA``) are refused: grants and policies are judged by country,
    so a grant for a region would never answer any policy's question.
    """
    text = value.strip()
    upper = text.upper()
    if upper == WORLD or (
        len(upper) == 2 and upper.isalpha() and _pycountry().countries.get(alpha_2=upper)
    ):
        return upper
    meant = _meant_country(text)
    if "-" in upper and meant is not None and meant != WORLD:
        why = "is a region: grants are for whole countries (ISO 3166-1 alpha-2)"
    else:
        why = "is not an ISO 3166-1 alpha-2 country code, nor WORLD"
    guess = f': did you mean "{meant}"?' if meant else "; give a code such as US or GB, or WORLD"
    raise ConfigurationError(f"territory {value!r} {why}{guess}")
