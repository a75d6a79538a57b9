"""The certificate rules a signing leaf must meet, checked before c2pa sees the chain.

c2pa rejects an unfit certificate with an opaque message at signing time; checking first lets
us say which rule failed. The rules follow the C2PA certificate profile: a leaf (not a CA) with
the digitalSignature key usage, an extended key usage of emailProtection or documentSigning
(or the C2PA claim-signing purpose), and key identifiers.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = ["C2PA_CLAIM_SIGNING", "DOCUMENT_SIGNING", "profile_problems", "subject_names"]

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
_SIGNING_EKUS = {ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING, C2PA_CLAIM_SIGNING}


def profile_problems(leaf: x509.Certificate, now: dt.datetime | None = None) -> list[str]:
    """Every rule ``leaf`` breaks, as short phrases; empty when it is fit to sign."""
    now = now or dt.datetime.now(dt.UTC)
    problems: list[str] = []
    ext = leaf.extensions
    try:
        if ext.get_extension_for_class(x509.BasicConstraints).value.ca:
            problems.append("it is a CA certificate, not a signing leaf")
    except x509.ExtensionNotFound:
        pass
    try:
        if not ext.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            problems.append("its key usage lacks digitalSignature")
    except x509.ExtensionNotFound:
        problems.append("it has no key usage extension")
    try:
        ekus = set(ext.get_extension_for_class(x509.ExtendedKeyUsage).value)
        if not ekus & _SIGNING_EKUS:
            problems.append(
                "its extended key usage allows neither emailProtection nor documentSigning"
            )
    except x509.ExtensionNotFound:
        problems.append("it has no extended key usage extension")
    for kind in (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier):
        try:
            ext.get_extension_for_class(kind)
        except x509.ExtensionNotFound:
            problems.append(f"it has no {kind.__name__}")
    if leaf.not_valid_after_utc < now:
        problems.append(f"it expired on {leaf.not_valid_after_utc:%Y-%m-%d}")
    if leaf.not_valid_before_utc > now:
        problems.append(f"it is not valid before {leaf.not_valid_before_utc:%Y-%m-%d}")
    return problems


def subject_names(cert: x509.Certificate) -> tuple[str, ...]:
    """The organisation and common name a certificate vouches for: who really signed."""
    wanted = (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME)
    return tuple(str(a.value) for oid in wanted for a in cert.subject.get_attributes_for_oid(oid))
