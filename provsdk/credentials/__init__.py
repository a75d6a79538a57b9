"""Keys, certificate chains, signers and trust stores for the three signing roles."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.credentials.algorithms import Algorithm
    from provsdk.credentials.devpki import DevPki, init_dev_pki, is_dev_certificate
    from provsdk.credentials.pem import InsecureKeyFileWarning
    from provsdk.credentials.roles import Role
    from provsdk.credentials.signers import (
        CallbackSigner,
        KeySigner,
        Signer,
        load_signer,
        signer_from_env,
        signer_from_files,
    )
    from provsdk.credentials.trust import TrustConfig, TrustStore
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "Algorithm": "provsdk.credentials.algorithms",
            "DevPki": "provsdk.credentials.devpki",
            "init_dev_pki": "provsdk.credentials.devpki",
            "is_dev_certificate": "provsdk.credentials.devpki",
            "InsecureKeyFileWarning": "provsdk.credentials.pem",
            "Role": "provsdk.credentials.roles",
            "CallbackSigner": "provsdk.credentials.signers",
            "KeySigner": "provsdk.credentials.signers",
            "Signer": "provsdk.credentials.signers",
            "load_signer": "provsdk.credentials.signers",
            "signer_from_env": "provsdk.credentials.signers",
            "signer_from_files": "provsdk.credentials.signers",
            "TrustConfig": "provsdk.credentials.trust",
            "TrustStore": "provsdk.credentials.trust",
        },
    )

__all__ = [
    "Algorithm",
    "CallbackSigner",
    "DevPki",
    "InsecureKeyFileWarning",
    "KeySigner",
    "Role",
    "Signer",
    "TrustConfig",
    "TrustStore",
    "init_dev_pki",
    "is_dev_certificate",
    "load_signer",
    "signer_from_env",
    "signer_from_files",
]
