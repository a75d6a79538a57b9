"""Where provsdk keeps its local state: ``PROVSDK_HOME``, or the platform's user data folder.

::

    PROVSDK_HOME/
      keys/<role>.key      private key of each role (PKCS#8 PEM, mode 0600)
      keys/<role>.pem      that role's certificate chain, leaf first
      ca/<role>-root.key   the development root's key (only for the dev PKI)
      trust/<role>.pem     the trust anchors each role's signatures are checked against
      trust/timestamp.pem  the time-stamp authorities trusted to say when something was signed
      repository.sqlite    the default manifest repository (``provsdk repo init``)
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from provsdk.credentials.roles import Role

__all__ = ["ProvsdkHome"]


class ProvsdkHome:
    """The layout of one ``PROVSDK_HOME`` folder. Nothing here touches the disk by itself."""

    def __init__(self, root: str | Path | None = None) -> None:
        if root is None:
            root = os.environ.get("PROVSDK_HOME") or platformdirs.user_data_dir("provsdk")
        self.root = Path(root).expanduser()

    def key_path(self, role: Role) -> Path:
        return self.root / "keys" / f"{role.value}.key"

    def chain_path(self, role: Role) -> Path:
        return self.root / "keys" / f"{role.value}.pem"

    def root_key_path(self, role: Role) -> Path:
        return self.root / "ca" / f"{role.value}-root.key"

    def anchors_path(self, role: Role) -> Path:
        return self.root / "trust" / f"{role.value}.pem"

    @property
    def repository_path(self) -> Path:
        return self.root / "repository.sqlite"

    def __repr__(self) -> str:
        return f"ProvsdkHome({str(self.root)!r})"
