"""The pure half of verification: from what was read to the five evidence layers. No I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from provsdk.credentials.devpki import DEV_UNIT
from provsdk.credentials.trust import TrustConfig
from provsdk.manifest.build import ACTIONS, DISCLOSURE, GENERATION
from provsdk.models.origin import DigitalSourceType
from provsdk.models.report import (
    C2paState,
    Findings,
    IntegrityLayer,
    OriginLayer,
    ProducerLayer,
    Reason,
    StatusEntry,
)
from provsdk.models.store import Manifest, ManifestStore
from provsdk.verify.statements import disclosure_layer, grants_layer

__all__ = ["findings"]

# Bound on how far back through parent ingredients we look for the creating action.
MAX_HISTORY = 32


# Trust of an ingredient's signer is judged when it is added, against that signer's anchors;
# what matters to this reader is whether the history is intact, so these are notes, not faults.
_TRUST_CODES = frozenset({"signingCredential.untrusted", "signingCredential.ocsp.skipped"})


def _history_failures(store: ManifestStore) -> tuple[StatusEntry, ...]:
    recorded = (
        StatusEntry(f"ingredient.{f.code}", f"{i.title or 'ingredient'}: {f.explanation}", f.url)
        for m in store.manifests.values()
        for i in m.ingredients
        for f in i.failures
    )
    read_now = (
        StatusEntry(f"ingredient.{f.code}", f.explanation, f.url) for f in store.ingredient_failures
    )
    found: dict[tuple[str, str], StatusEntry] = {}
    for entry in (*recorded, *read_now):
        found.setdefault((entry.code, entry.explanation), entry)
    return tuple(found.values())


def _integrity(store: ManifestStore | None) -> IntegrityLayer:
    if store is None:
        return IntegrityLayer(state=C2paState.ABSENT, manifest_label=None)
    return IntegrityLayer(
        state=store.state,
        manifest_label=store.active.label if store.active else None,
        failures=store.failures,
        informational=store.informational,
        history_failures=_history_failures(store),
    )


def _producer(store: ManifestStore | None) -> ProducerLayer:
    manifest = store.active if store else None
    if store is None or manifest is None:
        return ProducerLayer(present=False)
    cert = manifest.certificate
    subject = cert.subject if cert else {}
    issuer = cert.issuer if cert else {}
    return ProducerLayer(
        present=True,
        trusted=store.state is C2paState.TRUSTED,
        common_name=subject.get("CN"),
        organization=subject.get("O"),
        issuer=", ".join(f"{k}={v}" for k, v in issuer.items()) or None,
        serial_number=cert.serial_number if cert else None,
        algorithm=manifest.algorithm.upper() if manifest.algorithm else None,
        signed_at=manifest.signed_at,
        not_after=cert.not_after if cert else None,
        development_credential=subject.get("OU", "").startswith(DEV_UNIT),
        timestamped_at=manifest.timestamped_at,
        timestamp_authority=manifest.timestamp_authority,
        timestamp_trusted=store.timestamp_trusted if manifest.timestamped_at else None,
    )


def _creating_manifest(store: ManifestStore) -> tuple[Manifest, dict[str, Any]] | None:
    """The manifest whose actions begin with ``c2pa.created``, following parents back."""
    manifest = store.active
    for _ in range(MAX_HISTORY):
        if manifest is None:
            return None
        actions = (manifest.assertion(ACTIONS) or {}).get("actions") or []
        for action in actions:
            if isinstance(action, dict) and action.get("action") == "c2pa.created":
                return manifest, action
        parents = [i for i in manifest.ingredients if i.relationship == "parentOf"]
        manifest = store.manifests.get(parents[0].active_manifest or "") if parents else None
    return None


def _origin(store: ManifestStore | None) -> OriginLayer:
    if store is None or store.active is None:
        return OriginLayer(present=False)
    generator = store.active.claim_generator[0] if store.active.claim_generator else {}
    claim_generator = " ".join(str(generator.get(k, "")) for k in ("name", "version")).strip()
    found = _creating_manifest(store)
    if found is None:
        return OriginLayer(present=False, claim_generator=claim_generator or None)
    manifest, action = found
    source = str(action.get("digitalSourceType") or "")
    try:
        ai: bool | None = DigitalSourceType.parse(source).is_ai_generated
    except ValueError:
        ai = None
    agent = action.get("softwareAgent")
    agent = agent if isinstance(agent, dict) else {"name": agent} if agent else {}
    generation = manifest.assertion(GENERATION) or {}
    seed = generation.get("seed")
    return OriginLayer(
        present=True,
        ai_generated=ai,
        digital_source_type=source or None,
        generator=agent.get("name"),
        generator_version=agent.get("version"),
        provider=generation.get("provider"),
        model=generation.get("model"),
        prompt=generation.get("prompt"),
        seed=seed if isinstance(seed, int) else None,
        claim_generator=claim_generator or None,
    )


def _carrying(store: ManifestStore | None, label: str) -> Manifest | None:
    """The active manifest, or the nearest ancestor, that carries an assertion ``label``."""
    manifest = store.active if store else None
    for _ in range(MAX_HISTORY):
        if manifest is None or store is None or manifest.assertion(label) is not None:
            return manifest
        parents = [i for i in manifest.ingredients if i.relationship == "parentOf"]
        manifest = store.manifests.get(parents[0].active_manifest or "") if parents else None
    return None


def _trusted_stamp(store: ManifestStore | None) -> dt.datetime | None:
    """When the active manifest provably existed, by a timestamp a trusted authority gave.

    Its claim signature covers every assertion's bytes, so the statements it carries existed
    then too: their signers' certificates can be judged at that time.
    """
    manifest = store.active if store else None
    if store is None or manifest is None or not store.timestamp_trusted:
        return None
    try:
        when = dt.datetime.fromisoformat(str(manifest.timestamped_at))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def findings(
    store: ManifestStore | None,
    *,
    trust: TrustConfig,
    at: dt.datetime,
    essence: str | None = None,
) -> Findings:
    """The evidence layers of one manifest store (``None``: the file has no manifest).

    Statements are judged at ``at``; ``essence`` is the digest of the file's coded audio, for
    grants bound to one recording.
    """
    producer = _producer(store)
    origin = _origin(store)
    notes: list[Reason] = []
    if producer.development_credential:
        notes.append(
            Reason(
                "producer.development-key",
                "signed with a provsdk development key: fine for trying things, not for release",
            )
        )
    integrity = _integrity(store)
    notes.extend(
        Reason(
            e.code,
            f"an earlier manifest's signer was not trusted when it was built on ({e.explanation})",
        )
        for e in integrity.history_failures
        if e.code.removeprefix("ingredient.") in _TRUST_CODES
    )
    active = store.active if store else None
    names = {n for n in (producer.common_name, producer.organization) if n}
    carrier = _carrying(store, DISCLOSURE)
    stamped = _trusted_stamp(store)
    return Findings(
        integrity=integrity,
        producer=producer,
        origin=origin,
        disclosure=disclosure_layer(
            carrier,
            trust.provider,
            at,
            timestamps=trust.timestamp,
            existed_by=stamped if carrier is active else None,
        ),
        grants=grants_layer(
            active,
            trust.licensor,
            at,
            essence=essence,
            model=origin.model,
            producer=names,
            timestamps=trust.timestamp,
            existed_by=stamped,
        ),
        notes=tuple(notes),
        checked_at=at.isoformat(),
    )
