"""Trust stores: the anchors each role's signatures are checked against, kept apart by role.

A store holds the anchors from ``PROVSDK_HOME/trust/<role>.pem`` (written by ``keys init``)
plus any the caller adds. An empty store trusts nothing: it fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from provsdk.credentials.pem import load_chain, read_pem_source
from provsdk.credentials.roles import Role
from provsdk.home import ProvsdkHome
from provsdk.inert import inert_path

__all__ = ["TrustConfig", "TrustStore"]

_SHA256 = hashes.SHA256()

# The `provsdk verify` option that adds anchors of each role for one run.
_FLAGS = {
    Role.PRODUCER: "--trust-anchors",
    Role.PROVIDER: "--provider-anchors",
    Role.LICENSOR: "--licensor-anchors",
    Role.TIMESTAMP: "--tsa-anchors",
}


@dataclass(frozen=True)
class TrustStore:
    """The anchors trusted for one role."""

    role: Role
    anchors: tuple[x509.Certificate, ...] = ()
    # The file the anchors were read from (or would be), so an empty store can name it.
    source: Path | None = field(default=None, compare=False)

    def empty_reason(self) -> str:
        """Why this store, being empty, trusts nothing, and how to fill it."""
        flag = _FLAGS[self.role]
        if self.source is None:
            return f"the {self.role} trust store is empty, so nothing is trusted; pass {flag}"
        return (
            f"the {self.role} trust store {inert_path(self.source)} is empty, so nothing is"
            f" trusted: add your {self.role}'s root with"
            f" `provsdk trust add --role {self.role} ROOT.pem` or pass {flag}"
        )

    def pem(self) -> str:
        return "".join(a.public_bytes(serialization.Encoding.PEM).decode() for a in self.anchors)

    def adding(self, certs: Iterable[x509.Certificate]) -> TrustStore:
        seen = {a.fingerprint(_SHA256) for a in self.anchors}
        new = []
        for cert in certs:
            if cert.fingerprint(_SHA256) not in seen:
                seen.add(cert.fingerprint(_SHA256))
                new.append(cert)
        return TrustStore(self.role, self.anchors + tuple(new), self.source)

    def adding_files(self, paths: Iterable[str | Path]) -> TrustStore:
        store = self
        for path in paths:
            store = store.adding(load_chain(read_pem_source(path), str(path)))
        return store

    @classmethod
    def from_home(cls, role: Role, home: ProvsdkHome | None = None) -> TrustStore:
        path = (home or ProvsdkHome()).anchors_path(role)
        store = cls(role, source=path)
        return store.adding_files([path]) if path.exists() else store


@dataclass(frozen=True)
class TrustConfig:
    """One trust store per role. A verifier never uses one role's store for another's job."""

    producer: TrustStore = field(default_factory=lambda: TrustStore(Role.PRODUCER))
    provider: TrustStore = field(default_factory=lambda: TrustStore(Role.PROVIDER))
    licensor: TrustStore = field(default_factory=lambda: TrustStore(Role.LICENSOR))
    # Time-stamp authorities whose tokens may vouch for *when* a manifest or statement was
    # signed. Empty by default: then no timestamp extends a certificate past its expiry.
    timestamp: TrustStore = field(default_factory=lambda: TrustStore(Role.TIMESTAMP))

    def for_role(self, role: Role) -> TrustStore:
        return {
            Role.PRODUCER: self.producer,
            Role.PROVIDER: self.provider,
            Role.LICENSOR: self.licensor,
            Role.TIMESTAMP: self.timestamp,
        }[role]

    @classmethod
    def load(
        cls,
        home: ProvsdkHome | None = None,
        *,
        producer_anchors: Iterable[str | Path] = (),
        provider_anchors: Iterable[str | Path] = (),
        licensor_anchors: Iterable[str | Path] = (),
        timestamp_anchors: Iterable[str | Path] = (),
    ) -> TrustConfig:
        """The stores of ``home``, plus extra anchors from PEM files for each role: producer
        (``--trust-anchors``), provider (``--provider-anchors``), licensor
        (``--licensor-anchors``) and time-stamp authority (``--tsa-anchors``)."""
        home = home or ProvsdkHome()
        return cls(
            producer=TrustStore.from_home(Role.PRODUCER, home).adding_files(producer_anchors),
            provider=TrustStore.from_home(Role.PROVIDER, home).adding_files(provider_anchors),
            licensor=TrustStore.from_home(Role.LICENSOR, home).adding_files(licensor_anchors),
            timestamp=TrustStore.from_home(Role.TIMESTAMP, home).adding_files(timestamp_anchors),
        )
