"""The results file of a catalogue run, and resuming from it.

``--results FILE.jsonl`` is a log: one record (a :class:`~provsdk.catalogue.task.Outcome`'s
record) per line, appended and flushed as each file completes. A run killed at any moment
loses at most the line it was writing; a line with no newline at the end is ignored when the
file is read, and cut off before the next run appends. The log is only ever appended to: a
file verified again gets a new line, and **the last line of a path wins**. Records of files a
run did not see (deleted, or outside the folders given this time) are kept: a run over one
folder of a catalogue must not forget the others, and a record stays true of the bytes it
names. The file facts a record carries are those it was verified with.

``--results FILE.parquet`` (extra ``provsdk[parquet]``) holds the last record of each path,
with columns to query (path, verdict, first reason, size, mtime, digest, settings) and the
whole record as JSON text. During a run it is a JSONL journal beside it
(``FILE.parquet.journal.jsonl``: the previous records, then the new ones), converted when the
run ends, atomically; a killed run leaves the journal, which the next run resumes from.

Resuming: a file whose path and size are those of its last record, verified under the same
settings (:attr:`~provsdk.catalogue.task.CatalogueSettings.fingerprint`) and with a digest
recorded, is sent with that digest; the worker hashes the file and, if the bytes are the same,
the old record stands (a changed mtime alone costs a hash, not a verification: a copy or a
restore from backup keeps the bytes). Any other file is verified. The index of a previous run
is compact: about 220 bytes per file (a hash of the path, of the size and settings, the
digest and where the record is), so a million files need about 220 MB, not the records.

Records are sealed: each line carries an HMAC-SHA256 (``seal``) under a key kept in
``PROVSDK_HOME`` (``results.key``, made on first use, readable by its owner only). A record
whose seal does not hold (forged, edited, or written by another home), or that says "pass"
beside an error or failing reasons, is shown nowhere and credited never: its file is verified
again. Anyone who can compute the settings fingerprint (it is made of public things) could
otherwise write a record that makes any file pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from provsdk.catalogue.task import CatalogueSettings, Job
from provsdk.errors import ConfigurationError, InputError
from provsdk.home import ProvsdkHome

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "JOURNAL_SUFFIX",
    "SEAL",
    "NotOurResultsError",
    "ResultsLog",
    "read_records",
    "results_key",
]

JOURNAL_SUFFIX = ".journal.jsonl"
_KINDS = {".jsonl": "jsonl", ".parquet": "parquet"}
_PARQUET_MARK = b"provsdk.results"
_PARQUET_VERSION = b"1"
_ROWS_PER_BATCH = 2048
# Per path: a hash of (size, settings), the digest (zeros: none), the record's offset, flags.
_ENTRY = struct.Struct("<8s32sQB")
_NO_DIGEST = bytes(32)
_HAS_DETAILS = 1


SEAL = "seal"
_KEY_BYTES = 32


def results_key(home: ProvsdkHome | None = None) -> bytes:
    """This home's key for sealing results records, made (owner-only) on first use."""
    path = (home or ProvsdkHome()).root / "results.key"
    try:
        try:
            return _read_key(path)
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key(path)  # another run made it first
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(_KEY_BYTES))
        return _read_key(path)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read or make the results key: {exc.strerror or exc}", path=path
        ) from None


def _read_key(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) != _KEY_BYTES:
        raise ConfigurationError(
            f"the results key is {len(data)} bytes, not {_KEY_BYTES}; remove it to make a new one",
            path=path,
        )
    return data


def _seal(record: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in record.items() if k != SEAL}
    text = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _credible(record: dict[str, Any], key: bytes | None, *, sealed_here: bool = False) -> bool:
    """Whether a record read back may stand for its file: sealed by this home's key (or just
    sealed by this process, ``sealed_here``), and not a pass that contradicts itself."""
    if key is None:
        return False
    if not sealed_here:
        seal = record.get(SEAL)
        if not isinstance(seal, str) or not hmac.compare_digest(seal, _seal(record, key)):
            return False
    return record.get("verdict") != "pass" or ("error" not in record and not record.get("reasons"))


class NotOurResultsError(InputError):
    """The results file exists but is not one provsdk wrote; it is left as it is."""

    default_hint = "name a new file, or one a previous `provsdk verify --results` wrote"


def _text_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # undecodable file names are kept exactly


def _key(path: str) -> bytes:
    return hashlib.blake2b(_text_bytes(path), digest_size=16).digest()


def _same_file(size: int, fingerprint: str) -> bytes:
    return hashlib.blake2b(_text_bytes(f"{size}\n{fingerprint}"), digest_size=8).digest()


def _is_record(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("path"), str)
        and isinstance(value.get("verdict"), str)
        and isinstance(value.get("file"), dict)
        and isinstance(value.get("settings"), str)
    )


def _lines(fh: IO[bytes], source: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each complete line's offset and record; a last line without its newline (a killed
    writer's) is not yielded. Anything that is not one of our records stops the reading."""
    offset = 0
    for number, line in enumerate(fh, 1):
        if not line.endswith(b"\n"):
            return
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not _is_record(record):
            raise NotOurResultsError(
                f"line {number} is not a provsdk verify record; not a results file of ours",
                path=source,
            )
        yield offset, record
        offset += len(line)


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every complete record of a JSONL results file, in the order written (later lines of a
    path supersede earlier ones)."""
    source = Path(path)
    with source.open("rb") as fh:
        for _, record in _lines(fh, source):
            yield record


def _pyarrow() -> tuple[ModuleType, ModuleType]:
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise ConfigurationError(
            "Parquet results need pyarrow: pip install 'provsdk[parquet]' (or name a .jsonl file)"
        ) from None
    return pyarrow, pyarrow.parquet


class ResultsLog:
    """One run's results file: the previous records indexed for resuming, new ones appended.

    Use :meth:`open`, then :meth:`job` for each file, :meth:`previous` for an unchanged one,
    :meth:`append` for each new record, and :meth:`close` at the end (``complete=False``
    after an interruption: a Parquet run then keeps its journal to resume from).
    """

    def __init__(
        self, path: Path, journal: Path, kind: str, *, resume: bool, key: bytes | None = None
    ) -> None:
        self.path = path
        self._key = key
        self.journal = journal
        self.kind = kind
        self._index: dict[bytes, bytes] = {}
        self._resume = resume
        self._reader: IO[bytes] | None = None
        self._writer: IO[bytes] | None = None
        self._end = 0

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, key: bytes | None, recheck: bool = False
    ) -> ResultsLog:
        """Check and index ``path`` (``recheck``: reuse nothing, but still append to it).

        ``key`` seals new records and is the only key old ones are believed under (see
        :func:`results_key`); without one, nothing is sealed and nothing is reused."""
        from provsdk.sign.atomic import check_destination

        target = Path(path)
        kind = _KINDS.get(target.suffix.lower())
        if kind is None:
            raise ConfigurationError("a results file ends in .jsonl or .parquet", path=target)
        journal = target
        if kind == "parquet":
            _pyarrow()
            check_destination(target)
            journal = target.with_name(target.name + JOURNAL_SUFFIX)
            if target.exists():
                _check_parquet(target)  # ours, even when a journal supersedes it
            if not journal.exists() and target.exists():
                _export_parquet(target, journal)
        check_destination(journal)
        log = cls(target, journal, kind, resume=not recheck, key=key)
        log._load()
        return log

    def _load(self) -> None:
        end = 0
        if self.journal.exists():
            with self.journal.open("rb") as fh:
                for offset, record in _lines(fh, self.journal):
                    self._remember(record, offset)
            end = _complete_length(self.journal)
        self._writer = self.journal.open("ab")
        if self._writer.tell() != end:
            self._writer.truncate(end)  # a killed writer's partial line
            self._writer.seek(end)
        self._end = end
        self._reader = self.journal.open("rb")

    def _remember(self, record: dict[str, Any], offset: int, *, sealed_here: bool = False) -> None:
        """Index ``record``; ``sealed_here`` when this process just sealed it (its seal needs
        no second check: this run's own verdict, under this run's key)."""
        facts = record["file"]
        digest = facts.get("sha256")
        try:
            raw = bytes.fromhex(digest) if isinstance(digest, str) and len(digest) == 64 else b""
        except ValueError:
            raw = b""
        if not _credible(record, self._key, sealed_here=sealed_here):
            raw = b""  # kept in the log, never credited: its file is verified again
        flags = _HAS_DETAILS if "chain" in record else 0
        size = facts.get("size")
        self._index[_key(record["path"])] = _ENTRY.pack(
            _same_file(size if isinstance(size, int) else -1, record["settings"]),
            raw or _NO_DIGEST,
            offset,
            flags,
        )

    def job(self, path: str | os.PathLike[str], settings: CatalogueSettings) -> Job:
        """The job for ``path``: with the digest of its last record when that record may
        stand (same path, size and settings), else a plain one."""
        name = str(path)
        entry = self._index.get(_key(name)) if self._resume else None
        if entry is None:
            return Job(name)
        same, digest, _, flags = _ENTRY.unpack(entry)
        try:
            size = Path(name).stat().st_size
        except OSError:
            return Job(name)
        if (
            same != _same_file(size, settings.fingerprint)
            or digest == _NO_DIGEST
            or (settings.details and not flags & _HAS_DETAILS)
        ):
            return Job(name)
        return Job(name, prior_sha256=digest.hex())

    def previous(self, path: str) -> dict[str, Any]:
        """The last record of ``path`` (for a file found unchanged)."""
        assert self._reader is not None
        _, _, offset, _ = _ENTRY.unpack(self._index[_key(path)])
        self._reader.seek(offset)
        record: dict[str, Any] = json.loads(self._reader.readline())
        return record

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line and flush it: once this returns, a killed run keeps it."""
        assert self._writer is not None
        if self._key is not None:
            record = {**record, SEAL: _seal(record, self._key)}
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        self._writer.write(line)
        self._writer.flush()
        self._remember(record, self._end, sealed_here=self._key is not None)
        self._end += len(line)

    def close(self, *, complete: bool = True) -> None:
        """Close the files; a complete Parquet run is converted and its journal removed."""
        for fh in (self._writer, self._reader):
            if fh is not None:
                fh.close()
        self._writer = self._reader = None
        if self.kind == "parquet" and complete:
            _write_parquet(self.journal, self.path, self._index)
            self.journal.unlink(missing_ok=True)

    def __enter__(self) -> ResultsLog:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.close(complete=kind is None)


def _complete_length(path: Path) -> int:
    """The length of ``path`` up to and including its last newline."""
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        position = size
        while position > 0:
            step = min(1 << 16, position)
            fh.seek(position - step)
            chunk = fh.read(step)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                return position - step + newline + 1
            position -= step
    return 0


def _check_parquet(path: Path) -> None:
    _, pq = _pyarrow()
    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # pyarrow raises its own error classes for a file that is not Parquet
        metadata = {}
    if metadata.get(_PARQUET_MARK) != _PARQUET_VERSION:
        raise NotOurResultsError(
            "not a Parquet results file of ours (no provsdk.results marker)", path=path
        )


def _export_parquet(source: Path, journal: Path) -> None:
    """The records of a previous Parquet results file as a journal, whole or not at all."""
    from provsdk.sign.atomic import atomic_output

    _, pq = _pyarrow()
    with atomic_output(journal) as tmp, tmp.open("wb") as out:
        for batch in pq.ParquetFile(source).iter_batches(columns=["record"]):
            for text in batch.column(0).to_pylist():
                out.write(text.encode() + b"\n")


def _row(record: dict[str, Any], text: str) -> dict[str, Any]:
    facts = record["file"]
    reasons = record.get("reasons") or []
    return {
        "path": record["path"],
        "verdict": record["verdict"],
        "reason": str(reasons[0]) if reasons else None,
        "size": facts.get("size"),
        "mtime_ns": facts.get("mtime_ns"),
        "sha256": facts.get("sha256"),
        "settings": record["settings"],
        "record": text,
    }


def _write_parquet(journal: Path, target: Path, index: dict[bytes, bytes]) -> None:
    """The last record of each path in ``journal`` as ``target``, atomically, in batches."""
    from provsdk.sign.atomic import atomic_output

    pa, pq = _pyarrow()
    schema = pa.schema(
        [
            ("path", pa.string()),
            ("verdict", pa.string()),
            ("reason", pa.string()),
            ("size", pa.int64()),
            ("mtime_ns", pa.int64()),
            ("sha256", pa.string()),
            ("settings", pa.string()),
            ("record", pa.string()),
        ],
        metadata={_PARQUET_MARK: _PARQUET_VERSION},
    )
    with (
        atomic_output(target) as tmp,
        pq.ParquetWriter(tmp, schema) as writer,
        journal.open("rb") as fh,
    ):
        rows: list[dict[str, Any]] = []
        for offset, record in _lines(fh, journal):
            if _ENTRY.unpack(index[_key(record["path"])])[2] != offset:
                continue  # superseded by a later line of the same path
            text = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
            rows.append(_row(record, text))
            if len(rows) >= _ROWS_PER_BATCH:
                writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
