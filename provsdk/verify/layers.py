"""The pure half of verification: from what was read to the five evidence layers. No I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from provsdk.credentials.devpki import DEV_UNIT
from provsdk.credentials.trust import TrustConfig
from provsdk.manifest.build import DISCLOSURE, GENERATION, TRAINING_MINING
from provsdk.models.origin import DigitalSourceType
from provsdk.models.report import (
    MINING_VALUES,
    C2paState,
    Findings,
    IntegrityLayer,
    MiningUse,
    OriginLayer,
    ProducerLayer,
    Reason,
    StatusEntry,
    TrainingMiningLayer,
)
from provsdk.models.store import ManifestStore
from provsdk.verify.history import Link, creation, history, unbroken
from provsdk.verify.statement_layers import disclosure_layer, grants_layer

__all__ = ["findings"]


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


# The uses a CAWG training-and-mining assertion speaks about, in the order people read them.
_MINING_KEYS = ("ai_training", "ai_generative_training", "data_mining", "ai_inference")


def _training_mining(store: ManifestStore) -> TrainingMiningLayer:
    """The active manifest's ``cawg.training-mining`` entries, each exactly as stated."""
    data = store.active.assertion(TRAINING_MINING) if store.active else None
    if not isinstance(data, dict):
        return TrainingMiningLayer()
    entries = data.get("entries")
    entries = entries if isinstance(entries, dict) else {}
    trusted = store.state is C2paState.TRUSTED
    uses = []
    for name in _MINING_KEYS:
        key = f"cawg.{name}"
        entry = entries.get(key)
        entry = entry if isinstance(entry, dict) else {}
        stated = entry.get("use")
        stated_text = None if stated is None else str(stated)
        uses.append(
            MiningUse(
                key=key,
                # What counts: nothing an untrusted manifest says; the text stays in `stated`.
                use=stated_text if trusted and stated_text in MINING_VALUES else "notAllowed",
                stated=stated_text,
                constraint_info=_text(entry.get("constraint_info")),
            )
        )
    return TrainingMiningLayer(present=True, trusted=trusted, uses=tuple(uses))


def _origin(store: ManifestStore | None, links: tuple[Link, ...]) -> OriginLayer:
    if store is None or store.active is None:
        return OriginLayer(present=False)
    generator = store.active.claim_generator[0] if store.active.claim_generator else {}
    claim_generator = " ".join(str(generator.get(k, "")) for k in ("name", "version")).strip()
    mining = _training_mining(store)
    found = creation(links)
    if found is None or found.created is None:
        return OriginLayer(
            present=False, claim_generator=claim_generator or None, training_mining=mining
        )
    manifest, action = found.manifest, found.created
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
        generator=_text(agent.get("name")),
        generator_version=_text(agent.get("version")),
        provider=generation.get("provider"),
        model=generation.get("model"),
        prompt=generation.get("prompt"),
        seed=seed if isinstance(seed, int) else None,
        claim_generator=claim_generator or None,
        trusted=unbroken(links, found),
        training_mining=mining,
    )


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def _disclosure_carrier(links: tuple[Link, ...]) -> Link | None:
    """The nearest manifest, from the active one back to the creation, carrying a disclosure.

    Never further back than the manifest that created the audio: a disclosure before it
    speaks for other audio.
    """
    return next((link for link in links if link.manifest.assertion(DISCLOSURE) is not None), None)


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
    essence_problem: str | None = None,
) -> Findings:
    """The evidence layers of one manifest store (``None``: the file has no manifest).

    Statements are judged at ``at``; ``essence`` is the digest of the file's coded audio, for
    grants bound to one recording (``essence_problem``: why the file has none). Scope grants
    and disclosures are matched only against facts trusted signatures vouch for: the model
    of a trusted, unbroken history and the names of a trusted producer certificate.
    """
    links = history(store)
    producer = _producer(store)
    origin = _origin(store, links)
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
        for e in integrity.history_trust_notes
    )
    if origin.present and not origin.trusted and producer.trusted:
        notes.append(
            Reason(
                "origin.untrusted-history",
                "the manifest that created the audio, or one after it, is not from a trusted "
                "producer: its model and disclosure are shown, not counted",
            )
        )
    active = store.active if store else None
    # Names in an untrusted certificate are whatever its maker typed: not evidence of anyone.
    # Organisation first: it is the name a scope grant is made out to, and the one errors show.
    names = tuple(
        dict.fromkeys(
            n for n in (producer.organization, producer.common_name) if n and producer.trusted
        )
    )
    carrier = _disclosure_carrier(links)
    stamped = _trusted_stamp(store)
    disclosure = disclosure_layer(
        carrier.manifest if carrier else None,
        trust.provider,
        at,
        origin_model=origin.model_id if origin.present else None,
        through_trusted=carrier is not None and unbroken(links, carrier),
        timestamps=trust.timestamp,
        existed_by=stamped if carrier is not None and carrier.manifest is active else None,
    )
    return Findings(
        integrity=integrity,
        producer=producer,
        origin=origin,
        disclosure=disclosure,
        grants=grants_layer(
            active,
            trust.licensor,
            at,
            essence=essence,
            essence_problem=essence_problem,
            model=origin.model_id if origin.trusted else None,
            producer=names,
            timestamps=trust.timestamp,
            existed_by=stamped,
        ),
        notes=tuple(notes),
        checked_at=at.isoformat(),
    )
