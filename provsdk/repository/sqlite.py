"""The embedded repository: one SQLite file (WAL), no server.

Tables: ``entries`` (one per published manifest: label, the store's SHA-256, the Audio-Code and
its four bands, the fingerprint), ``stores`` (the store bytes, apart so that index lookups never
page through them), ``excerpt`` (the sampled sub-fingerprint keys, see
:mod:`provsdk.repository.index`) and ``meta``. ``PRAGMA user_version`` is the schema version.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provsdk.errors import ConfigurationError, InputError
from provsdk.repository import Match
from provsdk.repository.index import (
    BANDS,
    CODE_CANDIDATES,
    CODE_RADIUS,
    MAX_POSTINGS,
    bands,
    from_signed,
    query_keys,
    sampled_keys,
    to_signed,
    vote,
)
from provsdk.repository.limits import LabelTaken, check_fingerprint, check_label, check_store
from provsdk.softbinding.audio_code import ALG, AudioCode, audio_code, code_from_iscc, hamming
from provsdk.softbinding.compare import MIN_OVERLAP, align
from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint

__all__ = ["SCHEMA_VERSION", "Entry", "RepositoryStats", "SqliteRepository"]

SCHEMA_VERSION = 1
_APPLICATION = "provsdk manifest repository"
_INIT_HINT = "make one with `provsdk repo init PATH`"
# An ISCC Audio-Code is under 30 characters; anything much longer is not one.
_MAX_VALUE_CHARS = 256
_MAX_BINDING_MATCHES = 100
_CACHE_KIB = 64 * 1024

_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE entries ("
    " id INTEGER PRIMARY KEY,"
    " label TEXT NOT NULL UNIQUE,"
    " store_sha256 BLOB NOT NULL,"
    " store_size INTEGER NOT NULL,"
    " iscc TEXT NOT NULL,"
    " code INTEGER NOT NULL,"
    + "".join(f" band{i} INTEGER NOT NULL," for i in range(BANDS))
    + " fingerprint BLOB NOT NULL,"
    " published REAL NOT NULL)",
    # Covering: a band lookup reads the code from the index, never the row.
    *(f"CREATE INDEX entries_band{i} ON entries (band{i}, code)" for i in range(BANDS)),
    "CREATE TABLE stores (entry INTEGER PRIMARY KEY REFERENCES entries (id), store BLOB NOT NULL)",
    "CREATE TABLE excerpt ("
    " key INTEGER NOT NULL, entry INTEGER NOT NULL, position INTEGER NOT NULL,"
    " PRIMARY KEY (key, entry, position)) WITHOUT ROWID",
]


# Built from constants only (no value is ever spliced in), hence the noqa.
_INSERT_ENTRY = (
    "INSERT INTO entries (label, store_sha256, store_size, iscc, code, "  # noqa: S608
    + "".join(f"band{i}, " for i in range(BANDS))
    + "fingerprint, published) VALUES (?, ?, ?, ?, ?, "
    + "?, " * BANDS
    + "?, ?)"
)
_BAND_LOOKUP = [
    f"SELECT id, code FROM entries INDEXED BY entries_band{i} WHERE band{i} = ?"  # noqa: S608
    for i in range(BANDS)
]


@dataclass(frozen=True)
class Entry:
    """One manifest to publish."""

    store: bytes
    manifest: str
    code: AudioCode
    fingerprint: Fingerprint


@dataclass(frozen=True)
class RepositoryStats:
    entries: int
    size: int  # bytes on disk, the WAL included
    schema_version: int


class SqliteRepository:
    """A repository in one SQLite file. Thread-safe: calls are serialised on one connection."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path).expanduser()
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise ConfigurationError(
                f"the repository {self.path} {what}", path=None, hint=_INIT_HINT
            )
        self._lock = threading.Lock()
        self._db = self._connect(create)

    # -- opening ----------------------------------------------------------------------------

    def _connect(self, create: bool) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        try:
            db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # transactions are explicit
                timeout=10.0,
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open the repository {self.path}: {exc}") from exc
        try:
            self._prepare(db, create)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ConfigurationError(
                f"{self.path} is not a usable provsdk repository ({exc})", hint=_INIT_HINT
            ) from exc
        except BaseException:
            db.close()
            raise
        return db

    def _prepare(self, db: sqlite3.Connection, create: bool) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # The indexes' upper levels stay in memory: a lookup at a million entries then costs
        # a few page reads, and bulk publishing does not re-read the pages it just wrote.
        db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables and create:
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('application', ?)", (_APPLICATION,))
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
            return
        application = None
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key='application'").fetchone()
            application = row[0] if row else None
        if application != _APPLICATION:
            raise ConfigurationError(
                f"{self.path} is an SQLite database, but not a provsdk repository",
                hint=_INIT_HINT + " (at another path)",
            )
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"the repository {self.path} has schema version {version}, newer than this "
                f"provsdk reads ({SCHEMA_VERSION})",
                hint="upgrade provsdk",
            )
        if version != SCHEMA_VERSION:
            raise ConfigurationError(
                f"the repository {self.path} has an unknown schema version {version}"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteRepository({str(self.path)!r})"

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.DatabaseError as exc:
                raise ConfigurationError(
                    f"the repository {self.path} cannot be read: {exc}"
                ) from exc

    # -- publishing ---------------------------------------------------------------------------

    def publish(
        self, store: bytes, manifest: str, code: AudioCode, fingerprint: Fingerprint
    ) -> None:
        self.publish_many([Entry(store, manifest, code, fingerprint)])

    def publish_many(self, entries: Iterable[Entry]) -> int:
        """Publish each entry, in one transaction; returns how many were new.

        All or nothing: one refused entry (a bad store, a label taken by another store) leaves
        the repository as it was.
        """
        checked = [self._checked(e) for e in entries]
        added = 0
        with self._reading() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for entry, digest in checked:
                    added += self._insert(db, entry, digest)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return added

    @staticmethod
    def _checked(entry: Entry) -> tuple[Entry, bytes]:
        check_label(entry.manifest)
        check_store(entry.store, entry.manifest)
        check_fingerprint(entry.fingerprint)
        if not 0 <= entry.code.bits < 1 << 64:
            raise InputError("the Audio-Code is not a 64-bit value")
        return entry, hashlib.sha256(entry.store).digest()

    def _insert(self, db: sqlite3.Connection, entry: Entry, digest: bytes) -> int:
        row = db.execute(
            "SELECT store_sha256 FROM entries WHERE label = ?", (entry.manifest,)
        ).fetchone()
        if row is not None:
            if bytes(row[0]) == digest:
                return 0  # the same store again: publishing is idempotent
            raise LabelTaken(
                f"the repository already holds another manifest store under the label "
                f"{entry.manifest!a}: a label names one store, so it is not replaced",
                hint="a changed file has a new manifest (and label); publish that one",
            )
        cursor = db.execute(
            _INSERT_ENTRY,
            (
                entry.manifest,
                digest,
                len(entry.store),
                entry.code.iscc,
                to_signed(entry.code.bits),
                *bands(entry.code.bits),
                entry.fingerprint.to_bytes(),
                time.time(),
            ),
        )
        ident = cursor.lastrowid
        db.execute("INSERT INTO stores VALUES (?, ?)", (ident, entry.store))
        db.executemany(
            "INSERT OR IGNORE INTO excerpt VALUES (?, ?, ?)",
            ((key, ident, position) for key, position in sampled_keys(entry.fingerprint.values)),
        )
        return 1

    # -- looking up ---------------------------------------------------------------------------

    def matches_by_binding(self, alg: str, value: str) -> list[Match]:
        if alg != ALG or not isinstance(value, str) or len(value) > _MAX_VALUE_CHARS:
            return []
        code = _binding_code(value)
        if code is None:
            return []
        with self._reading() as db:
            rows = db.execute(
                "SELECT label FROM entries INDEXED BY entries_band0 WHERE band0 = ? AND code = ? "
                "ORDER BY id LIMIT ?",
                (bands(code)[0], to_signed(code), _MAX_BINDING_MATCHES),
            ).fetchall()
        return [Match(manifest=r[0], score=1.0) for r in rows]

    def matches_by_content(self, fingerprint: Fingerprint, *, limit: int = 5) -> list[Match]:
        check_fingerprint(fingerprint)
        if len(fingerprint.values) < MIN_OVERLAP:
            return []  # too short to align with anything: nothing could be confirmed
        code = audio_code(fingerprint).bits
        positions = query_keys(fingerprint.values)
        with self._reading() as db:
            candidates = self._near_codes(db, code)
            postings = self._postings(db, positions)
            for entry in vote(positions, postings):
                if entry not in candidates:
                    candidates.append(entry)
            references = self._fingerprints(db, candidates)
        ranked = []
        for entry, label, reference in references:
            aligned = align(fingerprint, reference)
            if aligned.is_match:
                offset = aligned.offset * ITEM_SECONDS
                match = Match(manifest=label, score=aligned.score, offset_seconds=offset)
                ranked.append((-aligned.score, entry, match))
        # Equal scores (copies of one sound) rank in the order they were published, never by
        # a label a publisher chooses: a later copy cannot push the first registration down.
        ranked.sort(key=lambda r: r[:2])
        return [match for _, _, match in ranked[: max(0, limit)]]

    @staticmethod
    def _near_codes(db: sqlite3.Connection, code: int) -> list[int]:
        near: dict[int, int] = {}
        for band, value in enumerate(bands(code)):
            for entry, stored in db.execute(_BAND_LOOKUP[band], (value,)):
                distance = hamming(code, from_signed(stored))
                if distance <= CODE_RADIUS:
                    near[entry] = distance
        return sorted(near, key=lambda e: (near[e], e))[:CODE_CANDIDATES]

    @staticmethod
    def _postings(
        db: sqlite3.Connection, positions: dict[int, list[int]]
    ) -> list[tuple[int, int, int]]:
        found: list[tuple[int, int, int]] = []
        for key in positions:
            rows = db.execute(
                "SELECT entry, position FROM excerpt WHERE key = ? LIMIT ?",
                (key, MAX_POSTINGS + 1),
            ).fetchall()
            if len(rows) <= MAX_POSTINGS:
                found.extend((key, entry, position) for entry, position in rows)
        return found

    @staticmethod
    def _fingerprints(
        db: sqlite3.Connection, entries: list[int]
    ) -> list[tuple[int, str, Fingerprint]]:
        found = []
        for entry in entries:
            row = db.execute(
                "SELECT label, fingerprint FROM entries WHERE id = ?", (entry,)
            ).fetchone()
            if row is None or not isinstance(row[1], bytes):
                continue
            try:
                found.append((entry, str(row[0]), Fingerprint.from_bytes(row[1])))
            except ValueError:
                continue  # a row damaged on disk is no candidate; it does not stop the lookup
        return found

    def manifest_store(self, manifest: str) -> bytes | None:
        with self._reading() as db:
            row = db.execute(
                "SELECT stores.store FROM entries JOIN stores ON stores.entry = entries.id "
                "WHERE entries.label = ?",
                (manifest,),
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def stats(self) -> RepositoryStats:
        with self._reading() as db:
            count = db.execute("SELECT count(*) FROM entries").fetchone()[0]
        size = sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )
        return RepositoryStats(entries=count, size=size, schema_version=SCHEMA_VERSION)


def _binding_code(value: str) -> int | None:
    """The code a soft-binding value names: the ISCC as text (as the assertion carries it), or
    that text base64-encoded (the API's description of a value); None for anything else."""
    try:
        return code_from_iscc(value).bits
    except ValueError:
        pass
    try:
        text = base64.b64decode(value, validate=True).decode("ascii")
        return code_from_iscc(text).bits
    except (binascii.Error, ValueError):
        return None
