"""The folder a server renders generations into and keeps their audio in, and opening that
audio again for a download.

The folder is private (``tempfile.mkdtemp``: mode 0700, a name nobody can guess) and lives as
long as the server, so something else may delete it meanwhile: an operator tidying up, or a
temporary-file cleaner. The server must keep working then. So each folder and each file is
remembered by identity (device and inode), not by name alone:

* a folder that is gone, or is no longer the one made (its name now holds something another
  user created), is never written to again: the next generation goes to a new private folder;
* a file is served only if the name still leads to the very file rendered, opened without
  following a symbolic link, so a name taken over by someone else never serves their bytes.

No lock of its own: :class:`~provsdk.server.generations.Generations` calls the folder methods under
the lock that guards its job table.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

__all__ = ["AudioGone", "Storage", "file_identity", "open_stored"]

Identity = tuple[int, int]  # (st_dev, st_ino)

_PREFIX = "provsdk-serve-"
# Opening must not follow a link planted where our file was; Windows has no such flag (and no
# symbolic links an unprivileged user can plant).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# A name that no longer leads to our file: the file, or a folder on its way, is gone or is not
# ours (ELOOP: a symbolic link refused by O_NOFOLLOW).
_GONE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})


class AudioGone(Exception):
    """The stored file is no longer there, or its name now leads to another file."""


def _folder_identity(path: Path) -> Identity | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def file_identity(path: Path) -> Identity:
    """The identity of a file just written, to recognise it when it is served."""
    info = os.lstat(path)
    return info.st_dev, info.st_ino


def open_stored(path: Path, identity: Identity, size: int) -> BinaryIO:
    """``path`` open for reading, if it is still the file of ``identity`` and ``size``.

    Raises :class:`AudioGone` if it is not; other ``OSError``\\ s (a permission changed, an I/O
    error) are the caller's to report. What is read from the open file is the file checked,
    even if the name is deleted or reused meanwhile.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError as exc:
        if exc.errno in _GONE:
            raise AudioGone(str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != identity or info.st_size != size:
            raise AudioGone(str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class Storage:
    """The server's private folders: the current one, and every one it made (to delete them
    when the server stops). ``parent`` is where they are made (the system's temporary folder
    by default)."""

    def __init__(self, parent: Path | None = None) -> None:
        self._parent = parent
        self._made: dict[Path, Identity] = {}
        # Made at once, so that a server that cannot write any folder fails at start-up.
        self._current: Path | None = self._make()

    @property
    def folder(self) -> Path | None:
        """The folder the next generation goes to, unless it has vanished since."""
        return self._current

    def vanished(self) -> Path | None:
        """The current folder, if it is gone or no longer the one made; it is then dropped, so
        that :meth:`folder_for_new_file` makes a new one. None while all is well."""
        current = self._current
        if current is None or _folder_identity(current) == self._made[current]:
            return None
        self._current = None
        return current

    def holds(self, path: Path) -> bool:
        """Whether the folder of ``path`` is still one this storage made."""
        made = self._made.get(path.parent)
        return made is not None and _folder_identity(path.parent) == made

    def folder_for_new_file(self) -> Path:
        """The current folder, or a new one if it vanished; ``OSError`` if none can be made."""
        self.vanished()
        if self._current is None:
            self._current = self._make()
        return self._current

    def close(self) -> None:
        """Delete every folder made that is still ours; leave alone whatever took a name."""
        for folder, identity in self._made.items():
            if _folder_identity(folder) == identity:
                shutil.rmtree(folder, ignore_errors=True)
        self._made.clear()
        self._current = None

    def _make(self) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=self._parent))
        identity = _folder_identity(folder)
        if identity is None:  # deleted in the instant since it was made
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
        self._made[folder] = identity
        return folder
