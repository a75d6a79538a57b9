"""Generations: the job table, idempotency keys, and the worker pool that renders and grants.

Routes run on the event loop and workers in threads; every read or change of a job, of what
each API key is charged for it (:class:`~provsdk.server.quota.Ledger`) and of the folder its
audio is kept in (:class:`~provsdk.server.storage.Storage`) happens under one lock, and routes
only ever see copies.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import hashlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from provsdk.audio.codec import encode
from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.credentials import Role, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.disclosure.statement import no_training_data, sign_disclosure
from provsdk.errors import OutputError, TimestampError
from provsdk.grants.create import create_grant
from provsdk.grants.statement import sign_grant
from provsdk.home import ProvsdkHome
from provsdk.jws import timestamp_statement
from provsdk.providers.local import GENERATOR_NAME, GENERATOR_VERSION, render_track
from provsdk.server.config import KEEP_SECONDS, ServerConfig, provider_name_of
from provsdk.server.errors import ApiError
from provsdk.server.quota import Ledger
from provsdk.server.schemas import GenerationRequest
from provsdk.server.storage import AudioGone, Identity, Storage, file_identity, open_stored

__all__ = [
    "KEEP_SECONDS",
    "MODEL_ID",
    "Credentials",
    "Generations",
    "Job",
    "StoredAudio",
    "load_credentials",
]

log = logging.getLogger("provsdk.server")

MODEL_ID = "provsdk-local-1"
SAMPLE_RATE = 44100
_UNFINISHED = ("queued", "running")
# The reference server's stand-in for moderation: predictable, so clients can test the path.
_MODERATED = re.compile(r"\bforbidden\b", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    provider: KeySigner
    licensor: KeySigner


def load_credentials(home: ProvsdkHome) -> Credentials:
    """The provider key (signs the disclosure) and the licensor key (signs grants)."""
    return Credentials(
        provider=load_signer(Role.PROVIDER, home=home, use_env=False),
        licensor=load_signer(Role.LICENSOR, home=home, use_env=False),
    )


@dataclass
class Job:
    id: str
    owner: str
    request: GenerationRequest
    seed: int
    created_at: str
    created: float  # monotonic seconds, for expiry
    status: str = "queued"
    finish_reason: str | None = None
    error: tuple[str, str] | None = None  # (code, message)
    path: Path | None = None
    file: Identity | None = None  # what ``path`` led to when the audio was written
    audio_gone: bool = False  # the file was removed from under the server
    size: int | None = None
    sha256: str | None = None
    grant: str | None = None

    @property
    def content_type(self) -> str:
        return format_for_name(self.request.format).mime_type


def _fingerprint(request: GenerationRequest) -> str:
    # The parsed request, not the raw bytes: spacing or key order must not make a retry a 409.
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _StorageUnavailable(Exception):
    """No generation can be written now; the message is the reason a client may be told (an
    OS error's text, never a path of the server's)."""


class _FolderVanished(_StorageUnavailable):
    def __init__(self) -> None:
        super().__init__("its storage folder vanished during the job")


# Errors of the disk rather than of the generation: worth telling the client so.
_DISK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EROFS", "EIO", "EFBIG")
    if hasattr(errno, name)
)


def _storage_trouble(exc: Exception) -> str | None:
    """Why ``exc`` is the storage's fault rather than the generation's, or None."""
    if isinstance(exc, _StorageUnavailable):
        return str(exc)
    cause = exc.__cause__ if isinstance(exc, OutputError) else exc
    if isinstance(cause, OSError) and cause.errno in _DISK_ERRNOS:
        return cause.strerror or type(cause).__name__
    return None


@dataclass(frozen=True)
class StoredAudio:
    """A generation's audio, open for a download."""

    file: BinaryIO
    size: int
    content_type: str
    filename: str


@dataclass(frozen=True)
class _Stored:
    path: Path
    file: Identity
    size: int
    sha256: str
    grant: str | None


def _remove(path: Path) -> None:
    # The folder may be gone, or be a file now: whatever is left is no longer ours to keep.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _gone(job_id: str) -> ApiError:
    return ApiError(
        410,
        "gone",
        f"the audio of {job_id} is no longer on the server (it was removed from its storage); "
        "delete the generation and make it again",
    )


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Generations:
    """The generations of one running server, and the pool rendering them."""

    def __init__(self, config: ServerConfig, credentials: Credentials) -> None:
        self.config = config
        self._licensor = credentials.licensor
        # Named once: the disclosure's provider and every grant's licensor are the same party.
        self.provider_name = config.provider_name or provider_name_of(credentials.provider.leaf)
        self.disclosure = sign_disclosure(
            no_training_data(self.provider_name, GENERATOR_NAME, GENERATOR_VERSION),
            credentials.provider,
        )
        self.jobs_run = 0  # jobs a worker started: tests use it to see a retry made no new job
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._keys: dict[tuple[str, str], tuple[str, str, float]] = {}
        self._ledger = Ledger(
            max_outstanding=config.max_outstanding,
            max_stored_seconds=config.max_stored_seconds,
            keep_seconds=config.keep_seconds,
            latency=config.latency,
        )
        self._stopping = threading.Event()
        self._storage = Storage(config.storage_dir)
        self._pool = ThreadPoolExecutor(config.workers, thread_name_prefix="provsdk-render")

    def submit(self, owner: str, key: str, request: GenerationRequest) -> tuple[Job, bool]:
        """The generation for ``key``: a new one (True), or the one the key already made.

        ``request.licensee`` is whom the grant is made out to, already decided by the caller.
        A new generation must fit ``owner``'s bounds (429 otherwise); a repeat makes nothing,
        so it is answered whatever ``owner`` holds.
        """
        fingerprint = _fingerprint(request)
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            # Audio wiped from the disk is no longer held: its seconds must not refuse this.
            self._notice_vanished_storage()
            known = self._keys.get((owner, key))
            if known is not None:
                if known[0] != fingerprint:
                    raise ApiError(
                        409,
                        "idempotency_conflict",
                        "this Idempotency-Key was used with a different request body",
                    )
                made = self._jobs.get(known[1])
                if made is None:
                    # The key stays spent: a new generation for it would be a second one.
                    raise ApiError(
                        404, "not_found", f"this Idempotency-Key made {known[1]}, since deleted"
                    )
                return copy.copy(made), False
            job_id = f"gen_{uuid.uuid4().hex}"
            self._ledger.reserve(owner, job_id, request.duration, now)
            job = Job(
                id=job_id,
                owner=owner,
                request=request,
                seed=request.seed if request.seed is not None else secrets.randbelow(2**31),
                created_at=_now(),
                created=now,
            )
            self._jobs[job.id] = job
            self._keys[(owner, key)] = (fingerprint, job.id, job.created)
            snapshot = copy.copy(job)
        self._pool.submit(self._run, job.id)
        return snapshot, True

    def get(self, owner: str, job_id: str) -> Job:
        """A copy of the generation; another caller's is as unknown as one never made."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != owner:
                raise ApiError(404, "not_found", f"no generation {job_id!r}")
            return copy.copy(job)

    @property
    def storage_folder(self) -> Path | None:
        """Where the next generation's audio goes (None: it vanished, a new one is due)."""
        with self._lock:
            return self._storage.folder

    def open_audio(self, owner: str, job_id: str) -> StoredAudio:
        """The generation's audio, open; 404 before it has audio, 410 if the file is gone
        (the seconds it held are then released)."""
        job = self.get(owner, job_id)
        if job.status != "succeeded" or job.path is None or job.file is None or job.size is None:
            raise ApiError(404, "not_found", f"the generation has no audio (it is {job.status})")
        if job.audio_gone:
            raise _gone(job_id)
        try:
            file = open_stored(job.path, job.file, job.size)
        except AudioGone:
            log.warning("generation %s: its audio file %s is gone", job_id, job.path)
            with self._lock:
                held = self._jobs.get(job_id)
                if held is not None:
                    self._lose_audio(held)
            raise _gone(job_id) from None
        except OSError as exc:
            log.warning("generation %s: cannot open %s: %s", job_id, job.path, exc)
            raise ApiError(
                503, "unavailable", "the server cannot read this generation's audio just now"
            ) from None
        return StoredAudio(file, job.size, job.content_type, f"{job.id}.{job.request.format}")

    def delete(self, owner: str, job_id: str) -> None:
        """Forget a finished generation and delete its audio, freeing the seconds it held."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != owner:
                raise ApiError(404, "not_found", f"no generation {job_id!r}")
            if job.status in _UNFINISHED:
                # Its worker would go on rendering for a generation nobody is charged for.
                raise ApiError(
                    409, "not_finished", f"the generation is {job.status}; delete it once it ends"
                )
            del self._jobs[job_id]
            self._ledger.release(owner, job_id)
            path = job.path
        if path is not None:
            _remove(path)

    def close(self) -> None:
        """Stop the workers (a queued job stays queued) and delete every rendered file."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._storage.close()

    def _lose_audio(self, job: Job) -> None:
        # Called under the lock. The generation stays (its grant and status are in memory),
        # but it no longer holds the seconds of audio that are not on the disk any more.
        if not job.audio_gone:
            job.audio_gone = True
            self._ledger.finished(job.owner, job.id, kept_audio=False)

    def _notice_vanished_storage(self) -> None:
        # Called under the lock.
        lost = self._storage.vanished()
        if lost is None:
            return
        log.warning(
            "the storage folder %s vanished or was replaced: the audio kept there is gone, "
            "and new generations go to a new folder",
            lost,
        )
        for job in self._jobs.values():
            if job.path is not None and job.path.parent == lost:
                self._lose_audio(job)

    def _new_file(self, name: str) -> Path:
        with self._lock:
            self._notice_vanished_storage()
            return self._storage.folder_for_new_file() / name

    def _expire(self, now: float) -> None:
        # Both tables are in creation order, so the expired entries are a prefix of each.
        keep = self.config.keep_seconds
        for job_key, (_, _, created) in list(self._keys.items()):
            if now - created < keep:
                break
            del self._keys[job_key]
        for job_id, job in list(self._jobs.items()):
            if now - job.created < keep:
                break
            del self._jobs[job_id]
            self._ledger.release(job.owner, job_id)
            if job.path is not None:
                _remove(job.path)

    def _start(self, job_id: str) -> tuple[GenerationRequest, int] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:  # expired before a worker was free
                return None
            job.status = "running"
            self.jobs_run += 1
            return job.request, job.seed

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                for name, value in changes.items():
                    setattr(job, name, value)
                if job.status not in _UNFINISHED:
                    self._ledger.finished(job.owner, job_id, kept_audio=job.path is not None)
                return
        # Expired while it ran: nobody can fetch its audio any more.
        path = changes.get("path")
        if isinstance(path, Path):
            _remove(path)

    def _run(self, job_id: str) -> None:
        started = self._start(job_id)
        if started is None:
            return
        request, seed = started
        if self.config.latency and self._stopping.wait(self.config.latency):
            self._fail(job_id, "error", "unavailable", "the server shut down during the job")
            return
        if _MODERATED.search(request.prompt):
            refused = "moderation refused the prompt"
            self._fail(job_id, "content_filtered", "content_filtered", refused)
            return
        try:
            self._render(job_id, request, seed)
        except TimestampError as exc:
            log.warning("generation %s: %s", job_id, exc)
            self._fail(job_id, "error", "unavailable", "the time-stamp authority is unavailable")
        except Exception as exc:
            trouble = _storage_trouble(exc)
            if trouble is None:
                log.exception("generation %s failed", job_id)
                self._fail(job_id, "error", "internal", "the generation failed on the server")
                return
            # The disk's trouble, not a bug: one line in the log, and a job that says so.
            log.warning("generation %s: cannot store its audio: %s", job_id, exc)
            why = f"the server could not store the audio ({trouble})"
            self._fail(job_id, "error", "unavailable", why)

    def _fail(self, job_id: str, reason: str, code: str, message: str) -> None:
        self._update(job_id, status="failed", finish_reason=reason, error=(code, message))

    def _render(self, job_id: str, request: GenerationRequest, seed: int) -> None:
        fmt = format_for_name(request.format)
        samples, _ = render_track(
            request.prompt, seed=seed, duration=request.duration, sample_rate=SAMPLE_RATE
        )
        name = f"{job_id}.{fmt.extension}"
        try:
            stored = self._store(name, samples, fmt, request.licensee)
        except _FolderVanished:
            # The folder went while we wrote: once more, in the new one made for it.
            stored = self._store(name, samples, fmt, request.licensee)
        self._update(
            job_id,
            path=stored.path,
            file=stored.file,
            size=stored.size,
            sha256=stored.sha256,
            grant=stored.grant,
            status="succeeded",
            finish_reason="success",
        )

    def _store(
        self, name: str, samples: NDArray[np.int16], fmt: AudioFormat, licensee: str | None
    ) -> _Stored:
        """Encode into the storage folder, and grant what was written."""
        try:
            path = self._new_file(name)
        except OSError as exc:
            raise _StorageUnavailable(exc.strerror or type(exc).__name__) from exc
        try:
            encode(samples, SAMPLE_RATE, fmt, path)
            file = file_identity(path)
            sha256, size = _file_digest(path)
            # The licensee is the caller's account, set when the request was accepted.
            grant = self._grant(licensee, path) if licensee else None
        except BaseException as exc:
            # A failed job is charged no storage, so it must leave no audio on the disk.
            _remove(path)
            if isinstance(exc, Exception):
                with self._lock:
                    intact = self._storage.holds(path)
                if not intact:
                    raise _FolderVanished from exc
            raise
        return _Stored(path, file, size, sha256, grant)

    def _grant(self, licensee: str, path: Path) -> str:
        offer = self.config.licence_offer
        until = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=offer.term_days)
        grant = create_grant(
            licensor=self.provider_name,
            licensee=licensee,
            purposes=offer.purposes,
            territories=offer.territories,
            until=until,
            target_file=path,
        )
        token = sign_grant(grant, self._licensor)
        return timestamp_statement(token, self.config.tsa_url) if self.config.tsa_url else token
