"""The small documents a user hands provsdk, read whole: bounded, and from regular files only.

Signed statements, grant and disclosure documents, inclusion proofs, policies, trust stores and
key files, batch CSVs, contracts and sidecar manifest stores are read into memory whole, so each
kind has a cap (the table in docs/cli.md). The size is checked before anything is parsed: the
file's own size first, so an oversized one is refused without being read, then at most cap + 1
bytes, since a file can grow between the two. Only regular files are read: a FIFO would block
until someone writes to it and a device such as ``/dev/zero`` never ends, so both are refused at
once. The file is opened without blocking and checked on the open descriptor, so a path swapped
for a FIFO between a check and the open cannot hang the command either.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from provsdk.errors import InputError, ProvsdkError

__all__ = [
    "BATCH_CAP",
    "CONTRACT_CAP",
    "DOCUMENT_CAP",
    "PEM_CAP",
    "POLICY_CAP",
    "SIDECAR_CAP",
    "STATEMENT_CAP",
    "kind_of",
    "open_regular",
    "read_capped",
]

STATEMENT_CAP = 1 << 20  # a JWS with its x5c chain and a timestamp token is tens of KB
DOCUMENT_CAP = 1 << 20  # grant, disclosure and inclusion-proof JSON
POLICY_CAP = 256 << 10
PEM_CAP = 4 << 20  # a trust store may hold a few hundred roots
BATCH_CAP = 16 << 20
CONTRACT_CAP = 10 << 20  # the signed contract a grant binds, carried in every manifest
# A sidecar manifest store: a history of manifests, each of which may embed its contracts.
SIDECAR_CAP = 64 << 20

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}

ErrorType = Callable[..., ProvsdkError]


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, for an error message ("a FIFO")."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _size(count: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift and count % (1 << shift) == 0:
            return f"{count >> shift} {unit}"
    return f"{count} bytes"


def open_regular(path: str | Path, what: str, error: ErrorType = InputError) -> int:
    """A descriptor of ``path`` opened for reading, refused unless it is a regular file.

    Opened with ``O_NONBLOCK`` (a FIFO then opens at once instead of waiting for a writer),
    then judged by ``fstat`` of that very descriptor. The caller closes it.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error("no such file", path=p) from None
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror or exc}", path=p) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"the {what} is {kind_of(mode)}, not a regular file; not reading it", path=p)
    os.set_blocking(fd, True)
    return fd


def read_capped(path: str | Path, cap: int, what: str, error: ErrorType = InputError) -> bytes:
    """The bytes of the regular file ``path``, refused with ``error`` when over ``cap``.

    ``what`` names the document in errors ("signed grant", "policy"). Never reads more than
    ``cap + 1`` bytes, whatever the file claims or becomes.
    """
    fd = open_regular(path, what, error)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > cap:
            raise error(f"the {what} is {size} bytes; the limit is {_size(cap)}", path=Path(path))
        try:
            data = fh.read(cap + 1)
        except OSError as exc:
            raise error(f"cannot read the {what}: {exc.strerror or exc}", path=Path(path)) from None
    if len(data) > cap:
        raise error(f"the {what} grew past the limit of {_size(cap)} while read", path=Path(path))
    return data
