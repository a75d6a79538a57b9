"""Signature algorithms: which key type each needs, and the matching c2pa enum."""

from __future__ import annotations

import enum

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from provsdk.errors import CredentialError

__all__ = ["Algorithm", "algorithm_for_key"]

_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}


class Algorithm(enum.Enum):
    ES256 = "ES256"
    ES384 = "ES384"
    ES512 = "ES512"
    PS256 = "PS256"
    PS384 = "PS384"
    PS512 = "PS512"
    ED25519 = "Ed25519"

    @classmethod
    def parse(cls, name: str) -> Algorithm:
        for alg in cls:
            if alg.value.lower() == name.lower().replace("-", ""):
                return alg
        names = ", ".join(a.value for a in cls)
        raise CredentialError(f"unknown signature algorithm {name!r}; use one of {names}")

    def c2pa(self) -> object:
        """The c2pa-python enum member for this algorithm."""
        import c2pa

        return getattr(c2pa.C2paSigningAlg, self.name)

    def generate_key(self) -> PrivateKeyTypes:
        if self.value in _CURVES:
            return ec.generate_private_key(_CURVES[self.value])
        if self is Algorithm.ED25519:
            return ed25519.Ed25519PrivateKey.generate()
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)

    def fits(self, key: PublicKeyTypes) -> bool:
        if self.value in _CURVES:
            return (
                isinstance(key, ec.EllipticCurvePublicKey)
                and key.curve.name == _CURVES[self.value].name
            )
        if self is Algorithm.ED25519:
            return isinstance(key, ed25519.Ed25519PublicKey)
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048


def algorithm_for_key(key: PublicKeyTypes) -> Algorithm:
    """The algorithm a key is used with by default (RSA keys sign with PSS)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        for name, curve in _CURVES.items():
            if key.curve.name == curve.name:
                return Algorithm(name)
        raise CredentialError(f"unsupported elliptic curve {key.curve.name}")
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Algorithm.ED25519
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise CredentialError(f"RSA key of {key.key_size} bits is too weak; use 2048 or more")
        return Algorithm.PS256
    raise CredentialError(f"unsupported key type {type(key).__name__}")
