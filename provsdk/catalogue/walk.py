"""Which files a run verifies: named files as given, and the audio files under folders.

A catalogue folder may hold millions of files, so the walk streams: it lists one directory at
a time, sorts that directory's names and descends in that order, and keeps only the names
still to visit of the directories it is inside. The order is the one a sort of every path of
the tree would give (siblings by name, a folder's contents where its name falls), so it is
the same on every run and every machine, and no list of the whole tree is ever built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from provsdk.audio.formats import AUDIO_SUFFIXES
from provsdk.sign.atomic import TEMP_SUFFIX

__all__ = ["in_catalogue", "iter_files"]


def in_catalogue(name: str) -> bool:
    """Whether a file called ``name``, found in a folder, is verified: audio by its suffix,
    not hidden, and not a temporary file a writer left. (A file named on the command line is
    verified whatever its name, so an unsupported one is reported.)"""
    return (
        not name.startswith(".")
        and not name.endswith(TEMP_SUFFIX)
        and PurePosixPath(name).suffix.lower() in AUDIO_SUFFIXES
    )


def _sorted_names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entry.name for entry in entries)
    except OSError:
        return []  # a folder that vanished or cannot be listed holds nothing to verify


def _walk(top: Path) -> Iterator[Path]:
    # One list of names per folder we are inside; a folder's entries are looked at (stat) one
    # at a time as the walk reaches them, never all at once.
    stack: list[tuple[Path, Iterator[str]]] = [(top, iter(_sorted_names(top)))]
    while stack:
        folder, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        if name.startswith("."):
            continue  # hidden files and everything under hidden folders
        full = folder / name
        # A symlinked folder is not entered (as pathlib's rglob does): it may loop, or lead
        # out of the catalogue; a symlinked file is verified like the file it names.
        if full.is_dir() and not full.is_symlink():
            stack.append((full, iter(_sorted_names(full))))
        elif in_catalogue(name) and full.is_file():
            yield full


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Each path as given when it is not a folder; under each folder, the audio files (by
    suffix) that are not hidden, not inside a hidden folder and not a writer's temporary."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path
