"""A development PKI: one root per role and a leaf under each, for trying provsdk locally.

One root *per role* rather than one shared root: the trust stores then differ by construction,
so a provider's key can never pass for a licensor's (docs/adr/0003-one-root-per-role.md).
Certificates carry "provsdk development PKI" as their organisation so a verifier anywhere else
can say that a file was signed with development keys.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provsdk.credentials.algorithms import Algorithm
from provsdk.credentials.profile import DOCUMENT_SIGNING
from provsdk.credentials.roles import Role
from provsdk.errors import ConfigurationError, OutputError
from provsdk.home import ProvsdkHome

__all__ = [
    "DEV_ORGANIZATION",
    "DEV_UNIT",
    "DevPki",
    "init_dev_pki",
    "is_dev_certificate",
    "issue_leaf",
    "make_root",
]

DEV_ORGANIZATION = "provsdk development PKI"
# Every development certificate says so in its unit, whatever organisation it names.
DEV_UNIT = "provsdk development PKI"
ROOT_DAYS = 3650
LEAF_DAYS = 730


@dataclass(frozen=True)
class DevPki:
    """What ``keys init`` wrote: the home, the algorithm, and each role's leaf subject."""

    home: ProvsdkHome
    algorithm: Algorithm
    subjects: dict[Role, str]


def is_dev_certificate(cert: x509.Certificate) -> bool:
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return any(str(u.value).startswith(DEV_UNIT) for u in units)


def _name(common_name: str, unit: str, organization: str = DEV_ORGANIZATION) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{DEV_UNIT}: {unit}"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _hash_for(key: PrivateKeyTypes) -> hashes.HashAlgorithm | None:
    # Ed25519 signs without a separate digest. An EC key certifies with the hash matching its
    # curve: c2pa refuses a P-521 chain certified with SHA-256.
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        bits = key.curve.key_size
        return hashes.SHA512() if bits > 384 else hashes.SHA384() if bits > 256 else hashes.SHA256()
    return hashes.SHA256()


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_root(
    common_name: str, algorithm: Algorithm, unit: str = "roots", now: dt.datetime | None = None
) -> tuple[PrivateKeyTypes, x509.Certificate]:
    """A self-signed CA certificate and its key."""
    now = now or dt.datetime.now(dt.UTC)
    key = algorithm.generate_key()
    name = _name(common_name, unit)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)  # type: ignore[arg-type]
        .sign(key, _hash_for(key))  # type: ignore[arg-type]
    )
    return key, cert


def issue_leaf(
    issuer_key: PrivateKeyTypes,
    issuer: x509.Certificate,
    common_name: str,
    algorithm: Algorithm,
    *,
    unit: str = "signers",
    not_before: dt.datetime | None = None,
    days: int = LEAF_DAYS,
    organization: str = DEV_ORGANIZATION,
    not_after: dt.datetime | None = None,
) -> tuple[PrivateKeyTypes, x509.Certificate]:
    """A signing leaf under ``issuer`` that meets the C2PA certificate profile.

    It is valid from ``not_before`` for ``days``, or until ``not_after`` when that is given.
    """
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    end = not_after or start + dt.timedelta(days=days)
    key = algorithm.generate_key()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, unit, organization))
        .issuer_name(issuer.subject)
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(issuer_key, _hash_for(issuer_key))  # type: ignore[arg-type]
    )
    return key, cert


def _write_private(path: Path, key: PrivateKeyTypes) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates a new file, exclusively, mode 0600: the key is never readable by others,
    # not even briefly, and a stale file left by someone else is never reused.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _write_public(path: Path, certs: list[x509.Certificate]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    tmp.replace(path)


def init_dev_pki(
    home: ProvsdkHome | None = None,
    algorithm: Algorithm = Algorithm.ES256,
    *,
    force: bool = False,
    organization: str | None = None,
) -> DevPki:
    """Create a root and a signing leaf for each role under ``home``, and trust the roots.

    ``organization`` names the leaves' organisation (say, your studio's, so scope grants made
    out to it match); every certificate still says it is a development one in its unit.
    Refuses to overwrite existing keys unless ``force``: they may be the only copy.
    """
    if algorithm in (Algorithm.PS384, Algorithm.PS512):
        # An RSA key does not say which PSS hash it signs with; loading would pick PS256.
        raise ConfigurationError(
            f"the development PKI supports RSA as PS256 only, not {algorithm.value}"
        )
    home = home or ProvsdkHome()
    existing = [home.key_path(r) for r in Role.signing() if home.key_path(r).exists()]
    if existing and not force:
        raise ConfigurationError(
            "keys already exist; not overwriting them",
            path=existing[0],
            hint="pass --force to replace the development PKI",
        )
    subjects: dict[Role, str] = {}
    try:
        for role in Role.signing():
            root_key, root = make_root(f"provsdk dev {role} root", algorithm)
            leaf_key, leaf = issue_leaf(
                root_key,
                root,
                f"provsdk dev {role} (not for production)",
                algorithm,
                unit=str(role),
                organization=organization or DEV_ORGANIZATION,
            )
            _write_private(home.root_key_path(role), root_key)
            _write_private(home.key_path(role), leaf_key)
            _write_public(home.chain_path(role), [leaf])
            _write_public(home.anchors_path(role), [root])
            subjects[role] = leaf.subject.rfc4514_string()
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else home.root
        raise OutputError(
            f"cannot write the development PKI: {exc.strerror or exc}",
            path=where,
            hint="set PROVSDK_HOME (or --home) to a folder you can write",
        ) from None
    return DevPki(home=home, algorithm=algorithm, subjects=subjects)
