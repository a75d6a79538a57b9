"""Repeated, interleaved wall-clock timing and the summary figures reported for it."""

from __future__ import annotations

import functools
import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "Stats",
    "Task",
    "interleave",
    "paired_ratio",
    "time_many",
    "time_once",
    "time_pair",
    "time_single",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Stats:
    samples: tuple[float, ...]  # seconds

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "min_s": self.min,
            "max_s": self.max,
            "samples_s": list(self.samples),
        }


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Task:
    """An operation to time, and untimed set-up to run before each call of it."""

    run: Callable[[], Any]
    setup: Callable[[], Any] = _nothing


def time_once(task: Task) -> float:
    task.setup()
    # Collect first and keep the collector off while timing, so one side does not pay for
    # garbage the other side left behind.
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        task.run()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def interleave(
    runs: Sequence[Callable[[], _T]], repeat: int, *, warmup: bool = True
) -> list[list[_T]]:
    """Each of ``runs`` called ``repeat`` times, taking turns; one list of results per run.

    Repetition ``i`` starts with run ``i mod n`` and goes round from there, so every side goes
    first (and last) equally often: any advantage of a position (a warm page cache, the CPU
    frequency already up) is spread evenly. With ``warmup``, each is called once untimed first.
    """
    if warmup:
        for run in runs:
            run()
    results: list[list[_T]] = [[] for _ in runs]
    n = len(runs)
    for i in range(repeat):
        for k in range(n):
            j = (i + k) % n
            results[j].append(runs[j]())
    return results


def paired_ratio(top: Stats, bottom: Stats) -> float:
    """The median of ``top[i] / bottom[i]`` over samples taken side by side (by
    :func:`interleave`, repetition ``i`` of each).

    On a machine whose speed drifts (a shared host), the two samples of one repetition ran
    seconds apart, under the same conditions; the ratio of the two medians mixes samples
    from slow and fast minutes, and moves by more than the difference being measured.
    """
    if len(top.samples) != len(bottom.samples) or not top.samples:
        raise ValueError("paired samples must be as many on both sides, and some")
    return statistics.median(a / b for a, b in zip(top.samples, bottom.samples, strict=True))


def time_many(tasks: Sequence[Task], repeat: int) -> list[Stats]:
    """Time every task ``repeat`` times after one untimed warm-up each, interleaved."""
    timed = interleave([functools.partial(time_once, t) for t in tasks], repeat)
    return [Stats(tuple(samples)) for samples in timed]


def time_pair(ours: Task, raw: Task, repeat: int) -> tuple[Stats, Stats]:
    """Both tasks timed as :func:`time_many` does: alternating who goes first."""
    a, b = time_many([ours, raw], repeat)
    return a, b


def time_single(task: Task, repeat: int) -> Stats:
    time_once(task)  # warm-up, as for the pairs
    return Stats(tuple(time_once(task) for _ in range(repeat)))
