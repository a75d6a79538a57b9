"""The one shape of a finding: a stable code and a sentence. Imports nothing of provsdk, so
every check, however low in the tree, can return it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reason"]


@dataclass(frozen=True)
class Reason:
    """Why a check failed or what a reader should know: a stable ``code`` and a sentence."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def within(self, prefix: str) -> Reason:
        """The same finding, its code placed under ``prefix`` (``grant.`` + ``chain.expired``)."""
        return Reason(f"{prefix}.{self.code}", self.message)
