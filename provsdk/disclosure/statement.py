"""Signing and checking training-data disclosures (signed by the provider role)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from provsdk._version import __version__
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustStore
from provsdk.models.disclosure import (
    Disclosure,
    ModelIdentity,
    OptOutPolicy,
    ProviderIdentity,
)
from provsdk.statements import (
    StatementCheck,
    read_token_file,
    sign_statement,
    typed_payload,
    verify_statement,
)

__all__ = [
    "DISCLOSURE_STATEMENT",
    "DisclosureCheck",
    "check_disclosure",
    "load_disclosure_token",
    "no_training_data",
    "parse_disclosure",
    "sign_disclosure",
]

DISCLOSURE_STATEMENT = "provsdk-training-disclosure"


def sign_disclosure(disclosure: Disclosure, signer: Signer) -> str:
    """The disclosure as a compact JWS signed by the provider's ``signer``."""
    return sign_statement(disclosure.to_dict(), signer, DISCLOSURE_STATEMENT)


def parse_disclosure(token: str, *, source: str | None = None) -> Disclosure:
    """The disclosure a JWS carries (not verified: see :func:`check_disclosure`)."""
    payload = typed_payload(token, DISCLOSURE_STATEMENT, "training-data disclosure", source=source)
    return Disclosure.from_dict(payload)


def load_disclosure_token(path: str | Path) -> str:
    """The JWS text of a signed disclosure file, checked to parse as one."""
    token = read_token_file(path, "disclosure")
    parse_disclosure(token, source=str(path))
    return token


@dataclass(frozen=True)
class DisclosureCheck:
    disclosure: Disclosure
    check: StatementCheck


def check_disclosure(
    token: str,
    provider_trust: TrustStore,
    at: dt.datetime | None = None,
    *,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> DisclosureCheck:
    """Verify the provider's signature and chain (against the *provider* store only)."""
    disclosure = parse_disclosure(token)
    check = verify_statement(
        token,
        provider_trust,
        at=at,
        expected_type=DISCLOSURE_STATEMENT,
        timestamps=timestamps,
        existed_by=existed_by,
    )
    return DisclosureCheck(disclosure, check)


def no_training_data(provider: str, model: str, version: str) -> Disclosure:
    """The disclosure of a generator that learned from nothing (the rule-based local one)."""
    return Disclosure(
        provider=ProviderIdentity(name=provider),
        model=ModelIdentity(name=model, version=version),
        modalities=("audio",),
        training_data_size=f"none: procedural synthesis (provsdk {__version__}), no training",
        opt_out=OptOutPolicy(respected=True, measures="no data was collected"),
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
