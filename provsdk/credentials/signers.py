"""Signing credentials: a key (or a callback that holds it elsewhere) and its certificate chain.

Everything that signs in provsdk goes through :class:`Signer`. The C2PA library is handed a
callback, never the key bytes, so a key held in a KMS or an HSM signs the same way as a PEM
file on disk, and no private key is ever serialised out of its object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from provsdk.credentials.algorithms import Algorithm, algorithm_for_key
from provsdk.credentials.pem import (
    load_chain,
    load_private_key,
    read_key_file,
    read_pem_source,
    read_pem_value,
)
from provsdk.credentials.profile import profile_problems
from provsdk.credentials.roles import Role
from provsdk.errors import CredentialError
from provsdk.home import ProvsdkHome

__all__ = [
    "ENV_SIGNING_CERT",
    "ENV_SIGNING_KEY",
    "CallbackSigner",
    "KeySigner",
    "Signer",
    "load_signer",
    "signer_from_env",
    "signer_from_files",
]

ENV_SIGNING_KEY = "PROVSDK_SIGNING_KEY"
ENV_SIGNING_CERT = "PROVSDK_SIGNING_CERT"

_HASHES: dict[Algorithm, type[hashes.HashAlgorithm]] = {
    Algorithm.ES256: hashes.SHA256,
    Algorithm.ES384: hashes.SHA384,
    Algorithm.ES512: hashes.SHA512,
    Algorithm.PS256: hashes.SHA256,
    Algorithm.PS384: hashes.SHA384,
    Algorithm.PS512: hashes.SHA512,
}


@dataclass(frozen=True, repr=False)
class Signer:
    """A signing credential: ``sign`` bytes with ``algorithm``, vouched for by ``chain``.

    ``chain`` is leaf first, without the trust anchor. Subclasses provide :meth:`sign`.
    """

    algorithm: Algorithm
    chain: tuple[x509.Certificate, ...]
    source: str = field(default="signer")

    def sign(self, data: bytes) -> bytes:
        raise NotImplementedError

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def c2pa_signer(
        self, tsa_url: str | None = None, errors: list[BaseException] | None = None
    ) -> Any:
        """A fresh c2pa ``Signer`` that calls back into :meth:`sign` (one per signing).

        c2pa swallows exceptions raised in the callback and reports only that the signature
        is invalid; when ``errors`` is given, what the callback raised is appended there so the
        caller can say what really went wrong.
        """
        import c2pa

        def callback(data: bytes) -> bytes:
            try:
                return self.sign(data)
            except BaseException as exc:
                if errors is not None:
                    errors.append(exc)
                raise

        return c2pa.Signer.from_callback(
            callback, self.algorithm.c2pa(), self.chain_pem().decode(), tsa_url
        )

    def __repr__(self) -> str:
        # Never the key: only what identifies the credential publicly.
        return (
            f"{type(self).__name__}({self.algorithm.value}, {self.leaf.subject.rfc4514_string()!r})"
        )


@dataclass(frozen=True, repr=False)
class KeySigner(Signer):
    """A signer holding a private key in this process (from a PEM file or the environment)."""

    key: PrivateKeyTypes | None = field(default=None, compare=False)

    def sign(self, data: bytes) -> bytes:
        key = self.key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(data, ec.ECDSA(_HASHES[self.algorithm]()))
            return _der_to_raw_ecdsa(der, key.curve.key_size)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, rsa.RSAPrivateKey):
            digest = _HASHES[self.algorithm]()
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            return key.sign(data, pss, digest)
        raise CredentialError(f"{self.source}: unsupported private key type")


@dataclass(frozen=True, repr=False)
class CallbackSigner(Signer):
    """A signer whose key lives elsewhere (KMS, HSM, PKCS#11): ``callback(data) -> signature``.

    ECDSA signatures may be returned DER-encoded (as most KMS APIs do) or raw ``r||s``; they
    are normalised to the raw form COSE and JOSE use.
    """

    callback: Callable[[bytes], bytes] | None = field(default=None, compare=False)

    def sign(self, data: bytes) -> bytes:
        if self.callback is None:
            raise CredentialError(f"{self.source}: no signing callback")
        signature = self.callback(data)
        pub = self.leaf.public_key()
        if isinstance(pub, ec.EllipticCurvePublicKey) and signature[:1] == b"\x30":
            try:
                return _der_to_raw_ecdsa(signature, pub.curve.key_size)
            except ValueError:
                return signature
        return signature


def _der_to_raw_ecdsa(der: bytes, bits: int) -> bytes:
    r, s = decode_dss_signature(der)
    size = (bits + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _checked(
    key: PrivateKeyTypes, chain: list[x509.Certificate], source: str, algorithm: Algorithm | None
) -> KeySigner:
    leaf_key = chain[0].public_key()
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != leaf_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CredentialError(f"{source}: the private key does not match the leaf certificate")
    alg = algorithm or algorithm_for_key(leaf_key)
    if not alg.fits(leaf_key):
        raise CredentialError(f"{source}: a {type(leaf_key).__name__} cannot sign {alg.value}")
    problems = profile_problems(chain[0])
    if problems:
        raise CredentialError(f"{source}: the leaf certificate cannot sign: {'; '.join(problems)}")
    return KeySigner(algorithm=alg, chain=tuple(chain), source=source, key=key)


def signer_from_files(
    key_path: str | Path, chain_path: str | Path, algorithm: Algorithm | None = None
) -> KeySigner:
    """A signer from a PEM private key file and a PEM chain file (leaf first)."""
    key = load_private_key(read_key_file(key_path), str(key_path))
    chain = load_chain(read_pem_source(chain_path), str(chain_path))
    return _checked(key, chain, str(chain_path), algorithm)


def signer_from_env(
    environ: Mapping[str, str] | None = None, algorithm: Algorithm | None = None
) -> KeySigner | None:
    """The signer in ``PROVSDK_SIGNING_KEY`` / ``PROVSDK_SIGNING_CERT``, or None if unset.

    Each variable holds PEM text or a path to a PEM file.
    """
    env = os.environ if environ is None else environ
    key_value, cert_value = env.get(ENV_SIGNING_KEY), env.get(ENV_SIGNING_CERT)
    if not key_value and not cert_value:
        return None
    if not key_value or not cert_value:
        missing = ENV_SIGNING_KEY if not key_value else ENV_SIGNING_CERT
        raise CredentialError(f"{missing} is not set (the two signing variables go together)")
    key_source, chain_source = f"${ENV_SIGNING_KEY}", f"${ENV_SIGNING_CERT}"
    key = load_private_key(read_pem_value(key_value, key_source), key_source)
    chain = load_chain(read_pem_value(cert_value, chain_source), chain_source)
    return _checked(key, chain, chain_source, algorithm)


def load_signer(
    role: Role,
    *,
    key: str | Path | None = None,
    cert: str | Path | None = None,
    home: ProvsdkHome | None = None,
    use_env: bool = True,
) -> KeySigner:
    """The credential a role signs with: explicit files, else the environment, else the home.

    The environment variables stand for the producer (the role CI signs files as).
    """
    if key is not None or cert is not None:
        if key is None or cert is None:
            raise CredentialError("give both a private key and a certificate chain")
        return signer_from_files(key, cert)
    if use_env and role is Role.PRODUCER:
        from_env = signer_from_env()
        if from_env is not None:
            return from_env
    home = home or ProvsdkHome()
    key_path, chain_path = home.key_path(role), home.chain_path(role)
    if not key_path.exists() or not chain_path.exists():
        raise CredentialError(
            f"no {role} credentials: {key_path} not found",
            hint=f"run `provsdk keys init` for a development PKI, or set {ENV_SIGNING_KEY} "
            f"and {ENV_SIGNING_CERT}",
        )
    return signer_from_files(key_path, chain_path)
