"""Generators behind one :class:`Provider` protocol, found by name in a registry.

Factories import their module only when asked for, so listing providers stays cheap and a
provider's optional dependencies are only needed by those who use it.
"""

from provsdk.providers.base import (
    AsyncProvider,
    Capability,
    EncodedAudio,
    Generation,
    GenerationRequest,
    PcmAudio,
    PcmStream,
    Provider,
)
from provsdk.providers.registry import get_provider, provider_names, register_provider

__all__ = [
    "AsyncProvider",
    "Capability",
    "EncodedAudio",
    "Generation",
    "GenerationRequest",
    "PcmAudio",
    "PcmStream",
    "Provider",
    "get_provider",
    "provider_names",
    "register_provider",
]
