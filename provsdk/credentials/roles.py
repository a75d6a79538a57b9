"""Who signs what. Each role signs one kind of thing and is trusted through its own store."""

from __future__ import annotations

import enum

__all__ = ["Role"]


class Role(enum.Enum):
    PRODUCER = "producer"  # signs the C2PA manifest of each file it renders or attaches to
    PROVIDER = "provider"  # signs the training-data disclosure of a model
    LICENSOR = "licensor"  # signs written rights grants
    # An RFC 3161 time-stamp authority: countersigns *when* another signature existed, never
    # what it says. Trusted through a store of its own, like the others; provsdk never holds
    # its key, so it is not one of the roles ``keys init`` makes credentials for.
    TIMESTAMP = "timestamp"

    @classmethod
    def signing(cls) -> tuple[Role, ...]:
        """The roles provsdk signs as, with keys of its own."""
        return (cls.PRODUCER, cls.PROVIDER, cls.LICENSOR)

    def __str__(self) -> str:
        return self.value
