"""From c2pa's JSON reports to :class:`~provsdk.models.ManifestStore` records. No I/O.

Two c2pa reports are combined: ``Reader.json()`` (assertions, validation results) and
``Reader.crjson()`` (the signing certificate's subject, issuer and validity).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from provsdk.manifest.resources import embedded_data
from provsdk.models.report import C2paState, StatusEntry
from provsdk.models.store import (
    Certificate,
    Ingredient,
    IngredientDelta,
    Manifest,
    ManifestStore,
)

__all__ = ["parse_store"]


def _entries(raw: Any) -> tuple[StatusEntry, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        StatusEntry(str(e.get("code", "")), str(e.get("explanation", "")), e.get("url"))
        for e in raw
        if isinstance(e, dict)
    )


def _names(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _certificate(info: Any) -> Certificate | None:
    if not isinstance(info, dict):
        return None
    validity = info.get("validity") or {}
    return Certificate(
        subject=_names(info.get("subject")),
        issuer=_names(info.get("issuer")),
        serial_number=info.get("serialNumber"),
        not_before=validity.get("notBefore"),
        not_after=validity.get("notAfter"),
    )


@dataclass(frozen=True)
class _Signature:
    certificate: Certificate | None = None
    timestamped_at: str | None = None
    timestamp_authority: str | None = None


def _signatures(crjson: dict[str, Any]) -> dict[str, _Signature]:
    found: dict[str, _Signature] = {}
    for m in crjson.get("manifests", []) or []:
        signature = (m or {}).get("signature") or {}
        stamp = signature.get("timeStampInfo") or {}
        authority = _certificate(stamp.get("certificateInfo"))
        found[str(m.get("label"))] = _Signature(
            certificate=_certificate(signature.get("certificateInfo")),
            timestamped_at=stamp.get("timestamp"),
            timestamp_authority=", ".join(f"{k}={v}" for k, v in authority.subject.items())
            if authority
            else None,
        )
    return found


def _recorded(ingredient: dict[str, Any]) -> dict[str, Any]:
    """The validation results an ingredient's signer recorded for its manifest."""
    results = (ingredient.get("validation_results") or {}).get("activeManifest")
    return results if isinstance(results, dict) else {}


_MANIFEST_URL = re.compile(r"/c2pa/([^/]+)")


def _deltas(raw: list[Any]) -> dict[str, IngredientDelta]:
    """Each ingredient manifest's validation delta, by the label its status URLs name."""
    successes: dict[str, list[StatusEntry]] = {}
    failures: dict[str, list[StatusEntry]] = {}
    for delta in raw:
        report = (delta.get("validationDeltas") or {}) if isinstance(delta, dict) else {}
        for kind, into in (("success", successes), ("failure", failures)):
            for entry in _entries(report.get(kind)):
                match = _MANIFEST_URL.search(entry.url or "")
                if match:
                    into.setdefault(match.group(1), []).append(entry)
    return {
        label: IngredientDelta(tuple(successes.get(label, ())), tuple(failures.get(label, ())))
        for label in {*successes, *failures}
    }


def _manifest(label: str, raw: dict[str, Any], signatures: dict[str, _Signature]) -> Manifest:
    info = raw.get("claim_generator_info") or []
    signature = raw.get("signature_info") or {}
    signed = signatures.get(label) or _Signature()
    return Manifest(
        label=label,
        title=raw.get("title"),
        claim_generator=tuple(i for i in info if isinstance(i, dict)),
        assertions=tuple(
            (str(a.get("label")), a.get("data"))
            for a in raw.get("assertions", []) or []
            if isinstance(a, dict)
        )
        + embedded_data(raw),
        algorithm=signature.get("alg"),
        signed_at=signature.get("time"),
        certificate=signed.certificate,
        timestamped_at=signed.timestamped_at,
        timestamp_authority=signed.timestamp_authority,
        ingredients=tuple(
            Ingredient(
                title=i.get("title"),
                relationship=i.get("relationship"),
                active_manifest=i.get("active_manifest"),
                format=i.get("format"),
                failures=_entries(_recorded(i).get("failure")),
                successes=_entries(_recorded(i).get("success")),
            )
            for i in raw.get("ingredients", []) or []
            if isinstance(i, dict)
        ),
    )


def parse_store(store_json: str, crjson: str | None = None) -> ManifestStore:
    """The records of a manifest store, from the two JSON reports of one c2pa Reader."""
    data = json.loads(store_json)
    signatures = _signatures(json.loads(crjson)) if crjson else {}
    manifests = {
        str(label): _manifest(str(label), raw, signatures)
        for label, raw in (data.get("manifests") or {}).items()
        if isinstance(raw, dict)
    }
    results = (data.get("validation_results") or {}).get("activeManifest") or {}
    state_name = data.get("validation_state")
    try:
        state = C2paState(state_name)
    except ValueError:
        state = C2paState.INVALID
    failures = _entries(results.get("failure"))
    if not failures and state is C2paState.INVALID:
        # Older reports only carry a flat list; keep whatever explains the failure.
        failures = _entries(data.get("validation_status"))
    deltas = (data.get("validation_results") or {}).get("ingredientDeltas") or []
    deltas = deltas if isinstance(deltas, list) else []
    ingredient_failures = tuple(
        entry
        for delta in deltas
        if isinstance(delta, dict)
        for entry in _entries((delta.get("validationDeltas") or {}).get("failure"))
    )
    return ManifestStore(
        state=state,
        ingredient_failures=ingredient_failures,
        ingredient_deltas=_deltas(deltas),
        active=manifests.get(str(data.get("active_manifest"))),
        manifests=manifests,
        failures=failures,
        informational=_entries(results.get("informational")),
        successes=_entries(results.get("success")),
    )
