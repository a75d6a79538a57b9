"""Write-then-rename: an output appears whole or not at all, and an input is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from provsdk.errors import OutputError
from provsdk.small_files import kind_of

__all__ = [
    "TEMP_SUFFIX",
    "atomic_output",
    "atomic_pair",
    "check_destination",
    "remove_stale_temporaries",
]

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


def _refuse_special(dest: Path) -> None:
    """Only a regular file is ever replaced: renaming onto a device, FIFO or socket (or a
    symlink to one) would destroy what root trusted to be there, or block forever."""
    try:
        mode = dest.stat().st_mode  # follows symlinks: a link to a device is refused too
    except FileNotFoundError:
        return  # absent, or a dangling link, which the rename replaces as a link
    except OSError as exc:
        raise OutputError(f"cannot check the output: {exc.strerror or exc}", path=dest) from None
    if not stat.S_ISREG(mode):
        raise OutputError(
            f"the output exists and is {kind_of(mode)}; only a file is replaced", path=dest
        )


def _temporary(dest: Path) -> Path:
    folder = dest.parent
    if not folder.is_dir():
        raise OutputError("the output folder does not exist", path=folder)
    try:
        prefix = f".{dest.name}.{os.getpid()}."
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot create a file in this folder: {reason}", path=folder) from None
    os.close(fd)
    return Path(name)


def check_destination(dest: str | Path) -> None:
    """Raise :class:`OutputError` now, before any work, if ``dest`` could not be written.

    The same checks :func:`atomic_output` makes (the folder exists, a file can be created in
    it, the output is not a special file), so a command fails before it renders or downloads
    minutes of audio, not after. A file is really created and removed: permission bits say
    nothing to root, and a read-only mount only shows itself on write.
    """
    out = Path(dest)
    _refuse_special(out)
    _temporary(out).unlink()


def _commit(tmp: Path, dest: Path) -> None:
    """Make ``tmp`` durable with the mode ``dest`` has (or a new file's), then rename it on."""
    mode = dest.stat().st_mode & 0o777 if dest.exists() else 0o666 & ~_UMASK
    tmp.chmod(mode)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    tmp.replace(dest)


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    ``dest`` must be absent or a regular file (a symlink to one is fine): a folder, device,
    FIFO or socket is refused with :class:`OutputError` before anything is written.

    The temporary file lives in the destination folder so the final rename is atomic (same
    filesystem). On any failure, including KeyboardInterrupt, it is removed; what a killed
    writer of the same destination left behind is removed first.
    """
    with atomic_pair(dest, None) as (tmp, _):
        yield tmp


@contextlib.contextmanager
def atomic_pair(dest: Path, companion: Path | None) -> Iterator[tuple[Path, Path]]:
    """:func:`atomic_output` for a file and its ``companion`` (audio and its sidecar
    manifest), which must never be seen out of step: yields their two temporary paths.

    On success the old companion is removed first, then ``dest`` and the companion are renamed
    into place in that order. A crash between two steps leaves a file without a companion,
    which reads as a file without a manifest; never a new file beside an old manifest, nor an
    old one beside a new. With ``companion`` None only ``dest`` is written, and both paths
    yielded are its temporary.
    """
    outputs = [dest] if companion is None else [dest, companion]
    for out in outputs:
        _refuse_special(out)
        remove_stale_temporaries(out)
    temporaries: list[Path] = []
    try:
        for out in outputs:
            temporaries.append(_temporary(out))
        yield temporaries[0], temporaries[-1]
        if companion is not None:
            companion.unlink(missing_ok=True)
        for tmp, out in zip(temporaries, outputs, strict=True):
            _commit(tmp, out)
        _fsync_dir(dest.parent)
        if companion is not None and companion.parent != dest.parent:
            _fsync_dir(companion.parent)
    except OSError as exc:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write output: {exc.strerror or exc}", path=dest) from exc
    except BaseException:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)
        raise
