"""Layers 4 and 5, pure: the disclosure and the grants a manifest carries, judged offline.

Each statement is checked against the trust store of the role that must have signed it: the
disclosure against provider anchors, grants against licensor anchors. A readable copy kept
beside a JWS is compared with the signed payload; the signed payload is what counts.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from provsdk.credentials.trust import TrustStore
from provsdk.disclosure.statement import DisclosureCheck, check_disclosure
from provsdk.errors import InputError
from provsdk.grants.statement import check_grant
from provsdk.manifest.build import CONTRACT, DISCLOSURE, GRANT
from provsdk.models.disclosure import Disclosure
from provsdk.models.report import DisclosureLayer, GrantFinding, GrantsLayer, Reason
from provsdk.models.store import Manifest

__all__ = ["disclosure_layer", "grants_layer"]


def _token_and_copy(data: Any, kind: str) -> tuple[str | None, list[Reason]]:
    if not isinstance(data, dict) or not isinstance(data.get("jws"), str):
        return None, [
            Reason(f"{kind}.malformed", f"the {kind} assertion holds no signed statement")
        ]
    return data["jws"], []


def _copy_problems(data: dict[str, Any], payload: dict[str, Any], kind: str) -> list[Reason]:
    copy = data.get("statement")
    if copy is not None and copy != payload:
        return [Reason(f"{kind}.copy-mismatch", "the readable copy differs from what was signed")]
    return []


def disclosure_layer(
    manifest: Manifest | None,
    provider_trust: TrustStore,
    at: dt.datetime,
    *,
    origin_model: str | None = None,
    through_trusted: bool = False,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> DisclosureLayer:
    """The disclosure ``manifest`` carries, judged for a file whose audio ``origin_model`` made.

    ``through_trusted``: the manifest is the one that created the audio or a later one, and
    it and every manifest after it are signed by trusted producers. Only then, and only when
    the disclosure is about ``origin_model``, does it speak for this file (``bound``).
    """
    found = manifest.assertions_named(DISCLOSURE) if manifest else []
    if not found:
        return DisclosureLayer(present=False)
    layer = _judged_disclosure(found[0], provider_trust, at, timestamps, existed_by)
    problems = list(layer.problems)
    if len(found) > 1:
        # Which of two disclosures would a reader believe? Neither: the file is ambiguous.
        problems.append(
            Reason(
                "disclosure.multiple",
                f"the manifest carries {len(found)} training-data disclosures; one is allowed",
            )
        )
    matches = origin_model is not None and layer.model_id == origin_model
    if layer.model_id is not None and not matches:
        problems.append(Reason("disclosure.model-mismatch", _mismatch(layer, origin_model)))
    bound = through_trusted and matches and len(found) == 1
    return replace(layer, problems=tuple(problems), bound=bound)


def _mismatch(layer: DisclosureLayer, origin_model: str | None) -> str:
    if origin_model is None:
        return f"the disclosure is about {layer.model_id!r}; the file names no model that made it"
    return f"the disclosure is about {layer.model_id!r}; this audio was made by {origin_model!r}"


@functools.lru_cache(maxsize=256)
def _checked_disclosure(
    token: str,
    provider_trust: TrustStore,
    at: dt.datetime,
    timestamps: TrustStore | None,
    existed_by: dt.datetime | None,
) -> DisclosureCheck:
    """:func:`check_disclosure`, remembered: a provider signs one disclosure per model and every
    track of that model carries it, so a catalogue check meets the same token thousands of
    times. The check is pure (no clock, no network), and every argument is part of the key,
    anchors included, so a token judged against other stores or at another instant is judged
    again."""
    return check_disclosure(token, provider_trust, at, timestamps=timestamps, existed_by=existed_by)


def _judged_disclosure(
    data: Any,
    provider_trust: TrustStore,
    at: dt.datetime,
    timestamps: TrustStore | None,
    existed_by: dt.datetime | None,
) -> DisclosureLayer:
    if isinstance(data, dict) and "declared" in data and "jws" not in data:
        return _declared_layer(data)
    token, problems = _token_and_copy(data, "disclosure")
    if token is None:
        return DisclosureLayer(present=True, problems=tuple(problems))
    try:
        checked = _checked_disclosure(token, provider_trust, at, timestamps, existed_by)
    except InputError as exc:
        return DisclosureLayer(
            present=True, problems=(Reason("disclosure.malformed", exc.message),)
        )
    d, check = checked.disclosure, checked.check
    problems += _copy_problems(data, check.statement.payload, "disclosure")
    problems += [p.within("disclosure") for p in check.problems()]
    # What an unverifiable disclosure claims is not evidence: report who and why, not what.
    claims = check.signature_valid
    return DisclosureLayer(
        present=True,
        signature_valid=check.signature_valid,
        trusted=check.trusted,
        signer=check.signer,
        provider=d.provider.name,
        model=d.model.name,
        model_version=d.model.version,
        training_bases=tuple(sorted(d.training_bases())) if claims else (),
        opt_out_respected=d.opt_out.respected if claims else None,
        training_list_count=d.training_list.count if d.training_list and claims else None,
        summary=d.summary() if claims else "unverified: the disclosure's signature does not verify",
        problems=tuple(problems),
        timestamp=check.timestamp,
    )


def _declared_layer(data: dict[str, Any]) -> DisclosureLayer:
    """A disclosure nobody signed: shown for what it is, judged only if a policy accepts it."""
    sources = tuple(str(s) for s in data.get("sources") or [] if isinstance(s, str))
    try:
        d = Disclosure.from_dict(data["declared"])
    except (InputError, KeyError, TypeError) as exc:
        message = exc.message if isinstance(exc, InputError) else "no declared document"
        return DisclosureLayer(
            present=True, declared=True, problems=(Reason("disclosure.malformed", message),)
        )
    return DisclosureLayer(
        present=True,
        signature_valid=None,
        trusted=False,
        provider=d.provider.name,
        model=d.model.name,
        model_version=d.model.version,
        training_bases=tuple(sorted(d.training_bases())),
        opt_out_respected=d.opt_out.respected,
        summary=f"declared, not signed by the provider: {d.summary()}",
        declared=True,
        declared_by=str(data.get("declared_by") or "unknown"),
        sources=sources,
    )


def _contracts(manifest: Manifest) -> dict[str, str]:
    """sha256 → name of the contract documents the manifest carries, by their actual bytes.

    Embedded data was hashed from its bytes when the file was read, into records no JSON
    assertion can forge; the older form, base64 in a JSON assertion, is hashed here.
    """
    from provsdk.manifest.build import EMBEDDED_DATA
    from provsdk.manifest.resources import EmbeddedData

    found: dict[str, str] = {}
    for embedded in manifest.assertions_named(EMBEDDED_DATA):
        if isinstance(embedded, EmbeddedData):
            found.setdefault(embedded.sha256, embedded.title or "contract")
    for data in manifest.assertions_named(CONTRACT):
        try:
            content = base64.b64decode(str(data.get("data", "")), validate=True)
        except (ValueError, AttributeError):
            continue
        found[hashlib.sha256(content).hexdigest()] = str(data.get("name", "contract"))
    return found


def _grant_finding(
    token: str,
    data: dict[str, Any],
    licensor_trust: TrustStore,
    at: dt.datetime,
    essence: str | None,
    essence_problem: str | None,
    model: str | None,
    producer: Collection[str],
    contracts: dict[str, str],
    timestamps: TrustStore | None,
    existed_by: dt.datetime | None,
) -> GrantFinding | Reason:
    try:
        checked = check_grant(
            token,
            licensor_trust,
            at=at,
            essence=essence,
            essence_problem=essence_problem,
            model=model,
            producer=producer,
            timestamps=timestamps,
            existed_by=existed_by,
        )
    except InputError as exc:
        return Reason("grant.malformed", exc.message)
    grant = checked.grant
    problems = _copy_problems(data, checked.check.statement.payload, "grant")
    problems += checked.problems()
    contract = None
    if grant.document is not None:
        contract = contracts.get(grant.document.sha256)
        if contract is None:
            problems.append(
                Reason(
                    "grant.contract-missing",
                    f"the contract {grant.document.name!r} it binds is not in the file",
                )
            )
    return GrantFinding(
        uid=grant.uid,
        licensor=grant.assigner.name,
        licensee=grant.assignee.name,
        signer=checked.check.signer,
        signer_names=checked.check.signer_names,
        signature_valid=checked.check.signature_valid,
        trusted=checked.check.trusted,
        in_force=checked.in_force,
        covers=checked.covers,
        coverage=checked.coverage,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        purposes=tuple(grant.purposes()),
        territories=tuple(grant.territories()),
        contract=contract,
        problems=tuple(problems),
        grant=grant,
        timestamp=checked.check.timestamp,
        not_understood=tuple(grant.not_understood()),
    )


def grants_layer(
    manifest: Manifest | None,
    licensor_trust: TrustStore,
    at: dt.datetime,
    *,
    essence: str | None,
    model: str | None,
    producer: Collection[str],
    essence_problem: str | None = None,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> GrantsLayer:
    """Every grant assertion of ``manifest``, each judged for this file.

    ``model`` and ``producer`` are what trusted signatures say made and produced the file
    (``None`` and empty when nothing trusted says so): scope grants match only those.
    """
    assertions = manifest.assertions_named(GRANT) if manifest else []
    if not assertions or manifest is None:
        return GrantsLayer(present=False)
    contracts = _contracts(manifest)
    findings: list[GrantFinding] = []
    unreadable: list[Reason] = []
    for data in assertions:
        token, problems = _token_and_copy(data, "grant")
        if token is None:
            unreadable.extend(problems)
            continue
        result = _grant_finding(
            token,
            data,
            licensor_trust,
            at,
            essence,
            essence_problem,
            model,
            producer,
            contracts,
            timestamps,
            existed_by,
        )
        if isinstance(result, Reason):
            unreadable.append(result)
        else:
            findings.append(result)
    return GrantsLayer(
        present=True, count=len(assertions), grants=tuple(findings), problems=tuple(unreadable)
    )
