"""Signed statements: JSON documents signed by their author as a compact JWS (RFC 7515) with
the author's certificate chain in ``x5c``.

A statement may carry an RFC 3161 timestamp over its signature value; then it is written in the
flattened JSON serialisation (RFC 7515 §7.2.2), the token in the unprotected header ``sigTst``
as base64 DER (the signature value as JAdES's ``sigTst`` covers it). Protected header, payload
and signature are the same strings in both forms, so one verifies exactly like the other.

The signed bytes are the truth. A reader decodes the payload from the JWS; any readable copy
kept next to it is compared with it, never trusted instead of it. Serialisation, parsing and
signature verification are joserfc's; signing goes through a provsdk :class:`Signer`, so a key
in a KMS or HSM signs statements the same way it signs manifests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from joserfc.jws import JWSAlgModel, JWSRegistry  # type: ignore[attr-defined]

from provsdk.credentials.algorithms import Algorithm
from provsdk.credentials.chain import ChainCheck, chain_from_x5c, validate_chain, x5c_from_chain
from provsdk.credentials.profile import subject_names
from provsdk.credentials.roles import Role
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustStore
from provsdk.errors import InputError
from provsdk.models.reason import Reason
from provsdk.small_files import STATEMENT_CAP, read_capped
from provsdk.timestamps import TimestampCheck, check_timestamp, request_timestamp
from provsdk.timestamps.check import MAX_RESPONSE

__all__ = [
    "SIGNATURE_TIMESTAMP",
    "ReadStatement",
    "StatementCheck",
    "UnverifiedStatement",
    "canonical_json",
    "check_statement",
    "read_statement",
    "read_token_file",
    "sign_statement",
    "timestamp_statement",
    "typed_payload",
    "typed_statement",
    "verify_statement",
]

# The JOSE names of the algorithms provsdk signs and accepts; nothing else verifies.
_JOSE_NAMES = {alg: alg.value for alg in Algorithm}
_ACCEPTED = sorted(_JOSE_NAMES.values())
SIGNATURE_TIMESTAMP = "sigTst"  # the unprotected header holding an RFC 3161 response
_JSON_MEMBERS = frozenset({"protected", "payload", "signature", "header"})


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
    """What a JWS says before anything about it is checked: parsed once, then handed on."""

    header: dict[str, Any]
    payload: dict[str, Any]
    statement_type: str | None
    compact: str = ""  # the compact serialisation, whichever form it was read from
    timestamp: bytes | None = None  # an RFC 3161 response over the signature value, if any
    text: str = ""  # the token as given (compact, or JSON when timestamped): what is embedded

    @property
    def signature_value(self) -> bytes:
        """The base64url signature segment: the bytes a timestamp's imprint covers."""
        return self.compact.rsplit(".", 1)[-1].encode("ascii")


@dataclass(frozen=True)
class ReadStatement:
    """A statement document read once from its JWS; each kind adds the record it carries."""

    statement: UnverifiedStatement

    @property
    def token(self) -> str:
        """The JWS text, as a manifest embeds it."""
        return self.statement.text


@dataclass(frozen=True)
class StatementCheck:
    """The signature and the signer's chain of one statement, checked against one trust store."""

    statement: UnverifiedStatement
    signature_valid: bool
    chain: ChainCheck
    # The organisation and common name of the signing certificate: who really signed.
    signer_names: tuple[str, ...] = ()
    timestamp: TimestampCheck | None = None

    @property
    def trusted(self) -> bool:
        return self.signature_valid and self.chain.trusted and not self._timestamp_tampered()

    def _timestamp_tampered(self) -> list[Reason]:
        # A token for other bytes, or an unreadable one, is a tampered statement; an untrusted
        # authority only means the time is not used, which the chain verdict already shows.
        stamp = self.timestamp
        if stamp is None or stamp.trusted:
            return []
        benign = {"timestamp.untrusted", "timestamp.no-anchors"}
        found = (_stamp_reason(p) for p in stamp.problems)
        return [r.within("statement") for r in found if r.code not in benign]

    @property
    def signer(self) -> str | None:
        return self.chain.subject

    def problems(self) -> tuple[Reason, ...]:
        bad = Reason("statement.bad-signature", "the signature does not verify")
        found = [] if self.signature_valid else [bad]
        return (*found, *self._timestamp_tampered(), *self.chain.problems)


def _stamp_reason(text: str) -> Reason:
    # TimestampCheck keeps its "code: sentence" strings (its JSON and its tests say them so);
    # this is the one place they become reasons.
    code, _, message = text.partition(": ")
    return Reason(code, message or code)


def _compact_and_timestamp(token: str, source: str | None) -> tuple[str, bytes | None]:
    """The compact form of a statement and its timestamp, from either serialisation."""
    text = token.strip()
    if not text.startswith("{"):
        return text, None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"not a readable signed statement (JWS JSON): {exc}", path=source
        ) from None
    parts = (
        [doc.get(k) for k in ("protected", "payload", "signature")] if isinstance(doc, dict) else []
    )
    if not parts or not all(isinstance(p, str) for p in parts) or set(doc) - _JSON_MEMBERS:
        raise InputError(
            "a JWS in JSON form needs protected, payload and signature strings, and no other "
            "members but header",
            path=source,
        )
    header = doc.get("header", {})
    if not isinstance(header, dict) or set(header) - {SIGNATURE_TIMESTAMP}:
        raise InputError(
            f"the JWS unprotected header may hold only {SIGNATURE_TIMESTAMP!r}", path=source
        )
    compact = ".".join(str(part) for part in parts)
    encoded = header.get(SIGNATURE_TIMESTAMP)
    if encoded is None:
        return compact, None
    if not isinstance(encoded, str) or len(encoded) > 2 * MAX_RESPONSE:
        raise InputError(f"the {SIGNATURE_TIMESTAMP} header is not a timestamp token", path=source)
    try:
        return compact, base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            f"the {SIGNATURE_TIMESTAMP} header is not standard base64", path=source
        ) from None


def timestamp_statement(token: str, tsa_url: str, **request: Any) -> str:
    """``token`` with an RFC 3161 timestamp from ``tsa_url`` over its signature value.

    Returns the flattened JSON serialisation; ``request`` goes to :func:`request_timestamp`.
    """
    statement = read_statement(token)
    response = request_timestamp(tsa_url, statement.signature_value, **request)
    protected, payload, signature = statement.compact.split(".")
    document = {
        "protected": protected,
        "payload": payload,
        "signature": signature,
        "header": {SIGNATURE_TIMESTAMP: base64.b64encode(response).decode("ascii")},
    }
    return json.dumps(document, separators=(",", ":"))


def read_statement(token: str, *, source: str | None = None) -> UnverifiedStatement:
    """Parse a JWS, compact or flattened JSON, without verifying it (InputError if not one)."""
    compact, timestamp = _compact_and_timestamp(token, source)
    try:
        parsed = jws.extract_compact(compact.encode(), registry=_StatementRegistry())
        payload = json.loads(parsed.payload)
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable signed statement (JWS): {exc}", path=source) from None
    if not isinstance(payload, dict):
        raise InputError("the signed statement's payload is not a JSON object", path=source)
    header = dict(parsed.headers())
    return UnverifiedStatement(
        header=header,
        payload=payload,
        statement_type=header.get("typ"),
        compact=compact,
        timestamp=timestamp,
        text=token.strip(),
    )


def typed_statement(
    token: str, statement_type: str, what: str, *, source: str | None = None
) -> UnverifiedStatement:
    """A JWS read once, refused unless it is a ``statement_type`` (``what`` names it in errors)."""
    statement = read_statement(token, source=source)
    if statement.statement_type != statement_type:
        raise InputError(f"not a {what} (statement type {statement.statement_type!r})", path=source)
    return statement


def typed_payload(
    token: str, statement_type: str, what: str, *, source: str | None = None
) -> dict[str, Any]:
    """The payload of a JWS that must be a ``statement_type`` (``what`` names it in errors)."""
    return typed_statement(token, statement_type, what, source=source).payload


def read_token_file(path: str | Path, what: str) -> str:
    """The JWS text of a signed statement file (compact, or JSON when it is timestamped)."""
    p = Path(path)
    data = read_capped(p, STATEMENT_CAP, f"signed {what}")
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InputError(f"the signed {what} is not JWS text (not ASCII)", path=p) from None


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
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> StatementCheck:
    """Check the signature of ``token`` with its x5c leaf, and the chain against ``store``.

    The string form of :func:`check_statement`; ``expected_type`` refuses another kind of
    statement with an InputError.
    """
    statement = read_statement(token, source=source)
    if expected_type is not None and statement.statement_type != expected_type:
        raise InputError(
            f"expected a {expected_type} statement, found {statement.statement_type!r}", path=source
        )
    return check_statement(
        statement, store, at=at, source=source, timestamps=timestamps, existed_by=existed_by
    )


@dataclass(frozen=True)
class _Signer:
    """What an ``x5c`` header says about who signed, parsed once: the chain, the leaf's key
    (None when no key we can use is in it), and the leaf's names."""

    chain: tuple[x509.Certificate, ...]
    key: Any | None
    names: tuple[str, ...]


def _parsed_signer(x5c: Sequence[Any]) -> _Signer:
    chain = chain_from_x5c(x5c)
    try:
        key = _public_key(chain[0].public_key()) if chain else None
    except (JoseError, ValueError, UnsupportedAlgorithm):
        # An x5c leaf with a key we cannot use (an unknown curve, say) verifies nothing.
        key = None
    return _Signer(tuple(chain), key, subject_names(chain[0]) if chain else ())


@functools.lru_cache(maxsize=256)
def _signer_of(x5c: tuple[str, ...]) -> _Signer:
    return _parsed_signer(x5c)


def _signer(x5c: Any) -> _Signer:
    """:func:`_parsed_signer`, remembered by the certificates' own encoding (the x5c strings,
    the whole key): a provider signs every disclosure of its models with one certificate, so
    a catalogue whose every track carries its own disclosure still meets one chain. Parsing is
    pure; ValueError (an unreadable x5c) is raised, never remembered."""
    if isinstance(x5c, list) and x5c and all(isinstance(c, str) for c in x5c):
        return _signer_of(tuple(x5c))
    return _parsed_signer(x5c)


@functools.lru_cache(maxsize=256)
def _validated_chain_of(x5c: tuple[str, ...], store: TrustStore, when: dt.datetime) -> ChainCheck:
    return validate_chain(list(_signer_of(x5c).chain), store, when)


def _validated_chain(
    x5c: tuple[Any, ...], chain: list[x509.Certificate], store: TrustStore, when: dt.datetime
) -> ChainCheck:
    """:func:`validate_chain`, remembered by the certificates' own encoding, the store and the
    instant: one provider certificate signs every disclosure of its models and one licensor
    every grant, so a catalogue meets the same chain thousands of times. The path search is
    pure, and everything it reads is in the key."""
    if not all(isinstance(c, str) for c in x5c):
        return validate_chain(chain, store, when)
    return _validated_chain_of(x5c, store, when)


def check_statement(
    statement: UnverifiedStatement,
    store: TrustStore,
    *,
    at: dt.datetime | None = None,
    source: str | None = None,
    timestamps: TrustStore | None = None,
    existed_by: dt.datetime | None = None,
) -> StatementCheck:
    """Check the signature of a read ``statement`` with its x5c leaf, and the chain against
    ``store``.

    A timestamp the ``timestamps`` store trusts proves the signature existed by its time, so
    the chain is judged at the earlier of that time and ``at``: a certificate that expired
    since still vouches for what it signed while valid. ``existed_by`` is such a time vouched
    for by something else: the trusted timestamp of the manifest that carries the statement,
    whose signature covers the statement's bytes.

    Pure: no network, no files. Raises InputError only for input that is not a statement at
    all (an unreadable x5c); everything else (bad signature, untrusted chain) is reported in
    the result.
    """
    x5c = statement.header.get("x5c") or []
    try:
        signer = _signer(x5c)
    except ValueError as exc:
        raise InputError(f"the statement's x5c chain is unreadable: {exc}", path=source) from None
    chain = list(signer.chain)
    alg = statement.header.get("alg")
    signature_valid = False
    if signer.key is not None and alg in _ACCEPTED:
        try:
            jws.deserialize_compact(
                statement.compact,
                signer.key,
                algorithms=[alg],
                registry=_StatementRegistry(algorithms=[alg]),
            )
            signature_valid = True
        except (JoseError, ValueError, UnsupportedAlgorithm):
            signature_valid = False
    when = at or dt.datetime.now(dt.UTC)
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    stamp = None
    if statement.timestamp is not None:
        authorities = timestamps or TrustStore(Role.TIMESTAMP)
        stamp = check_timestamp(statement.timestamp, statement.signature_value, authorities)
        if stamp.trusted and stamp.time is not None:
            when = min(when, stamp.time)
    if existed_by is not None:
        when = min(when, existed_by)
    return StatementCheck(
        statement=statement,
        signature_valid=signature_valid,
        chain=_validated_chain(tuple(statement.header.get("x5c") or ()), chain, store, when),
        signer_names=signer.names,
        timestamp=stamp,
    )
