"""The three signing roles. Each signs one kind of thing and is trusted through its own store."""

from __future__ import annotations

import enum

__all__ = ["Role"]


class Role(enum.Enum):
    PRODUCER = "producer"  # signs the C2PA manifest of each file it renders or attaches to
    PROVIDER = "provider"  # signs the training-data disclosure of a model
    LICENSOR = "licensor"  # signs written rights grants

    def __str__(self) -> str:
        return self.value
