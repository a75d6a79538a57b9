"""Adding and removing the anchors of one role's trust store file, ``trust/<role>.pem``.

Anchors are CA certificates: a leaf is refused, since trusting one leaf directly is pinning, not
an anchor, and the chain check would not build a path to it. Fingerprints are SHA-256, written
as 64 lowercase hex digits without colons; a fingerprint given by a person may carry colons and
any case. Every change rewrites the file atomically: it is the old one or the new one, whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from provsdk.credentials.pem import load_chain, read_pem_source
from provsdk.credentials.roles import Role
from provsdk.credentials.trust import TrustStore
from provsdk.errors import ConfigurationError, CredentialError
from provsdk.home import ProvsdkHome
from provsdk.inert import inert
from provsdk.sign.atomic import atomic_output

__all__ = [
    "MAX_STORE_BYTES",
    "MIN_PREFIX",
    "AddedAnchors",
    "AnchorInfo",
    "add_anchors",
    "anchor_info",
    "fingerprint",
    "normalise_fingerprint",
    "remove_anchor",
]

MIN_PREFIX = 8  # hex digits of a fingerprint prefix that `remove` accepts
# c2pa refuses a settings string (which carries the producer anchors) over about 1 MiB, and a
# verifier that cannot load its anchors reads every file as unreadable: stay well below it.
MAX_STORE_BYTES = 900 * 1024


def fingerprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint: 64 lowercase hex digits, no colons."""
    return cert.fingerprint(hashes.SHA256()).hex()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint or prefix as a person typed it: colons and spaces dropped, lowercased."""
    return "".join(c for c in text if c not in ": ").lower()


@dataclass(frozen=True)
class AnchorInfo:
    """What ``trust list`` shows of one anchor."""

    role: Role
    subject: str
    fingerprint: str
    not_after: dt.datetime
    expired: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "role": self.role.value,
            "subject": self.subject,
            "fingerprint": self.fingerprint,
            "not_after": self.not_after.isoformat(),
            "expired": self.expired,
        }


def anchor_info(role: Role, cert: x509.Certificate, at: dt.datetime | None = None) -> AnchorInfo:
    when = at or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    return AnchorInfo(
        role, cert.subject.rfc4514_string(), fingerprint(cert), not_after, not_after < when
    )


@dataclass(frozen=True)
class AddedAnchors:
    """What :func:`add_anchors` did: the certificates it added and those already trusted."""

    path: Path
    added: tuple[x509.Certificate, ...]
    already: tuple[x509.Certificate, ...]


def _not_an_anchor(cert: x509.Certificate) -> str | None:
    """Why ``cert`` cannot be a trust anchor, or None when it can."""
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "has no basicConstraints extension, so it is not a CA certificate"
    except ValueError:
        return "has extensions that cannot be read"
    if not bc.ca:
        return "is a leaf (basicConstraints CA=false), not a CA certificate"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not usage.key_cert_sign:
        return "is a CA certificate whose keyUsage does not allow signing certificates"
    return None


def _write(path: Path, certs: list[x509.Certificate]) -> None:
    # A store linked to a shared, centrally kept file is changed there: replacing the link with
    # a private copy would keep trusting roots the shared store later drops.
    path = path.resolve() if path.is_symlink() else path
    path.parent.mkdir(parents=True, exist_ok=True)
    if not certs:
        path.unlink(missing_ok=True)  # an empty PEM file would not load: no file is no anchor
        return
    text = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    if len(text) > MAX_STORE_BYTES:
        raise ConfigurationError(
            f"the {len(certs)} anchors would make the store {len(text):,} bytes, over the "
            f"{MAX_STORE_BYTES:,} that c2pa's settings take; nothing was changed",
            path=path,
            hint="remove anchors you no longer need: provsdk trust list, provsdk trust remove",
        )
    with atomic_output(path) as tmp:
        tmp.write_bytes(text)


def _other_role_with(
    role: Role, certs: list[x509.Certificate], home: ProvsdkHome | None
) -> tuple[Role, x509.Certificate] | None:
    """A certificate of ``certs`` that another role's store of ``home`` already trusts."""
    for other in Role:
        if other is role:
            continue
        theirs = {fingerprint(a) for a in TrustStore.from_home(other, home).anchors}
        for cert in certs:
            if fingerprint(cert) in theirs:
                return other, cert
    return None


def add_anchors(role: Role, pem_file: str | Path, home: ProvsdkHome | None = None) -> AddedAnchors:
    """Append the CA certificates of ``pem_file`` to ``role``'s store in ``home``.

    Raises :class:`CredentialError` naming the file when it holds no readable certificate or a
    certificate that is not a CA (nothing is written then). Certificates already in the store
    (same SHA-256 fingerprint) are skipped and reported in ``already``.
    """
    certs = load_chain(read_pem_source(pem_file), str(pem_file))
    for i, cert in enumerate(certs):
        why = _not_an_anchor(cert)
        if why:
            which = f"certificate {i + 1} ({inert(cert.subject.rfc4514_string())})"
            raise CredentialError(
                f"{which} {why}; a {role} trust anchor must be a root or intermediate CA",
                path=pem_file,
                hint="add the CA that issued the certificate, not the certificate itself",
            )
    # One root trusted for two roles would let that role's keys pass for the other's (a
    # producer key signing grants): the separation of roles is the point of the stores.
    shared = _other_role_with(role, certs, home)
    if shared is not None:
        other, cert = shared
        raise CredentialError(
            f"{inert(cert.subject.rfc4514_string())} is already a {other.value} trust anchor; "
            f"trusting it as a {role.value} anchor too would let {other.value} keys sign as "
            f"{role.value}s",
            path=pem_file,
            hint=f"check --role and the file: a {role.value}'s root is not a {other.value}'s",
        )
    store = TrustStore.from_home(role, home)
    path = (home or ProvsdkHome()).anchors_path(role)
    grown = store.adding(certs)
    seen = {fingerprint(a) for a in store.anchors}
    added = grown.anchors[len(store.anchors) :]
    already = tuple(c for c in certs if fingerprint(c) in seen)
    if added:
        _write(path, list(grown.anchors))
    return AddedAnchors(path, added, already)


def remove_anchor(
    role: Role,
    prefix: str,
    home: ProvsdkHome | None = None,
    *,
    min_prefix: int = MIN_PREFIX,
) -> x509.Certificate:
    """Remove the one anchor of ``role``'s store whose SHA-256 fingerprint starts with ``prefix``.

    ``prefix`` needs at least ``min_prefix`` hex digits (colons and case are ignored).
    Raises :class:`ConfigurationError` when it matches no anchor or several, naming them.
    """
    wanted = normalise_fingerprint(prefix)
    if len(wanted) < min_prefix or any(c not in "0123456789abcdef" for c in wanted):
        raise ConfigurationError(
            f"{inert(prefix)!r} is not a fingerprint: give at least {min_prefix} hex digits"
        )
    store = TrustStore.from_home(role, home)
    path = (home or ProvsdkHome()).anchors_path(role)
    matches = [a for a in store.anchors if fingerprint(a).startswith(wanted)]
    if not matches:
        raise ConfigurationError(
            f"no {role} trust anchor has a fingerprint starting {wanted}", path=path
        )
    if len(matches) > 1:
        listed = ", ".join(
            f"{fingerprint(m)} ({inert(m.subject.rfc4514_string())})" for m in matches
        )
        raise ConfigurationError(
            f"{wanted} matches {len(matches)} {role} trust anchors: {listed}; give more digits",
            path=path,
        )
    _write(path, [a for a in store.anchors if a is not matches[0]])
    return matches[0]
