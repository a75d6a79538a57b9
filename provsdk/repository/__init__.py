"""Manifest repositories: where a signed file's manifest store is found again from its sound.

A repository keeps, for each published manifest, the store's bytes, its ``io.iscc.v0``
Audio-Code and its Chromaprint fingerprint, and answers "which registered manifests sound like
this?". Two kinds speak the same :class:`Repository` protocol: a SQLite file
(:class:`~provsdk.repository.sqlite.SqliteRepository`, the embedded default, no server) and a
``provsdk serve`` over HTTP (:class:`~provsdk.repository.http.HttpRepository`, the C2PA
soft-binding resolution API).

A repository only finds *candidates*. Its answers are evidence that a sound was registered with
a manifest, never that the bytes in hand are that manifest's asset: whoever uses a match
verifies the recovered store's signatures as for any other store, and nothing the repository
kept (scores, labels, the store itself) is trusted for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from provsdk.home import ProvsdkHome
    from provsdk.softbinding.audio_code import AudioCode
    from provsdk.softbinding.fingerprint import Fingerprint

__all__ = [
    "Match",
    "Repository",
    "default_repository_location",
    "is_url",
    "open_repository",
]


@dataclass(frozen=True)
class Match:
    """A registered manifest whose sound matches the query.

    ``manifest`` is the active manifest label of the stored store; ``score`` is 0..1 (1: the
    fingerprints agree bit for bit where they overlap); ``offset_seconds`` is where the query
    starts within the registered track (positive for an excerpt from its middle).
    """

    manifest: str
    score: float
    offset_seconds: float = 0.0


class Repository(Protocol):
    """What every manifest repository answers. Each answer is a candidate, not a verdict."""

    def publish(
        self, store: bytes, manifest: str, code: AudioCode, fingerprint: Fingerprint
    ) -> None:
        """Register ``store`` (a C2PA manifest store whose active manifest is ``manifest``).

        Publishing the same store under the same label again does nothing; a different store
        under a label already taken is refused (``InputError``).
        """
        ...

    def matches_by_binding(self, alg: str, value: str) -> list[Match]:
        """Manifests registered with exactly this soft-binding value."""
        ...

    def matches_by_content(self, fingerprint: Fingerprint, *, limit: int = 5) -> list[Match]:
        """Manifests whose registered sound contains ``fingerprint``'s, best first."""
        ...

    def manifest_store(self, manifest: str) -> bytes | None:
        """The stored store published under ``manifest``, or None."""
        ...


def default_repository_location(home: ProvsdkHome) -> Path:
    """Where ``provsdk repo init`` makes the repository when no path is given."""
    return home.repository_path


def is_url(where: str | Path) -> bool:
    """Whether ``where`` names a served repository rather than a file."""
    return isinstance(where, str) and where.lower().startswith(("http://", "https://"))


def open_repository(
    where: str | Path, *, create: bool = False, api_key: str | None = None
) -> Repository:
    """The repository at ``where``: a SQLite file, or ``http(s)://`` a ``provsdk serve``.

    A missing file is a ``ConfigurationError`` (hint: ``provsdk repo init PATH``) unless
    ``create``. Nothing touches the network unless ``where`` is a URL.
    """
    # Imported here: `provsdk verify` without --repository pays for neither.
    if is_url(where):
        from provsdk.repository.http import HttpRepository

        return HttpRepository(str(where), api_key=api_key)
    from provsdk.repository.sqlite import SqliteRepository

    return SqliteRepository(Path(where), create=create)
