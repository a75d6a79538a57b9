"""Write-then-rename: an output appears whole or not at all, and an input is never touched."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from provsdk.errors import OutputError

__all__ = ["TEMP_SUFFIX", "atomic_output"]

TEMP_SUFFIX = ".provsdk-tmp"

# Read once at import: os.umask can only be read by setting it, which is not thread-safe later.
_UMASK = os.umask(0)
os.umask(_UMASK)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or filesystem allows it
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    The temporary file lives in the destination folder so the final rename is atomic (same
    filesystem). On any failure, including KeyboardInterrupt, it is removed.
    """
    folder = dest.parent
    if not folder.is_dir():
        raise OutputError("the output folder does not exist", path=folder)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot create a file here: {exc.strerror or exc}", path=dest) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        mode = dest.stat().st_mode & 0o777 if dest.exists() else 0o666 & ~_UMASK
        tmp.chmod(mode)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        tmp.replace(dest)
        _fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write output: {exc.strerror or exc}", path=dest) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
