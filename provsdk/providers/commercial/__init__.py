"""Adapters for commercial music generators: Stability AI (Stable Audio), ElevenLabs (Eleven
Music) and Beatoven.ai, each over its public REST API and provsdk's HTTP transport.

None of them signs a training-data statement. Each adapter's ``declared_disclosure()`` says
what the provider states in public about its training data, with the sources it was read
from; generations carry it as ``declared_disclosure``, which manifests and reports show as
declared, not signed by the provider (docs/adr/0011-declared-disclosures.md).
"""

from provsdk.providers.commercial.beatoven import BeatovenProvider
from provsdk.providers.commercial.elevenlabs import ElevenLabsProvider
from provsdk.providers.commercial.stability import StabilityProvider

__all__ = ["BeatovenProvider", "ElevenLabsProvider", "StabilityProvider"]
