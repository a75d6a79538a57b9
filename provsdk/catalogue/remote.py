"""Files a catalogue run reads through a pyarrow filesystem: ``s3://``, ``gs://``, ``file://``...

c2pa reads local files, so a remote object is copied to a temporary local file, verified there
under its URI, and the copy deleted. The copy is given the object's modification time, so the
record's ``file`` facts (size, mtime, digest) describe the object, not the copy, and a resumed
run compares like with like. Folder URIs are walked one listing at a time, in the order and
with the selection of local folders (:mod:`provsdk.catalogue.walk`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from provsdk.catalogue.task import (
    EXIT_ERROR,
    Outcome,
    Renderer,
    error_record,
    private_folder,
    verify_task,
)
from provsdk.catalogue.walk import in_catalogue
from provsdk.errors import InputError
from provsdk.sidecar import sidecar_for

if TYPE_CHECKING:
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    from provsdk.catalogue.task import CatalogueSettings
    from provsdk.repository import Repository

__all__ = ["is_uri", "iter_uri_files", "verify_remote"]

# A scheme of two letters or more: "C:\\x" (a Windows drive) is a path, "s3://x" a URI.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_COPY_CHUNK = 1 << 20


def is_uri(path: str) -> bool:
    """Whether ``path`` names an object through a filesystem URI rather than a local path."""
    return _URI.match(path) is not None


def _split_query(uri: str) -> tuple[str, str]:
    # "s3://bucket/dir?region=x": children are "s3://bucket/dir/name?region=x".
    base, sep, query = uri.partition("?")
    return base.rstrip("/"), sep + query


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    return pafs.FileSystem.from_uri(uri)  # type: ignore[no-any-return]


def _listing(fs: pafs.FileSystem, folder: str) -> list[Any]:
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    try:
        infos = fs.get_file_info(pafs.FileSelector(folder, recursive=False))
    except OSError:
        return []  # a prefix that vanished or cannot be listed holds nothing to verify
    return sorted(infos, key=lambda info: info.base_name)


def iter_uri_files(uri: str) -> Iterator[str]:
    """``uri`` itself when it is not a folder; under a folder, the URIs of its audio files
    that are not hidden, not in a hidden folder and not a writer's temporary, in the order
    of :func:`provsdk.catalogue.walk.iter_files`. One folder is listed at a time (a recursive
    listing of a bucket would hold every key in memory)."""
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    fs, root = _filesystem(uri)
    if fs.get_file_info(root).type != pafs.FileType.Directory:
        yield uri
        return
    base, query = _split_query(uri)
    stack: list[tuple[str, Iterator[Any]]] = [("", iter(_listing(fs, root)))]
    while stack:
        relative, infos = stack[-1]
        info = next(infos, None)
        if info is None:
            stack.pop()
            continue
        name = info.base_name
        if name.startswith("."):
            continue
        child = f"{relative}/{name}"
        if info.type == pafs.FileType.Directory:
            stack.append((child, iter(_listing(fs, info.path))))
        elif info.type == pafs.FileType.File and in_catalogue(name):
            yield base + child + query


def _unreadable(uri: str, cause: str) -> Outcome:
    record = error_record(uri, InputError(f"cannot read the file: {cause}"))
    return Outcome(uri, record, EXIT_ERROR)


def _copy(fs: pafs.FileSystem, path: str, dest: str) -> None:
    with fs.open_input_stream(path) as src, Path(dest).open("wb") as out:
        shutil.copyfileobj(src, out, _COPY_CHUNK)


def _fetch_sidecar(fs: Any, path: str, local: Path) -> None:
    """Copy the object's sidecar manifest beside the local copy, if the store has one (its
    size is judged when it is read, as a local sidecar's is)."""
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    remote = str(sidecar_for(path))  # the object store's paths are POSIX ones
    try:
        info = fs.get_file_info(remote)
        if info.type != pafs.FileType.File:
            return
        _copy(fs, remote, str(sidecar_for(local)))
    except OSError:
        sidecar_for(local).unlink(missing_ok=True)  # half a store would read as a broken one


def verify_remote(
    uri: str,
    settings: CatalogueSettings,
    *,
    prior_sha256: str | None = None,
    render: Renderer | None = None,
    repository: Repository | None = None,
    sidecar: str | None = None,
) -> Outcome:
    """:func:`~provsdk.catalogue.task.verify_task` of the object at ``uri``, copied to a local
    temporary file first; the record names the URI. Never raises for a bad or missing
    object. The object's sidecar manifest (``track.c2pa`` beside ``track.ogg``) is fetched
    with it when there is one; ``sidecar`` names a local one instead."""
    import pyarrow.fs as pafs  # type: ignore[import-untyped,unused-ignore]

    try:
        fs, path = _filesystem(uri)
        info = fs.get_file_info(path)
    except (OSError, ValueError) as exc:  # unknown scheme, bucket not reachable, bad URI
        return _unreadable(uri, str(exc))
    if info.type == pafs.FileType.NotFound:
        return _unreadable(uri, "no such object")
    if info.type != pafs.FileType.File:
        return _unreadable(uri, "not a file")
    mtime_ns = info.mtime_ns
    with private_folder() as folder:
        local = folder / f"object{PurePosixPath(path).suffix}"
        try:
            _copy(fs, path, str(local))
        except OSError as exc:
            return _unreadable(uri, str(exc))
        if mtime_ns is not None:
            os.utime(local, ns=(mtime_ns, mtime_ns))
        if sidecar is None:
            _fetch_sidecar(fs, path, local)
        outcome = verify_task(
            local,
            settings,
            name=uri,
            prior_sha256=prior_sha256,
            render=render,
            repository=repository,
            copied=True,
            sidecar=sidecar,
        )
    record = outcome.record
    if record is not None and mtime_ns is None and "file" in record:
        record["file"]["mtime_ns"] = None  # the store keeps no time; the copy's means nothing
    return outcome
