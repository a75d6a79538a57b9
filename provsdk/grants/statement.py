"""Signing and checking rights grants (signed by the licensor role)."""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

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
from provsdk.models.grant import Grant
from provsdk.models.reason import Reason

__all__ = [
    "GRANT_STATEMENT",
    "GrantCheck",
    "SignedGrant",
    "check_grant",
    "load_grant",
    "load_grant_token",
    "parse_grant",
    "read_grant",
    "sign_grant",
]

GRANT_STATEMENT = "provsdk-rights-grant"


def sign_grant(grant: Grant, signer: Signer) -> str:
    """The grant as a compact JWS signed by the licensor's ``signer``."""
    return sign_statement(grant.to_odrl(), signer, GRANT_STATEMENT)


@dataclass(frozen=True)
class SignedGrant(ReadStatement):
    """A grant's JWS read once: the statement to verify and the grant it carries (unverified)."""

    grant: Grant


def read_grant(token: str, *, source: str | None = None) -> SignedGrant:
    """The grant a JWS carries, and the statement itself (not verified: see :func:`check_grant`)."""
    statement = typed_statement(token, GRANT_STATEMENT, "rights grant", source=source)
    return SignedGrant(statement, Grant.from_odrl(statement.payload, source=source))


def parse_grant(token: str, *, source: str | None = None) -> Grant:
    """The grant a JWS carries (not verified: see :func:`check_grant`)."""
    return read_grant(token, source=source).grant


def load_grant(path: str | Path) -> SignedGrant:
    """A signed grant file, read and parsed once."""
    return read_grant(read_token_file(path, "grant"), source=str(path))


def load_grant_token(path: str | Path) -> str:
    """The JWS text of a signed grant file, checked to parse as one."""
    return load_grant(path).token


@dataclass(frozen=True)
class GrantCheck:
    """One grant judged for one file: signature and licensor trust, term, coverage."""

    grant: Grant
    check: StatementCheck
    in_force: bool
    covers: bool
    coverage: str  # why it covers the file, or why not

    def problems(self) -> tuple[Reason, ...]:
        found = [p.within("grant") for p in self.check.problems()]
        if not self.in_force:
            term = f"{self.grant.valid_from or 'the start'} to {self.grant.valid_until or 'no end'}"
            found.append(Reason("grant.not-in-force", f"in force from {term}"))
        if not self.covers:
            found.append(Reason("grant.not-covering", self.coverage))
        return tuple(found)


def _coverage(
    grant: Grant,
    essence: str | None,
    essence_problem: str | None,
    model: str | None,
    producer: Collection[str],
) -> tuple[bool, str]:
    target = grant.target
    if not target.is_scope:
        if essence is None:
            return False, essence_problem or "the file's audio could not be identified"
        if essence == target.uid:
            return True, "bound to this recording's audio"
        return False, "bound to another recording (its audio digest differs)"
    if target.model is not None and model is None:
        return False, (
            f"covers outputs of model {target.model!r}; no trusted manifest history says "
            "which model made this audio"
        )
    if target.model is not None and target.model != model:
        return False, f"covers outputs of model {target.model!r}, this file is from {model!r}"
    if target.licensee is not None and not producer:
        return False, (
            f"covers outputs produced for {target.licensee!r}; no trusted producer "
            "certificate says who produced this file"
        )
    if target.licensee is not None and target.licensee not in producer:
        # Name what was found and both ways out: a scope grant is matched by exact name.
        found = " or ".join(repr(name) for name in producer)
        return False, (
            f"covers outputs produced for {target.licensee!r}, but this file's trusted producer "
            f"certificate names {found}: make the grant out to that name (grant create "
            f"--licensee), or sign with a certificate whose organisation is {target.licensee!r} "
            # The name is the grant author's text: quoted for a shell, as a user will paste it.
            f"(for development keys: provsdk keys init --org {shlex.quote(target.licensee)} "
            "--force)"
        )
    return True, f"covers the outputs of {target.model or 'any model'} for {target.licensee}"


def check_grant(
    signed: SignedGrant | str,
    licensor_trust: TrustStore,
    *,
    at: dt.datetime,
    essence: str | None,
    model: str | None,
    producer: Collection[str] = (),
    essence_problem: str | None = None,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> GrantCheck:
    """Judge a grant for one file: ``essence`` is the file's audio digest (``essence_problem``
    says why there is none), ``model`` the model a trusted, unbroken manifest history says
    made the audio, ``producer`` the names in the trusted certificate of whoever signed it.

    Callers pass only trusted facts: a model an untrusted manifest claims, or the names in an
    untrusted certificate, are passed as ``None`` and empty, and a scope grant then covers
    nothing.

    The chain is checked against the *licensor* store only: a provider's or producer's key
    never passes for a licensor's. A token given as text is read here; a :class:`SignedGrant`
    is not read again.
    """
    if isinstance(signed, str):
        signed = read_grant(signed)
    grant = signed.grant
    check = check_statement(
        signed.statement, licensor_trust, at=at, timestamps=timestamps, existed_by=existed_by
    )
    covers, why = _coverage(grant, essence, essence_problem, model, producer)
    return GrantCheck(
        grant=grant, check=check, in_force=grant.in_force(at.date()), covers=covers, coverage=why
    )
