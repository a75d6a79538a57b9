"""Repeated, interleaved wall-clock timing and the summary figures reported for it."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Stats", "Task", "time_once", "time_pair", "time_single"]


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


def time_pair(ours: Task, raw: Task, repeat: int) -> tuple[Stats, Stats]:
    """Time both ``repeat`` times after one untimed warm-up of each, alternating who goes first.

    Alternating the order spreads any advantage of running second (warm page cache, CPU
    frequency already up) evenly over both sides.
    """
    time_once(ours)
    time_once(raw)
    a: list[float] = []
    b: list[float] = []
    for i in range(repeat):
        if i % 2 == 0:
            a.append(time_once(ours))
            b.append(time_once(raw))
        else:
            b.append(time_once(raw))
            a.append(time_once(ours))
    return Stats(tuple(a)), Stats(tuple(b))


def time_single(task: Task, repeat: int) -> Stats:
    time_once(task)  # warm-up, as for the pairs
    return Stats(tuple(time_once(task) for _ in range(repeat)))
