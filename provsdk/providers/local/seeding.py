"""Reproducible randomness.

Every random decision comes from a PCG64 stream keyed by a SHA-256 of the
normalised prompt, the seed and a tag naming the decision ("melody:chorus",
"drums", ...). Tags keep the parts independent: changing how the bass is
written does not reshuffle the melody. Only ``Generator.random`` is used,
because it maps the raw PCG64 bits to doubles in a fixed way; the fancier
samplers (normal, choice, integers) are free to change between numpy releases.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")


def normalise_prompt(prompt: str) -> str:
    """Case- and whitespace-insensitive form of a prompt, used for hashing and parsing."""
    text = unicodedata.normalize("NFKC", prompt).lower()
    return " ".join(text.split())


def _key(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big")


class Dice:
    """A small, version-stable facade over one PCG64 stream."""

    def __init__(self, *parts: object) -> None:
        self._gen = np.random.Generator(np.random.PCG64(_key("provsdk-local", *parts)))

    def random(self) -> float:
        """Uniform float in [0, 1)."""
        return float(self._gen.random())

    def uniform(self, low: float, high: float) -> float:
        """Uniform float in [low, high)."""
        return low + (high - low) * self.random()

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.random() < probability

    def below(self, count: int) -> int:
        """Uniform integer in [0, count)."""
        return min(int(self.random() * count), count - 1)

    def pick(self, options: Sequence[T], weights: Sequence[float] | None = None) -> T:
        """One element of ``options``, optionally weighted."""
        if not options:
            raise ValueError("nothing to pick from")
        if weights is None:
            return options[self.below(len(options))]
        total = math.fsum(weights)
        target = self.random() * total
        running = 0.0
        for option, weight in zip(options, weights, strict=True):
            running += weight
            if target < running:
                return option
        return options[-1]

    def jitter(self, spread: float) -> float:
        """Roughly bell-shaped offset in [-spread, spread] (sum of two uniforms)."""
        return spread * (self.random() + self.random() - 1.0)

    def noise(self, count: int) -> npt.NDArray[np.float32]:
        """White noise, uniform in [-1, 1)."""
        return (self._gen.random(count) * 2.0 - 1.0).astype(np.float32)


def noise(count: int, *parts: object) -> npt.NDArray[np.float32]:
    """White noise that depends only on ``parts``: the same tag gives the same noise."""
    return Dice("noise", *parts).noise(count)
