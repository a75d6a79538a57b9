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

__all__ = ["TrustConfig", "TrustStore"]

_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class TrustStore:
    """The anchors trusted for one role."""

    role: Role
    anchors: tuple[x509.Certificate, ...] = ()

    def pem(self) -> str:
        return "".join(a.public_bytes(serialization.Encoding.PEM).decode() for a in self.anchors)

    def adding(self, certs: Iterable[x509.Certificate]) -> TrustStore:
        seen = {a.fingerprint(_SHA256) for a in self.anchors}
        new = [c for c in certs if c.fingerprint(_SHA256) not in seen]
        return TrustStore(self.role, self.anchors + tuple(new))

    def adding_files(self, paths: Iterable[str | Path]) -> TrustStore:
        store = self
        for path in paths:
            store = store.adding(load_chain(read_pem_source(path), str(path)))
        return store

    @classmethod
    def from_home(cls, role: Role, home: ProvsdkHome | None = None) -> TrustStore:
        path = (home or ProvsdkHome()).anchors_path(role)
        store = cls(role)
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
        timestamp_anchors: Iterable[str | Path] = (),
    ) -> TrustConfig:
        """The stores of ``home``, plus extra producer (``--trust-anchors``) and time-stamp
        authority (``--tsa-anchors``) anchors."""
        home = home or ProvsdkHome()
        return cls(
            producer=TrustStore.from_home(Role.PRODUCER, home).adding_files(producer_anchors),
            provider=TrustStore.from_home(Role.PROVIDER, home),
            licensor=TrustStore.from_home(Role.LICENSOR, home),
            timestamp=TrustStore.from_home(Role.TIMESTAMP, home).adding_files(timestamp_anchors),
        )
