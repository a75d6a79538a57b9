"""Reading keys and certificate chains from PEM text, files, or environment variables.

Values from the environment may be PEM text or a path to a PEM file: CI systems store secrets
as text, people store them as files. Error messages name the source, never its content.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from provsdk.errors import CredentialError
from provsdk.small_files import PEM_CAP, read_capped

__all__ = [
    "InsecureKeyFileWarning",
    "load_chain",
    "load_private_key",
    "read_key_file",
    "read_pem_source",
    "read_pem_value",
]


class InsecureKeyFileWarning(UserWarning):
    """A private key file that other users of the machine can read."""


_PEM_MARK = "-----BEGIN "


def read_pem_source(path: str | Path) -> bytes:
    """The bytes of a PEM file, with a clear error when it cannot be read."""
    return read_capped(path, PEM_CAP, "PEM file", CredentialError)


def read_key_file(path: str | Path) -> bytes:
    """A private key file's bytes, warning when its permissions let others read it."""
    p = Path(path)
    data = read_pem_source(p)
    mode = p.stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        warnings.warn(
            f"{p}: private key is readable by other users (mode {mode:03o}); chmod 600 it",
            InsecureKeyFileWarning,
            stacklevel=2,
        )
    return data


def read_pem_value(value: str, source: str) -> bytes:
    """PEM bytes from a value that is PEM text or a path; ``source`` names it in errors.

    The value may be a secret, so errors name ``source`` (the variable), never the value: a key
    that lost its armour in a secret store must not come back in an error message.
    """
    if _PEM_MARK in value:
        return value.encode()
    path = Path(value)
    try:
        if "\n" not in value and len(value) < 4096 and path.exists():
            return read_capped(path, PEM_CAP, f"file {source} names", CredentialError)
    except OSError:
        pass
    raise CredentialError(
        f"{source} holds neither PEM text (no '-----BEGIN' line) nor the path of a readable file"
    )


def load_private_key(pem: bytes, source: str) -> PrivateKeyTypes:
    password = os.environ.get("PROVSDK_KEY_PASSWORD")
    try:
        return serialization.load_pem_private_key(
            pem, password=password.encode() if password else None
        )
    except TypeError:
        raise CredentialError(
            f"{source}: the private key is encrypted; set PROVSDK_KEY_PASSWORD"
        ) from None
    except ValueError:
        # cryptography's message can quote structure details; ours names only the source.
        raise CredentialError(f"{source}: not a readable PEM private key") from None


def load_chain(pem: bytes, source: str) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except (ValueError, x509.InvalidVersion):
        raise CredentialError(f"{source}: not a readable PEM certificate chain") from None
    if not chain:
        raise CredentialError(f"{source}: contains no certificate")
    return chain
