"""One pass over the source: write the output's pieces and hash them as they go by.

Hashing runs on a second thread while the next block is read and written (hashlib and file
I/O both release the GIL), and the kernel is asked to start writing the output back to disk
as it grows, so the fsync that makes the signed file durable has little left to do. Both
keep signing close to what reading, hashing and writing the file once must cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from provsdk.errors import InputError
from provsdk.progress import SIGN, Progress
from provsdk.sign.layout import Layout

__all__ = ["copy_and_hash"]

# Big enough that system calls and hash updates cost little, small enough that memory stays
# flat: two of these are alive at once.
BLOCK = 1 << 20
# How much written output to hand to the kernel's writeback at a time.
_WRITEBACK = 64 << 20


class _Digest:
    """SHA-256 updated on a worker thread, one block behind the writer, in order."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._hash = hashlib.sha256()
        self._pool = pool
        self._pending: Future[None] | None = None

    def update(self, data: bytes | memoryview) -> None:
        self.wait()
        self._pending = self._pool.submit(self._hash.update, data)

    def wait(self) -> None:
        """Block until the last update is done (its buffer may then be reused)."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def digest(self) -> bytes:
        self.wait()
        return self._hash.digest()


class _Writeback:
    """Asks the kernel to start writing the output back as it grows (Linux; a no-op elsewhere)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._flushed = 0
        self._advise = getattr(os, "posix_fadvise", None)

    def written(self, size: int) -> None:
        if self._advise is None or size - self._flushed < _WRITEBACK:
            return
        self._out.flush()
        with contextlib.suppress(OSError):  # a hint; a filesystem may not take it
            self._advise(
                self._out.fileno(), self._flushed, size - self._flushed, os.POSIX_FADV_DONTNEED
            )
        self._flushed = size


def _blocks(src: io.BufferedReader, piece: range, source: Path) -> Iterator[memoryview]:
    """The bytes of ``piece`` of the source, in blocks that alternate between two buffers: the
    caller has finished with a block (and its hash) before the buffer comes round again."""
    buffers = (memoryview(bytearray(BLOCK)), memoryview(bytearray(BLOCK)))
    src.seek(piece.start)
    left, turn = len(piece), 0
    while left:
        view = buffers[turn]
        try:
            got = src.readinto(view[: min(left, BLOCK)])
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=source) from None
        if not got:
            raise InputError("the file shrank while it was being signed", path=source)
        yield view[:got]
        left -= got
        turn ^= 1


def copy_and_hash(
    layout: Layout,
    src: io.BufferedReader,
    out: IO[bytes],
    source: Path,
    progress: Progress | None = None,
) -> bytes:
    """Write ``layout`` to ``out``, copying its source ranges from ``src``; return the SHA-256
    of every piece but the excluded ones. ``progress`` hears (SIGN, bytes written, total)."""
    total = layout.size
    done = 0
    with ThreadPoolExecutor(1, thread_name_prefix="provsdk-hash") as pool:
        digest = _Digest(pool)
        writeback = _Writeback(out)
        for index, piece in enumerate(layout.pieces):
            hashed = index not in layout.excluded
            parts = [piece] if isinstance(piece, bytes) else _blocks(src, piece, source)
            for part in parts:
                out.write(part)
                if hashed:
                    digest.update(part)
                done += len(part)
                writeback.written(done)
                if progress is not None:
                    progress(SIGN, done, total)
        return digest.digest()
