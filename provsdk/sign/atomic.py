"""Write-then-rename: an output appears whole or not at all, and an input is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from provsdk.errors import OutputError

__all__ = ["TEMP_SUFFIX", "atomic_output", "remove_stale_temporaries"]

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but is not ours to signal
    return True


def remove_stale_temporaries(dest: Path) -> list[Path]:
    """Remove the temporary files a killed writer of ``dest`` left behind.

    A process killed outright (SIGKILL, power loss) cannot clean up. Its temporary file carries
    its process id; when that process is gone, the file can only be garbage. Files of live
    writers are left alone.
    """
    removed = []
    for path in dest.parent.glob(f".{glob.escape(dest.name)}.*{TEMP_SUFFIX}"):
        pid = path.name[len(dest.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    The temporary file lives in the destination folder so the final rename is atomic (same
    filesystem). On any failure, including KeyboardInterrupt, it is removed; what a killed
    writer of the same destination left behind is removed first.
    """
    folder = dest.parent
    if not folder.is_dir():
        raise OutputError("the output folder does not exist", path=folder)
    remove_stale_temporaries(dest)
    try:
        prefix = f".{dest.name}.{os.getpid()}."
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
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
