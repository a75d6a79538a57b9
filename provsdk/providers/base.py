"""The one interface every generator implements, and the records that cross it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from provsdk.models.disclosure import Disclosure
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Capability", "Generation", "GenerationRequest", "PcmAudio", "Provider"]


class Capability(enum.Enum):
    SYNCHRONOUS = "synchronous"  # one call returns the audio
    JOB_AND_POLL = "job-and-poll"  # create a job, poll it, download
    STREAMING = "streaming"  # audio arrives while it is generated
    OFFLINE = "offline"  # runs on this machine, no network


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    duration: float
    seed: int | None = None
    sample_rate: int = 44100
    channels: int = 2
    model: str | None = None


@dataclass(frozen=True)
class PcmAudio:
    """Raw samples, int16, shaped (frames, channels)."""

    samples: NDArray[np.int16]
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return int(self.samples.shape[0]) / self.sample_rate


@dataclass(frozen=True)
class Generation:
    """What a provider returns: the audio and everything the manifest should say about it."""

    audio: PcmAudio
    record: GenerationRecord
    source_type: DigitalSourceType
    software_agent: SoftwareAgent
    # The provider-signed training-data disclosure (JWS), when the provider sends one.
    disclosure: str | None = None
    # Or, for a provider run by the caller (the local one), the disclosure for the caller's
    # provider key to sign.
    unsigned_disclosure: Disclosure | None = None


class Provider(Protocol):
    """A generator. Implementations raise :class:`~provsdk.errors.ProviderError` on failure."""

    name: str
    capabilities: frozenset[Capability]

    def generate(self, request: GenerationRequest) -> Generation: ...
