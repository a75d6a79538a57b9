"""From records to the manifest definition c2pa's Builder takes. No I/O, no signing."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from provsdk._version import __version__
from provsdk.audio.formats import AudioFormat
from provsdk.models.disclosure import DeclaredDisclosure
from provsdk.models.grant import ContractDocument
from provsdk.models.origin import (
    DigitalSourceType,
    GenerationRecord,
    SoftwareAgent,
    TrainingMining,
)
from provsdk.statements import read_statement

__all__ = [
    "ACTIONS",
    "CONTRACT",
    "DISCLOSURE",
    "GENERATION",
    "GRANT",
    "PARENT_INGREDIENT",
    "TRAINING_MINING",
    "ManifestSpec",
    "manifest_definition",
]

ACTIONS = "c2pa.actions.v2"
# How the parent ingredient is named in the definition, so the "opened" action can point at it.
PARENT_INGREDIENT = "parent"
TRAINING_MINING = "cawg.training-mining"
GENERATION = "io.provsdk.generation"
DISCLOSURE = "io.provsdk.training-disclosure"
GRANT = "io.provsdk.rights-grant"
CONTRACT = "io.provsdk.contract"


@dataclass(frozen=True)
class ManifestSpec:
    """What one signed manifest says.

    ``source_type`` and ``software_agent`` make the ``c2pa.created`` action; with a
    ``parent`` (an input that already carries a manifest) the action is ``c2pa.opened`` and the
    earlier manifest becomes the parent ingredient, so history stays verifiable.
    """

    title: str
    source_type: DigitalSourceType
    software_agent: SoftwareAgent
    training_mining: TrainingMining = field(default_factory=TrainingMining)
    generation: GenerationRecord | None = None
    extra_assertions: tuple[tuple[str, Any], ...] = ()
    has_parent: bool = False
    disclosure: str | None = None  # the provider-signed JWS
    declared_disclosure: DeclaredDisclosure | None = None  # used only without a signed one
    grants: tuple[str, ...] = ()  # licensor-signed JWS, one assertion each
    contracts: tuple[tuple[ContractDocument, bytes], ...] = ()  # documents grants bind by hash


def _generation_data(record: GenerationRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": record.provider,
        "model": record.model,
        "duration": record.duration,
    }
    if record.prompt is not None:
        data["prompt"] = record.prompt
    if record.seed is not None:
        data["seed"] = record.seed
    if record.request_id is not None:
        data["request_id"] = record.request_id
    if record.parameters:
        data["parameters"] = dict(record.parameters)
    return data


def _statement_data(token: str) -> dict[str, Any]:
    # The JWS is the truth; the readable copy is for people and tools that cannot decode JWS.
    return {"jws": token, "statement": read_statement(token).payload}


def manifest_definition(spec: ManifestSpec, fmt: AudioFormat) -> dict[str, Any]:
    """The JSON definition for ``c2pa.Builder``."""
    agent = {"name": spec.software_agent.name, "version": spec.software_agent.version}
    if spec.has_parent:
        first: dict[str, Any] = {
            "action": "c2pa.opened",
            "softwareAgent": agent,
            "parameters": {"ingredientIds": [PARENT_INGREDIENT]},
        }
    else:
        first = {
            "action": "c2pa.created",
            "digitalSourceType": spec.source_type.value,
            "softwareAgent": agent,
        }
    assertions: list[dict[str, Any]] = [
        {"label": ACTIONS, "data": {"actions": [first]}},
        {"label": TRAINING_MINING, "data": {"entries": spec.training_mining.entries()}},
    ]
    if spec.generation is not None:
        assertions.append({"label": GENERATION, "data": _generation_data(spec.generation)})
    if spec.disclosure is not None:
        assertions.append({"label": DISCLOSURE, "data": _statement_data(spec.disclosure)})
    elif spec.declared_disclosure is not None:
        declared = spec.declared_disclosure
        data = {
            "declared": declared.disclosure.to_dict(),
            "declared_by": declared.declared_by,
            "sources": list(declared.sources),
        }
        assertions.append({"label": DISCLOSURE, "data": data})
    assertions.extend({"label": GRANT, "data": _statement_data(token)} for token in spec.grants)
    assertions.extend(
        {
            "label": CONTRACT,
            "data": {
                "name": doc.name,
                "media_type": doc.media_type,
                "sha256": doc.sha256,
                "data": base64.b64encode(content).decode(),
            },
        }
        for doc, content in spec.contracts
    )
    assertions.extend({"label": label, "data": data} for label, data in spec.extra_assertions)
    return {
        "claim_generator_info": [{"name": "provsdk", "version": __version__}],
        "title": spec.title,
        "format": fmt.mime_type,
        "assertions": assertions,
    }
