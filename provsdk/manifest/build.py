"""From records to the manifest definition c2pa's Builder takes. No I/O, no signing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provsdk._version import __version__
from provsdk.audio.formats import AudioFormat
from provsdk.errors import ConfigurationError
from provsdk.jws import read_statement
from provsdk.models.disclosure import DeclaredDisclosure
from provsdk.models.grant import ContractDocument
from provsdk.models.origin import (
    DigitalSourceType,
    GenerationRecord,
    SoftwareAgent,
    TrainingMining,
)
from provsdk.softbinding.assertion import soft_binding_assertion
from provsdk.softbinding.audio_code import AudioCode
from provsdk.softbinding.fingerprint import Fingerprint
from provsdk.softbinding.signed_fingerprint import fingerprint_assertion

__all__ = [
    "ACTIONS",
    "CONTRACT",
    "DISCLOSURE",
    "EMBEDDED_DATA",
    "GENERATION",
    "GRANT",
    "PARENT_INGREDIENT",
    "SPEC_VERSION",
    "TRAINING_MINING",
    "ManifestSpec",
    "manifest_definition",
    "manifest_resources",
]

ACTIONS = "c2pa.actions.v2"
# The version of the C2PA specification the manifests are written to, declared in
# claim_generator_info, as spec 2.4 asks (the Conformance Program 0.2 requires it).
SPEC_VERSION = "2.4"
# How the parent ingredient is named in the definition, so the "opened" action can point at it.
PARENT_INGREDIENT = "parent"
TRAINING_MINING = "cawg.training-mining"
GENERATION = "io.provsdk.generation"
DISCLOSURE = "io.provsdk.training-disclosure"
GRANT = "io.provsdk.rights-grant"
# The data type that marks an ingredient as a contract a grant binds. Files made before
# contracts were carried as binary data hold them in JSON assertions of this label, base64.
CONTRACT = "io.provsdk.contract"
# Where c2pa puts an ingredient's bytes; its JSON report names the resource, never holds it.
EMBEDDED_DATA = "c2pa.embedded-data"


@dataclass(frozen=True)
class ManifestSpec:
    """What one signed manifest says.

    ``source_type`` and ``software_agent`` make the ``c2pa.created`` action of a file with no
    manifest yet, and a source type is then required: nothing is claimed that nobody stated.
    An AI source type needs a named ``software_agent`` (the generator that made the audio).
    With a parent (an input that already carries a manifest) the action is ``c2pa.opened`` by
    provsdk, both are unused, and the earlier manifest becomes the parent ingredient, so
    history stays verifiable; it already says how the audio was made.
    """

    title: str
    source_type: DigitalSourceType | None = None
    software_agent: SoftwareAgent | None = None
    training_mining: TrainingMining = field(default_factory=TrainingMining)
    generation: GenerationRecord | None = None
    extra_assertions: tuple[tuple[str, Any], ...] = ()
    has_parent: bool = False
    disclosure: str | None = None  # the provider-signed JWS
    declared_disclosure: DeclaredDisclosure | None = None  # used only without a signed one
    grants: tuple[str, ...] = ()  # licensor-signed JWS, one assertion each
    contracts: tuple[tuple[ContractDocument, bytes], ...] = ()  # documents grants bind by hash
    # The ISCC Audio-Code of the sound, for the c2pa.soft-binding assertion, and the Chromaprint
    # fingerprint it was computed from, signed beside it so a recovery can be confirmed against
    # signed data (sign_file computes both from the input when they are not given).
    soft_binding: AudioCode | None = None
    fingerprint: Fingerprint | None = None
    # With a parent: how its audio was made, as a trusted history states it, restated on a
    # c2pa.edited.metadata action for viewers that read only the active manifest (the opened
    # action may carry none). Only a caller that checked the history may set it.
    restated_source_type: DigitalSourceType | None = None

    def __post_init__(self) -> None:
        # Checked here, not only by the CLI, so no caller can credit an AI origin to nobody.
        source, agent = self.source_type, self.software_agent
        if source is not None and source.is_ai_generated and (agent is None or not agent.named):
            given = f" ({agent.name!r} names none)" if agent is not None else ""
            raise ConfigurationError(
                f"the source type {source.short} says {source.meaning}; name the program that "
                f"made the audio as its software agent{given} (--generator NAME)"
            )


def _origin_required() -> ConfigurationError:
    """The error for a first manifest that would not say how its audio was made."""
    return ConfigurationError(
        "the input carries no C2PA manifest, so the new manifest is its first and must say "
        "how the audio was made: give a digital source type (--source-type), one of "
        f"{DigitalSourceType.choices()}"
    )


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


def _agent(agent: SoftwareAgent) -> dict[str, str]:
    found = {"name": agent.name}
    if agent.version is not None:
        found["version"] = agent.version
    return found


def _restated(source: DigitalSourceType) -> dict[str, Any]:
    """The action that keeps a parent's digital source type on the active manifest.

    A ``c2pa.opened`` action shall carry no digitalSourceType (Conformance Program 0.2, spec
    2.4), and neither shall an ingredient that has an active manifest (spec 2.4 §18.16.12.3);
    the program allows one on the non-editorial ``c2pa.edited.metadata``, which is what adding
    provsdk's assertions to an opened file is. No softwareAgent: provsdk made no audio, and
    viewers list an action's agent as the tool that generated it.
    """
    return {
        "action": "c2pa.edited.metadata",
        "digitalSourceType": source.value,
        "description": "metadata added; the audio is unchanged, made as the parent ingredient's "
        "manifest states",
    }


def _resource_id(index: int) -> str:
    # By position, not by the digest the caller states: two documents may claim the same one.
    return f"{CONTRACT}.{index}"


def _contract_ingredient(index: int, doc: ContractDocument) -> dict[str, Any]:
    """A contract as an ingredient whose data c2pa embeds as binary, hash-bound by the claim.

    An ingredient's data is the only binary payload c2pa 0.38's Builder embeds from a stream:
    assertions come from the JSON definition, whose size the C API caps near 1 MB.
    ``inputTo`` is the least wrong relationship: the contract is not part of the audio, it is
    what the manifest's grant rests on.
    """
    return {
        "title": doc.name,
        "format": doc.media_type,
        "relationship": "inputTo",
        "description": "the signed contract a rights grant in this manifest binds by SHA-256",
        "data_types": [{"type": CONTRACT}],
        "data": {"format": doc.media_type, "identifier": _resource_id(index)},
    }


def manifest_resources(spec: ManifestSpec) -> tuple[tuple[str, bytes], ...]:
    """The binary resources the definition of ``spec`` refers to, by identifier."""
    return tuple((_resource_id(i), content) for i, (_, content) in enumerate(spec.contracts))


def manifest_definition(spec: ManifestSpec, fmt: AudioFormat) -> dict[str, Any]:
    """The JSON definition for ``c2pa.Builder``; its resources are :func:`manifest_resources`.

    Raises :class:`~provsdk.errors.ConfigurationError` for a first manifest (no parent) that
    states no source type.
    """
    if spec.has_parent:
        first: dict[str, Any] = {
            "action": "c2pa.opened",
            # provsdk opens and signs it; the generator is named by the manifest that created it.
            "softwareAgent": {"name": "provsdk", "version": __version__},
            "parameters": {"ingredientIds": [PARENT_INGREDIENT]},
        }
    elif spec.source_type is None:
        raise _origin_required()
    else:
        first = {"action": "c2pa.created", "digitalSourceType": spec.source_type.value}
        if spec.software_agent is not None:
            first["softwareAgent"] = _agent(spec.software_agent)
    actions = [first]
    if spec.has_parent and spec.restated_source_type is not None:
        actions.append(_restated(spec.restated_source_type))
    assertions: list[dict[str, Any]] = [
        {
            "label": ACTIONS,
            # Created, not gathered: provsdk itself attests to these actions, and the first
            # actions assertion among created assertions must start with the inception action
            # (spec 2.2 §18.14.2). The list is complete: provsdk records every action it takes
            # (allActionsIncluded, which the Conformance Program requires to be stated).
            "created": True,
            "data": {"actions": actions, "allActionsIncluded": True},
        },
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
    if spec.soft_binding is not None:
        assertions.append(soft_binding_assertion(spec.soft_binding))
    if spec.fingerprint is not None:
        assertions.append(fingerprint_assertion(spec.fingerprint))
    assertions.extend({"label": label, "data": data} for label, data in spec.extra_assertions)
    definition: dict[str, Any] = {
        "claim_generator_info": [
            {"name": "provsdk", "version": __version__, "specVersion": SPEC_VERSION}
        ],
        "title": spec.title,
        "format": fmt.mime_type,
        "assertions": assertions,
    }
    if spec.contracts:
        definition["ingredients"] = [
            _contract_ingredient(i, doc) for i, (doc, _) in enumerate(spec.contracts)
        ]
    return definition
