"""Policies written by people: a TOML file, validated against the published policy schema.

::

    [producer]
    require = "trusted"            # or "valid": intact, signer not necessarily trusted
    timestamp = true               # and timestamped by a trusted time-stamp authority
    [disclosure]
    require = true
    training = ["licensed", "public-domain", "none"]
    [[grant]]
    action = "use"                 # the default; or reproduce, distribute, play, stream ...
    purpose = "commercial"
    territory = "US"
    licensors = ["Acme Label"]     # who must have signed it (absent: any trusted licensor)
    [recovery]
    accept = true                  # a file with no manifest may stand on one recovered by its
                                   # sound (verify --repository), if that one's signed code is it

Present statements must always verify, whatever the file says: a policy can only add rules.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from provsdk.errors import ConfigurationError, InputError
from provsdk.models.report import C2paState
from provsdk.schemas import validate
from provsdk.small_files import POLICY_CAP, read_capped
from provsdk.verify.policy import (
    AcceptRecovered,
    AllOf,
    AllowedTraining,
    Policy,
    RequireAiGenerated,
    RequireC2paState,
    RequireDisclosure,
    RequireGrant,
    RequireTimestamp,
    StatementsSound,
)

__all__ = ["load_policy", "policy_from_dict"]


def policy_from_dict(data: dict[str, Any], *, name: str = "policy") -> Policy:
    validate("policy", data, source=name)
    producer = data.get("producer", {})
    required = producer.get("require", "trusted")
    rules: list[Policy] = [
        RequireC2paState(C2paState.TRUSTED if required == "trusted" else C2paState.VALID),
        StatementsSound(),
    ]
    if producer.get("timestamp"):
        rules.append(RequireTimestamp())
    if data.get("origin", {}).get("require_ai_generated"):
        rules.append(RequireAiGenerated(trusted_history=required == "trusted"))
    disclosure = data.get("disclosure", {})
    accept_declared = bool(disclosure.get("accept_declared"))
    if disclosure.get("require"):
        rules.append(RequireDisclosure(accept_declared=accept_declared))
    if "training" in disclosure:
        rules.append(AllowedTraining(frozenset(disclosure["training"]), accept_declared))
    rules.extend(
        RequireGrant(
            purpose=g.get("purpose"),
            territory=g.get("territory", "").upper() or None,
            channel=g.get("channel"),
            licensors=frozenset(g["licensors"]) if "licensors" in g else None,
            action=g.get("action", "use"),
            name=f"grant[{i + 1}]",
        )
        for i, g in enumerate(data.get("grant", []))
    )
    policy: Policy = AllOf(rules=tuple(rules), name=str(data.get("name", name)))
    if data.get("recovery", {}).get("accept"):
        policy = AcceptRecovered(policy)
    return policy


def load_policy(path: str | Path) -> Policy:
    """The policy in the TOML file at ``path``."""
    p = Path(path)
    raw = read_capped(p, POLICY_CAP, "policy", ConfigurationError)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"the policy is not valid TOML: {exc}", path=p) from None
    try:
        return policy_from_dict(data, name=p.stem)
    except InputError as exc:
        raise ConfigurationError(exc.message, path=p) from None
