"""The one function every engine runs per file, and the settings that travel with it.

A catalogue run verifies many files in other processes (a local pool, Ray workers), so what a
worker needs must cross a process boundary: :class:`CatalogueSettings` carries the trust
stores as PEM text (certificate objects do not pickle), the policy, and the instant every file
of the run is judged at, so a file gets the same record whichever engine, worker or order
verified it. :func:`verify_task` is that per-file step; it returns a JSON-able record (the
``verify --json`` entry, plus what a resumed run and a report need) and, when asked, the text
a terminal shows, rendered where the work is done so one process does not print for all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from provsdk._version import __version__
from provsdk.credentials.roles import Role
from provsdk.credentials.trust import TrustConfig, TrustStore
from provsdk.errors import InputError, UnsupportedFormatError
from provsdk.verify.policy import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from provsdk.models.report import VerificationReport
    from provsdk.repository import Repository
    from provsdk.verify.read import FileEvidence

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAIL",
    "EXIT_PASS",
    "CatalogueSettings",
    "Job",
    "Outcome",
    "Renderer",
    "error_record",
    "file_digest",
    "private_folder",
    "verify_task",
]

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
_CHUNK = 1 << 20

# Turns one report into the text a terminal shows. Must pickle (a module-level function, or a
# functools.partial of one) to reach a worker process.
Renderer = Callable[["VerificationReport"], str]


@dataclass(frozen=True)
class _PortableStore:
    role: str
    pem: str
    source: str | None

    @classmethod
    def of(cls, store: TrustStore) -> _PortableStore:
        return cls(store.role.value, store.pem(), str(store.source) if store.source else None)

    def store(self) -> TrustStore:
        from provsdk.credentials.pem import load_chain

        role = Role(self.role)
        source = Path(self.source) if self.source else None
        empty = TrustStore(role, source=source)
        if not self.pem:
            return empty
        return empty.adding(load_chain(self.pem.encode(), f"{self.role} trust store"))


@dataclass(frozen=True)
class CatalogueSettings:
    """What every worker of one run verifies with. Build it with :meth:`of`.

    ``checked_at`` is the instant the run judges every file at (an explicit ``--at``, or the
    run's start); ``at_given`` says which, because only an explicit date is part of the
    :attr:`fingerprint` (a resumed run keeps verdicts judged at their first check unless told
    to recheck or given a date). ``details`` asks each record for what the HTML report shows
    (the provenance tree, a waveform); ``digest`` for the content SHA-256 a resumed run
    compares.
    """

    stores: tuple[_PortableStore, ...]
    policy: Policy
    checked_at: dt.datetime
    at_given: bool = False
    repository: str | None = None
    details: bool = False
    digest: bool = False
    _trust: list[TrustConfig] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        trust: TrustConfig,
        policy: Policy = DEFAULT_POLICY,
        *,
        at: dt.datetime | None = None,
        repository: str | None = None,
        details: bool = False,
        digest: bool = False,
    ) -> CatalogueSettings:
        stores = tuple(_PortableStore.of(trust.for_role(role)) for role in Role)
        if repository and "://" not in repository:
            # A relative path names another file from another folder (or on a Ray worker).
            repository = str(Path(repository).resolve())
        return cls(
            stores=stores,
            policy=policy,
            checked_at=at or dt.datetime.now(dt.UTC),
            at_given=at is not None,
            repository=repository,
            details=details,
            digest=digest,
        )

    def trust(self) -> TrustConfig:
        """The trust stores, rebuilt once per process from their PEM text."""
        if not self._trust:
            by_role = {Role(s.role): s.store() for s in self.stores}
            self._trust.append(
                TrustConfig(
                    producer=by_role[Role.PRODUCER],
                    provider=by_role[Role.PROVIDER],
                    licensor=by_role[Role.LICENSOR],
                    timestamp=by_role[Role.TIMESTAMP],
                )
            )
        return self._trust[0]

    @functools.cached_property
    def fingerprint(self) -> str:
        """Names what a verdict depends on besides the file: provsdk's version, every trust
        store, the policy, the repository and an explicit date. Records made under another
        fingerprint are not reused by a resumed run."""
        h = hashlib.sha256()
        parts = [__version__, _canonical(self.policy), self.repository or ""]
        parts += [f"{s.role}\n{s.pem}" for s in self.stores]
        parts.append(self.checked_at.isoformat() if self.at_given else "")
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "big") + data)
        return h.hexdigest()[:32]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_trust"] = []  # rebuilt in the worker; certificate objects do not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _canonical(value: Any) -> str:
    """``value`` as text that is the same in every process: a policy's sets (training bases,
    licensors) are frozensets, whose ``repr`` order follows the process's hash seed."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            fields = {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
            return [type(v).__qualname__, fields]
        if isinstance(v, enum.Enum):
            return [type(v).__qualname__, plain(v.value)]
        if isinstance(v, set | frozenset):
            return ["set", sorted(json.dumps(plain(x), sort_keys=True) for x in v)]
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if v is None or isinstance(v, str | int | float | bool):
            return v
        return repr(v)

    return json.dumps(plain(value), sort_keys=True, ensure_ascii=True)


@dataclass(frozen=True)
class Outcome:
    """What became of one file.

    ``record`` is None only when ``unchanged``: the file's digest matched the one a previous
    run recorded, so that run's record (and its exit status) stands, and ``exit`` means
    nothing. Otherwise ``exit`` is the file's exit status (0 pass, 1 fail, 2 unreadable), and
    ``text`` what the renderer made of the report, if one was given.
    """

    path: str
    record: dict[str, Any] | None
    exit: int
    text: str | None = None
    unchanged: bool = False


@dataclass(frozen=True)
class Job:
    """One file for an engine: where it is (a local path, or for Ray any URI pyarrow reads),
    on a resumed run the digest its previous record was made from, and the sidecar manifest
    a user named for it (``verify FILE --manifest PATH``; by default the one beside it)."""

    path: str
    prior_sha256: str | None = None
    sidecar: str | None = None


def file_digest(path: str | Path, sidecar: str | Path | None = None) -> str:
    """SHA-256 of what verifying ``path`` reads: the file's bytes, then those of its sidecar
    manifest (``sidecar``, else a ``.c2pa`` beside it) when there is one, so that a resumed run
    verifies again a file whose sidecar changed. Read in chunks: memory stays flat."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    beside = _sidecar_bytes(Path(path), sidecar)
    if beside is not None:
        h.update(beside)
    return h.hexdigest()


def _sidecar_bytes(path: Path, sidecar: str | Path | None) -> bytes | None:
    """The sidecar store verifying ``path`` would read, if any (bounded, regular files only).
    Read whatever the format: only the reader knows the format, and a stray ``.c2pa`` beside
    a WAV costs a re-verification at most."""
    from provsdk.sidecar import read_sidecar, sidecar_for

    if sidecar is not None:
        return read_sidecar(Path(sidecar), named=True)
    return read_sidecar(sidecar_for(path))


def error_record(path: str, exc: InputError, *, code: str | None = None) -> dict[str, Any]:
    """The record of a file that could not be verified at all (not audio, unreadable, its
    worker died): its reason's ``code`` is ``input.unsupported`` or ``input.unreadable`` unless
    given. The one-line ``error`` names the file as ``path`` does (a URI stays a URI, a local
    copy of a remote object is not named)."""
    if code is None:
        unsupported = isinstance(exc, UnsupportedFormatError)
        code = "input.unsupported" if unsupported else "input.unreadable"
    message = " ".join(exc.message.split())
    return {
        "path": path,
        "verdict": "fail",
        "c2pa": {"state": "Absent"},
        "reasons": [f"{code}: {exc.message}"],
        "error": f"{' '.join(path.splitlines())}: {message}",
    }


def _file_facts(path: Path) -> dict[str, Any]:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        # Checked before anything reads it: hashing a device (/dev/zero) would never end.
        raise InputError("not a regular file: devices, FIFOs and sockets are never read")
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A folder only this user can enter (mode 0700), removed with all it holds: where a
    file's private copy and its sidecar's are written, so no other user can read them, plant a
    sidecar beside them or have a file of theirs removed in their place."""
    folder = Path(tempfile.mkdtemp(prefix="provsdk-verify-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _private_copy(path: Path, sidecar: str | None) -> Iterator[tuple[Path, str]]:
    """A copy of ``path`` only this process writes, and the SHA-256 of its bytes (then of its
    sidecar's, see :func:`file_digest`), made in one read. Verifying the copy means the digest
    a record carries is of the bytes that were verified: a file rewritten between the hash and
    the verification cannot lend its PASS to bytes nobody verified. A sidecar is copied beside
    the copy, where the reader looks for it, so the copy is read as the file would be."""
    from provsdk.sidecar import sidecar_for

    h = hashlib.sha256()
    with private_folder() as folder:
        copy = folder / f"file{path.suffix}"
        with path.open("rb") as src, _exclusive(copy) as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
        store = _sidecar_bytes(path, sidecar)
        if store is not None:
            h.update(store)
            with _exclusive(sidecar_for(copy)) as out:
                out.write(store)
        yield copy, h.hexdigest()


def _exclusive(path: Path) -> IO[bytes]:
    """A new file at ``path`` for writing, readable by this user only; never an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    return os.fdopen(fd, "wb")


def _details(evidence: FileEvidence) -> dict[str, Any]:
    from provsdk.audio.waveform import waveform_peaks
    from provsdk.verify.provenance import provenance_tree

    out: dict[str, Any] = {"chain": provenance_tree(evidence.store)}
    try:
        out["waveform"] = waveform_peaks(evidence.path, evidence.audio)
    except InputError as exc:
        out["waveform"] = None
        out["waveform_error"] = exc.message
    return out


def verify_task(
    path: str | os.PathLike[str],
    settings: CatalogueSettings,
    *,
    name: str | None = None,
    prior_sha256: str | None = None,
    render: Renderer | None = None,
    repository: Repository | None = None,
    copied: bool = False,
    sidecar: str | None = None,
) -> Outcome:
    """Verify one local file with ``settings``; never raises for a bad file.

    ``name`` is what the record calls the file (a URI, when ``path`` is a local copy of a
    remote object). With ``prior_sha256``, the file is hashed first and, when its bytes are
    the ones a previous run verified, not verified again (``Outcome.unchanged``).
    ``repository`` is an open repository to use instead of opening ``settings.repository``.

    When a digest is wanted (``settings.digest`` or ``prior_sha256``), what is verified is a
    private copy made while hashing, so the digest is of the verified bytes; ``copied`` says
    ``path`` already is such a copy (a remote object fetched for this call). ``sidecar`` is
    the manifest store a user named for a format that keeps one beside the file.
    """
    p = Path(path)
    shown_as = name if name is not None else str(path)
    try:
        facts = _file_facts(p)
    except OSError as exc:
        error = InputError(f"cannot read the file: {exc.strerror or exc}", path=shown_as)
        return Outcome(shown_as, error_record(shown_as, error), EXIT_ERROR)
    except InputError as exc:
        return Outcome(shown_as, error_record(shown_as, exc), EXIT_ERROR)
    if not (settings.digest or prior_sha256 is not None):
        return _verified(p, shown_as, facts, settings, render, repository, sidecar)
    try:
        if copied:
            facts["sha256"] = file_digest(p, sidecar)
            if facts["sha256"] == prior_sha256:
                return Outcome(shown_as, None, EXIT_PASS, unchanged=True)
            return _verified(p, shown_as, facts, settings, render, repository, sidecar)
        with _private_copy(p, sidecar) as (copy, digest):
            if digest == prior_sha256:
                return Outcome(shown_as, None, EXIT_PASS, unchanged=True)
            facts["sha256"] = digest
            # The sidecar was copied beside the copy: it is read from there, not named.
            return _verified(copy, shown_as, facts, settings, render, repository, None)
    except OSError as exc:
        error = InputError(f"cannot read the file: {exc.strerror or exc}", path=shown_as)
        return Outcome(shown_as, error_record(shown_as, error), EXIT_ERROR)
    except InputError as exc:  # its sidecar: a FIFO, a folder, too large
        return Outcome(shown_as, error_record(shown_as, exc), EXIT_ERROR)


def _verified(
    p: Path,
    shown_as: str,
    facts: dict[str, Any],
    settings: CatalogueSettings,
    render: Renderer | None,
    repository: Repository | None,
    sidecar: str | None,
) -> Outcome:
    from provsdk.verify.verifier import verify_evidence

    try:
        evidence, report = verify_evidence(
            p,
            trust=settings.trust(),
            policy=settings.policy,
            at=settings.checked_at,
            repository=repository if repository is not None else settings.repository,
            manifest=sidecar,
        )
    except InputError as exc:
        record = error_record(shown_as, exc)
        record.update(file=facts, settings=settings.fingerprint)
        return Outcome(shown_as, record, EXIT_ERROR)
    if report.path != shown_as:
        report = replace(report, path=shown_as)
    record = report.to_dict()
    record.update(file=facts, settings=settings.fingerprint)
    if settings.details:
        record.update(_details(evidence))
    text = render(report) if render is not None else None
    return Outcome(shown_as, record, EXIT_PASS if report.passed else EXIT_FAIL, text)
