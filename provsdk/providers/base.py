"""The one interface every generator implements, and the records that cross it."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from provsdk.audio.formats import AudioFormat
from provsdk.errors import UnknownModelError
from provsdk.models.disclosure import DeclaredDisclosure, Disclosure
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "AsyncProvider",
    "Capability",
    "EncodedAudio",
    "Generation",
    "GenerationRequest",
    "PcmAudio",
    "PcmStream",
    "Provider",
    "check_model",
]


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
    format: AudioFormat | None = None  # the format wanted, for providers that encode
    licensee: str | None = None  # who the output is for, for providers that grant rights


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


class PcmStream:
    """Raw int16 samples shaped (frames, channels), handed over block by block as they are
    made, so an hour of audio never has to be in memory at once.

    ``frames`` is the total the blocks add up to, known before the first block (a WAV header
    and progress need it). The blocks can be read once: reading them is what renders them.
    """

    __slots__ = ("_blocks", "channels", "frames", "sample_rate")

    def __init__(
        self,
        blocks: Iterable[NDArray[np.int16]],
        *,
        sample_rate: int,
        channels: int,
        frames: int,
    ) -> None:
        self._blocks: Iterable[NDArray[np.int16]] | None = blocks
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = frames

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def __iter__(self) -> Iterator[NDArray[np.int16]]:
        blocks, self._blocks = self._blocks, None
        if blocks is None:
            raise RuntimeError("the blocks of a PcmStream can be read only once")
        return iter(blocks)

    def __repr__(self) -> str:
        return (
            f"PcmStream(sample_rate={self.sample_rate}, channels={self.channels}, "
            f"frames={self.frames})"
        )


@dataclass(frozen=True)
class EncodedAudio:
    """An encoded file a remote provider sent, already checked to be ``format``.

    ``path`` is a temporary file the provider created; whoever consumes the generation removes
    it (the client does, after signing).
    """

    path: Path
    format: AudioFormat
    duration: float | None
    sample_rate: int | None
    channels: int | None


@dataclass(frozen=True)
class Generation:
    """What a provider returns: the audio and everything the manifest should say about it."""

    audio: PcmAudio | PcmStream | EncodedAudio
    record: GenerationRecord
    source_type: DigitalSourceType
    software_agent: SoftwareAgent
    # The provider-signed training-data disclosure (JWS), when the provider sends one.
    disclosure: str | None = None
    # Or, for a provider run by the caller (the local one), the disclosure for the caller's
    # provider key to sign.
    unsigned_disclosure: Disclosure | None = None
    # Or, for a provider that signs nothing, what it says publicly about its training data.
    declared_disclosure: DeclaredDisclosure | None = None
    # Rights grants the provider issued for this output (licensor-signed JWS).
    grants: tuple[str, ...] = ()


class Provider(Protocol):
    """A generator. Implementations raise :class:`~provsdk.errors.ProviderError` on failure."""

    name: str
    capabilities: frozenset[Capability]

    def generate(self, request: GenerationRequest) -> Generation: ...


@runtime_checkable
class AsyncProvider(Protocol):
    """A generator with a native async path (HTTP providers); others run in a thread."""

    name: str

    async def agenerate(self, request: GenerationRequest) -> Generation: ...


def check_model(provider: object, model: str | None) -> None:
    """Raise :class:`~provsdk.errors.UnknownModelError` if ``provider`` lists its models (a
    ``models`` tuple) and ``model`` is not one of them; ``None`` is the provider's default."""
    known: tuple[str, ...] | None = getattr(provider, "models", None)
    if model is not None and known is not None and model not in known:
        raise UnknownModelError(str(getattr(provider, "name", provider)), model, known)
