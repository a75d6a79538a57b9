"""What a manifest says about where the audio came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = ["DigitalSourceType", "GenerationRecord", "SoftwareAgent", "TrainingMining", "Use"]

_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


class DigitalSourceType(enum.Enum):
    """IPTC digital source types that matter for generated audio."""

    TRAINED_ALGORITHMIC_MEDIA = _IPTC + "trainedAlgorithmicMedia"  # made by a trained model
    ALGORITHMIC_MEDIA = _IPTC + "algorithmicMedia"  # made by rules that learned from nothing
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = _IPTC + "compositeWithTrainedAlgorithmicMedia"
    DIGITAL_CREATION = _IPTC + "digitalCreation"  # made by a person with digital tools
    DIGITAL_CAPTURE = _IPTC + "digitalCapture"  # recorded

    @property
    def short(self) -> str:
        return self.value.rsplit("/", 1)[-1]

    @property
    def meaning(self) -> str:
        """What the type says about the audio, in the words a person would choose it by."""
        return _MEANINGS[self]

    @classmethod
    def choices(cls) -> str:
        """Every type with its meaning, on one line: for errors and help that ask for one."""
        return ", ".join(f"{m.short} ({m.meaning})" for m in cls)

    @property
    def is_ai_generated(self) -> bool:
        return self in (
            DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            DigitalSourceType.ALGORITHMIC_MEDIA,
            DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
        )

    @classmethod
    def parse(cls, value: str) -> DigitalSourceType:
        for member in cls:
            if value in (member.value, member.short, member.name.lower()):
                return member
        names = ", ".join(m.short for m in cls)
        raise ValueError(f"unknown digital source type {value!r}; use one of {names}")


_MEANINGS = {
    DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA: "a trained AI model made it",
    DigitalSourceType.ALGORITHMIC_MEDIA: "a rule-based program made it, learning from nothing",
    DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA: (
        "recorded or hand-made audio combined with a trained AI model's output"
    ),
    DigitalSourceType.DIGITAL_CREATION: "a person made it with digital tools",
    DigitalSourceType.DIGITAL_CAPTURE: "recorded",
}

# Placeholders that name no program: an AI origin credited to one of these credits nobody.
_NO_NAME = frozenset({"", "unknown", "none", "n/a"})


@dataclass(frozen=True)
class SoftwareAgent:
    """The program that made the audio (the generator, not provsdk itself).

    ``version`` is None when nobody said which version made it, rather than a made-up one.
    """

    name: str
    version: str | None = None

    @property
    def named(self) -> bool:
        """Whether ``name`` names a program rather than being blank or a placeholder."""
        return self.name.strip().lower() not in _NO_NAME


Use = Literal["allowed", "notAllowed", "constrained"]


@dataclass(frozen=True)
class TrainingMining:
    """The output's own permissions for downstream text-and-data mining and AI uses (CAWG).

    Defaults reserve every use: whoever wants to train on a track should ask its owner.
    """

    ai_training: Use = "notAllowed"
    ai_generative_training: Use = "notAllowed"
    ai_inference: Use = "notAllowed"
    data_mining: Use = "notAllowed"

    def entries(self) -> dict[str, dict[str, str]]:
        return {
            "cawg.ai_training": {"use": self.ai_training},
            "cawg.ai_generative_training": {"use": self.ai_generative_training},
            "cawg.ai_inference": {"use": self.ai_inference},
            "cawg.data_mining": {"use": self.data_mining},
        }

    @classmethod
    def from_entries(cls, entries: object) -> TrainingMining:
        """Read back a ``cawg.training-mining`` assertion; unknown values reserve the use."""
        found = entries if isinstance(entries, dict) else {}

        def use(key: str) -> Use:
            value = (found.get(f"cawg.{key}") or {}).get("use")
            return value if value in ("allowed", "notAllowed", "constrained") else "notAllowed"

        return cls(
            ai_training=use("ai_training"),
            ai_generative_training=use("ai_generative_training"),
            ai_inference=use("ai_inference"),
            data_mining=use("data_mining"),
        )


@dataclass(frozen=True)
class GenerationRecord:
    """How a generator was asked for this audio; kept in the ``io.provsdk.generation`` assertion."""

    provider: str
    model: str
    prompt: str | None
    seed: int | None
    duration: float
    request_id: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
