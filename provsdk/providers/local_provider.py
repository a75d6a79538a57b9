"""The built-in generator as a provider: offline, deterministic, trained on nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from provsdk.disclosure.statement import no_training_data
from provsdk.errors import ProviderError
from provsdk.models.origin import DigitalSourceType, GenerationRecord, SoftwareAgent
from provsdk.providers.base import (
    Capability,
    Generation,
    GenerationRequest,
    PcmStream,
    check_model,
)
from provsdk.providers.local import (
    GENERATOR_NAME,
    GENERATOR_VERSION,
    frame_count,
    plan_track,
    render_blocks,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["LocalProvider"]


class LocalProvider:
    """Procedural music from prompt words and a seed (see ``provsdk.providers.local``).

    It learned from nothing, so its output is ``algorithmicMedia``, not
    ``trainedAlgorithmicMedia``. Without a seed one is drawn and recorded in the manifest, so
    any track can be rendered again.

    The audio is a :class:`PcmStream`: the request is checked and the music planned here, so
    a bad prompt or duration raises before anything is written; the samples are rendered
    while the client encodes them.
    """

    name = "local"
    capabilities = frozenset({Capability.SYNCHRONOUS, Capability.OFFLINE})
    models = (GENERATOR_NAME,)  # the one model; any other name is refused, not ignored

    def generate(self, request: GenerationRequest) -> Generation:
        check_model(self, request.model)
        seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        try:
            plan = plan_track(
                request.prompt,
                seed=seed,
                duration=request.duration,
                sample_rate=request.sample_rate,
            )
            blocks = render_blocks(plan, channels=request.channels)
        except (ValueError, TypeError) as exc:
            raise ProviderError(str(exc), provider=self.name) from None
        audio = PcmStream(
            self._as_provider_errors(blocks),
            sample_rate=plan.sample_rate,
            channels=int(request.channels),  # checked by render_blocks
            frames=frame_count(plan),
        )
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
            audio=audio,
            record=record,
            source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
            software_agent=SoftwareAgent(GENERATOR_NAME, GENERATOR_VERSION),
            unsigned_disclosure=no_training_data("provsdk", GENERATOR_NAME, GENERATOR_VERSION),
        )

    def _as_provider_errors(
        self, blocks: Iterable[NDArray[np.int16]]
    ) -> Iterator[NDArray[np.int16]]:
        # The renderer checks everything it can before the first block; should a block still
        # fail, the caller hears a ProviderError, as it would have from generate().
        try:
            yield from blocks
        except (ValueError, TypeError) as exc:
            raise ProviderError(str(exc), provider=self.name) from None
