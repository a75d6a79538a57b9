"""Signing and checking training-data disclosures (signed by the provider role)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from provsdk._version import __version__
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustStore
from provsdk.jws import (
    ReadStatement,
    StatementCheck,
    check_statement,
    read_token_file,
    sign_statement,
    typed_statement,
)
from provsdk.models.disclosure import (
    Disclosure,
    ModelIdentity,
    OptOutPolicy,
    ProviderIdentity,
)

__all__ = [
    "DISCLOSURE_STATEMENT",
    "DisclosureCheck",
    "SignedDisclosure",
    "check_disclosure",
    "load_disclosure",
    "load_disclosure_token",
    "no_training_data",
    "parse_disclosure",
    "read_disclosure",
    "sign_disclosure",
]

DISCLOSURE_STATEMENT = "provsdk-training-disclosure"


def sign_disclosure(disclosure: Disclosure, signer: Signer) -> str:
    """The disclosure as a compact JWS signed by the provider's ``signer``."""
    return sign_statement(disclosure.to_dict(), signer, DISCLOSURE_STATEMENT)


@dataclass(frozen=True)
class SignedDisclosure(ReadStatement):
    """A disclosure's JWS read once: the statement to verify and what it says (unverified)."""

    disclosure: Disclosure


def read_disclosure(token: str, *, source: str | None = None) -> SignedDisclosure:
    """The disclosure a JWS carries, and the statement itself (not verified)."""
    statement = typed_statement(
        token, DISCLOSURE_STATEMENT, "training-data disclosure", source=source
    )
    return SignedDisclosure(statement, Disclosure.from_dict(statement.payload))


def parse_disclosure(token: str, *, source: str | None = None) -> Disclosure:
    """The disclosure a JWS carries (not verified: see :func:`check_disclosure`)."""
    return read_disclosure(token, source=source).disclosure


def load_disclosure(path: str | Path) -> SignedDisclosure:
    """A signed disclosure file, read and parsed once."""
    return read_disclosure(read_token_file(path, "disclosure"), source=str(path))


def load_disclosure_token(path: str | Path) -> str:
    """The JWS text of a signed disclosure file, checked to parse as one."""
    return load_disclosure(path).token


@dataclass(frozen=True)
class DisclosureCheck:
    disclosure: Disclosure
    check: StatementCheck


def check_disclosure(
    signed: SignedDisclosure | str,
    provider_trust: TrustStore,
    at: dt.datetime | None = None,
    *,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> DisclosureCheck:
    """Verify the provider's signature and chain (against the *provider* store only).

    A token given as text is read here; a :class:`SignedDisclosure` is not read again.
    """
    if isinstance(signed, str):
        signed = read_disclosure(signed)
    check = check_statement(
        signed.statement, provider_trust, at=at, timestamps=timestamps, existed_by=existed_by
    )
    return DisclosureCheck(signed.disclosure, check)


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
