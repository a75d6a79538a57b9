"""Signed statements: JSON documents signed by their author as a compact JWS (RFC 7515) with
the author's certificate chain in ``x5c``.

The signed bytes are the truth. A reader decodes the payload from the JWS; any readable copy
kept next to it is compared with it, never trusted instead of it. Serialisation, parsing and
signature verification are joserfc's; signing goes through a provsdk :class:`Signer`, so a key
in a KMS or HSM signs statements the same way it signs manifests.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from joserfc.jws import JWSAlgModel, JWSRegistry  # type: ignore[attr-defined]

from provsdk.credentials.algorithms import Algorithm
from provsdk.credentials.chain import ChainCheck, chain_from_x5c, validate_chain, x5c_from_chain
from provsdk.credentials.profile import subject_names
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustStore
from provsdk.errors import InputError

__all__ = [
    "StatementCheck",
    "UnverifiedStatement",
    "canonical_json",
    "read_statement",
    "read_token_file",
    "sign_statement",
    "typed_payload",
    "verify_statement",
]

# The JOSE names of the algorithms provsdk signs and accepts; nothing else verifies.
_JOSE_NAMES = {alg: alg.value for alg in Algorithm}
_ACCEPTED = sorted(_JOSE_NAMES.values())


class _StatementRegistry(JWSRegistry):
    # x5c headers carry whole certificate chains; joserfc's 512-byte default is for JWTs.
    max_header_length = 64 * 1024
    max_payload_length = 4 * 1024 * 1024
    max_signature_length = 2048


class _ThroughSigner(JWSAlgModel):
    """A JWS algorithm whose signature comes from a provsdk Signer (key, KMS or HSM)."""

    key_type = "oct"  # joserfc checks a key object; the real key never reaches it

    def __init__(self, signer: Signer) -> None:
        self.name = _JOSE_NAMES[signer.algorithm]
        self.description = "signature by a provsdk Signer"
        self._signer = signer

    def sign(self, msg: bytes, key: Any) -> bytes:
        return self._signer.sign(msg)

    def verify(self, msg: bytes, sig: bytes, key: Any) -> bool:  # pragma: no cover - signing only
        raise NotImplementedError


def canonical_json(data: Any) -> bytes:
    """The bytes a statement signs: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_statement(payload: dict[str, Any], signer: Signer, statement_type: str) -> str:
    """A compact JWS of ``payload`` signed by ``signer``, its chain in ``x5c``."""
    algorithm = _ThroughSigner(signer)
    registry_cls = type(
        "_SigningRegistry", (_StatementRegistry,), {"algorithms": {algorithm.name: algorithm}}
    )
    header = {"alg": algorithm.name, "typ": statement_type, "x5c": x5c_from_chain(signer.chain)}
    placeholder = OctKey.import_key(secrets.token_bytes(32))
    return jws.serialize_compact(
        header,
        canonical_json(payload),
        placeholder,
        algorithms=[algorithm.name],
        registry=registry_cls(algorithms=[algorithm.name]),
    )


@dataclass(frozen=True)
class UnverifiedStatement:
    """What a JWS says before anything about it is checked."""

    header: dict[str, Any]
    payload: dict[str, Any]
    statement_type: str | None


@dataclass(frozen=True)
class StatementCheck:
    """The signature and the signer's chain of one statement, checked against one trust store."""

    statement: UnverifiedStatement
    signature_valid: bool
    chain: ChainCheck
    # The organisation and common name of the signing certificate: who really signed.
    signer_names: tuple[str, ...] = ()

    @property
    def trusted(self) -> bool:
        return self.signature_valid and self.chain.trusted

    @property
    def signer(self) -> str | None:
        return self.chain.subject

    def problems(self) -> list[str]:
        found = (
            []
            if self.signature_valid
            else ["statement.bad-signature: the signature does not verify"]
        )
        return found + list(self.chain.problems)


def read_statement(token: str, *, source: str | None = None) -> UnverifiedStatement:
    """Parse a compact JWS without verifying it (raises InputError when it is not one)."""
    try:
        parsed = jws.extract_compact(token.strip().encode(), registry=_StatementRegistry())
        payload = json.loads(parsed.payload)
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable signed statement (JWS): {exc}", path=source) from None
    if not isinstance(payload, dict):
        raise InputError("the signed statement's payload is not a JSON object", path=source)
    header = dict(parsed.headers())
    return UnverifiedStatement(header=header, payload=payload, statement_type=header.get("typ"))


def typed_payload(
    token: str, statement_type: str, what: str, *, source: str | None = None
) -> dict[str, Any]:
    """The payload of a JWS that must be a ``statement_type`` (``what`` names it in errors)."""
    statement = read_statement(token, source=source)
    if statement.statement_type != statement_type:
        raise InputError(f"not a {what} (statement type {statement.statement_type!r})", path=source)
    return statement.payload


def read_token_file(path: str | Path, what: str) -> str:
    """The JWS text of a signed statement file."""
    p = Path(path)
    try:
        return p.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the signed {what}: {exc}", path=p) from None


def _public_key(chain_check_leaf: Any) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(chain_check_leaf, ec.EllipticCurvePublicKey):
        return ECKey.import_key(chain_check_leaf)
    if isinstance(chain_check_leaf, rsa.RSAPublicKey):
        return RSAKey.import_key(chain_check_leaf)
    if isinstance(chain_check_leaf, ed25519.Ed25519PublicKey):
        return OKPKey.import_key(chain_check_leaf)
    raise ValueError("unsupported key type")


def verify_statement(
    token: str,
    store: TrustStore,
    *,
    at: dt.datetime | None = None,
    expected_type: str | None = None,
    source: str | None = None,
) -> StatementCheck:
    """Check the signature of ``token`` with its x5c leaf, and the chain against ``store``.

    Pure: no network, no files. Raises InputError only for input that is not a statement at
    all; everything else (bad signature, untrusted chain) is reported in the result.
    """
    statement = read_statement(token, source=source)
    if expected_type is not None and statement.statement_type != expected_type:
        raise InputError(
            f"expected a {expected_type} statement, found {statement.statement_type!r}", path=source
        )
    try:
        chain = chain_from_x5c(statement.header.get("x5c") or [])
    except ValueError as exc:
        raise InputError(f"the statement's x5c chain is unreadable: {exc}", path=source) from None
    alg = statement.header.get("alg")
    signature_valid = False
    if chain and alg in _ACCEPTED:
        try:
            key = _public_key(chain[0].public_key())
            jws.deserialize_compact(
                token.strip(), key, algorithms=[alg], registry=_StatementRegistry(algorithms=[alg])
            )
            signature_valid = True
        except (JoseError, ValueError):
            signature_valid = False
    return StatementCheck(
        statement=statement,
        signature_valid=signature_valid,
        chain=validate_chain(chain, store, at),
        signer_names=subject_names(chain[0]) if chain else (),
    )
