"""Keys, certificate chains, signers and trust stores for the three signing roles."""

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
