"""The built-in generator as a provider: offline, deterministic, trained on nothing."""

from __future__ import annotations

import secrets

from provsdk.disclosure.statement import no_training_data
from provsdk.errors import ProviderError
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import (
    Capability,
    Generation,
    GenerationRequest,
    PcmAudio,
    check_model,
)
from provsdk.providers.local import GENERATOR_NAME, GENERATOR_VERSION, render_track

__all__ = ["LocalProvider"]


class LocalProvider:
    """Procedural music from prompt words and a seed (see ``provsdk.providers.local``).

    It learned from nothing, so its output is ``algorithmicMedia``, not
    ``trainedAlgorithmicMedia``. Without a seed one is drawn and recorded in the manifest, so
    any track can be rendered again.
    """

    name = "local"
    capabilities = frozenset({Capability.SYNCHRONOUS, Capability.OFFLINE})
    models = (GENERATOR_NAME,)  # the one model; any other name is refused, not ignored

    def generate(self, request: GenerationRequest) -> Generation:
        check_model(self, request.model)
        seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        try:
            samples, plan = render_track(
                request.prompt,
                seed=seed,
                duration=request.duration,
                sample_rate=request.sample_rate,
                channels=request.channels,
            )
        except (ValueError, TypeError) as exc:
            raise ProviderError(str(exc), provider=self.name) from None
        record = GenerationRecord(
            provider=self.name,
            model=f"{GENERATOR_NAME} {GENERATOR_VERSION}",
            prompt=request.prompt,
            seed=seed,
            duration=request.duration,
            parameters=(
                ("style", plan.style),
                ("tempo_bpm", f"{plan.tempo_bpm:g}"),
                ("key", f"{plan.key} {plan.mode}"),
                ("groove", plan.groove),
                ("instruments", ", ".join(plan.instruments)),
            ),
        )
        return Generation(
            audio=PcmAudio(samples, request.sample_rate),
            record=record,
            source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
            software_agent=SoftwareAgent(GENERATOR_NAME, GENERATOR_VERSION),
            unsigned_disclosure=no_training_data("provsdk", GENERATOR_NAME, GENERATOR_VERSION),
        )
