"""The progress bar of long commands: on stderr, on a terminal only, and only for long work.

:class:`ProgressBar` is a :class:`provsdk.progress.Progress` callback (and the batch's row
counter). It draws nothing for the first ``PROVSDK_PROGRESS_DELAY`` seconds (default 2), so
commands that finish quickly never flicker; nothing at all when stderr is not a terminal or
with ``--quiet``, so pipes, logs and ``--json`` output stay clean. Until it draws, a call costs
one clock read and one comparison, and rich is not even imported; once it draws, calls update
it at most ten times a second. It clears itself when the work ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from provsdk.progress import RENDER, SIGN

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["BATCH", "DELAY_ENV", "VERIFY", "ProgressBar", "quiet_option"]

# Seconds of work before a bar appears; tests set it to 0 to see the bar at once.
DELAY_ENV = "PROVSDK_PROGRESS_DELAY"
_DEFAULT_DELAY = 2.0
_INTERVAL = 0.1  # the least time between two updates of the bar

BATCH = "batch"  # rows of ``generate --batch``: done and total count rows
VERIFY = "verify"  # files of ``verify``: total 0 while the count is not known yet
_LABELS = {RENDER: "rendering", SIGN: "signing", BATCH: "generating", VERIFY: "verifying"}


def _delay() -> float:
    text = os.environ.get(DELAY_ENV, "")
    try:
        return max(0.0, float(text)) if text else _DEFAULT_DELAY
    except ValueError:
        return _DEFAULT_DELAY


def _amount(task: str, done: int, total: int) -> str:
    if task == BATCH:
        return f"{done}/{total} rows"
    if task == VERIFY:
        return f"{done}/{total} files" if total else f"{done} files"
    if task == SIGN:
        return f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    return ""


class ProgressBar:
    """Use as ``with ProgressBar(quiet=quiet) as bar:`` and pass ``bar`` as ``progress=``."""

    def __init__(
        self, *, quiet: bool = False, stream: TextIO | None = None, above: bool = False
    ) -> None:
        self._stream = stream or sys.stderr
        self._enabled = not quiet and self._stream.isatty()
        # ``above``: the command prints to stdout while the bar is drawn; when both are the
        # terminal, its lines go through the bar, above it, instead of through it.
        self._above = above and sys.stdout.isatty()
        self._show_at = time.monotonic() + _delay()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    @property
    def enabled(self) -> bool:
        """Whether the bar may be drawn (stderr is a terminal and not ``--quiet``)."""
        return self._enabled

    def __call__(self, task: str, done: int, total: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now < self._show_at:
            return
        self._show_at = now + _INTERVAL
        if self._bar is None:
            self._bar = self._start()
        amount = _amount(task, done, total)
        if task in self._tasks:
            self._bar.update(self._tasks[task], total=total or None, completed=done, amount=amount)
        else:  # made with its numbers, so never drawn as an unknown amount first
            label = _LABELS.get(task, task)
            self._tasks[task] = self._bar.add_task(
                label, total=total or None, completed=done, amount=amount
            )

    def _start(self) -> Progress:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[amount]}"),
            TimeElapsedColumn(),
            console=Console(file=self._stream),
            transient=True,  # the bar leaves no trace: what stays on screen is the result
            refresh_per_second=5,
            # Output of the command stays on stdout; warnings go above the bar.
            redirect_stdout=self._above,
        )
        bar.start()
        return bar

    def close(self) -> None:
        """Clear the bar, if it was drawn; later calls draw nothing."""
        self._enabled = False
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


F = TypeVar("F", bound=Callable[..., Any])


def quiet_option(f: F) -> F:
    """``-q``/``--quiet``: no progress bar."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Draw no progress bar (one appears on a terminal when the work runs over 2 s).",
    )(f)
