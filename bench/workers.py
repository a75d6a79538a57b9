"""Measurements that need a process of their own: ``python -m bench.workers <what> ...``.

Each prints one JSON object on stdout. A fresh process per measurement is what makes peak
memory meaningful (``ru_maxrss`` is a high-water mark for the whole process) and keeps the CPU
pinning of the generator run away from the other measurements.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _rss_now() -> int | None:
    """This process's resident set right now, in bytes (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _reset_peak() -> bool:
    """Reset the high-water mark so ``ru_maxrss`` covers only what follows (Linux >= 4.0).

    Without it, a transient peak while importing could hide a smaller peak in the operation.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def memory(which: str, src: Path, dst: Path, home: Path) -> dict[str, Any]:
    # Everything imported and prepared first: only the operation itself is measured.
    from bench import ops
    from bench.inputs import load_credentials

    creds = load_credentials(home)
    op = ops.ours_sign(src, dst, creds) if which == "ours" else ops.raw_sign(src, dst, creds)
    gc.collect()
    reset = _reset_peak()
    base = _rss_now()
    if base is None or not reset:
        # No way to read the current RSS or reset the mark: the peak so far is the baseline.
        base = _peak_rss()
    op()
    peak = _peak_rss()
    return {
        "which": which,
        "baseline_rss_bytes": base,
        "peak_rss_bytes": peak,
        "peak_extra_bytes": max(peak - base, 0),
        "file_bytes": src.stat().st_size,
        "peak_reset": reset,
    }


def _pin_to_one_core() -> int | None:
    """Pin to the first allowed CPU, so "x real time" means per core on a busy machine too."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    first = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {first})
    return first


def generator(seconds: float, repeat: int) -> dict[str, Any]:
    # Pinned before the generator (and numpy) is imported, so any thread a library starts
    # later shares the same single core.
    cpu = _pin_to_one_core()
    try:
        from provsdk.providers.local import render_track
    except Exception as exc:  # any import failure, e.g. a module still being written
        return {"available": False, "reason": f"cannot import: {type(exc).__name__}: {exc}"}
    prompt = "benchmark: steady mid-tempo groove"
    times: list[float] = []
    shape: list[int] = []
    dtype = ""
    try:
        render_track(prompt, seed=1, duration=5.0, sample_rate=44_100, channels=2)  # warm-up
        for _ in range(repeat):
            gc.collect()
            start = time.perf_counter()
            samples, _plan = render_track(
                prompt, seed=1, duration=seconds, sample_rate=44_100, channels=2
            )
            times.append(time.perf_counter() - start)
            shape, dtype = list(samples.shape), str(samples.dtype)
            del samples
    except Exception as exc:
        # Reported, not raised: the signing and verification figures are still worth having.
        return {"available": True, "error": f"render_track failed: {type(exc).__name__}: {exc}"}
    median = statistics.median(times)
    return {
        "available": True,
        "cpu": cpu,
        "audio_seconds": seconds,
        "samples_s": times,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "realtime_multiple": seconds / median,
        "shape": shape,
        "dtype": dtype,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    sub = parser.add_subparsers(dest="what", required=True)
    mem = sub.add_parser("memory")
    mem.add_argument("which", choices=["ours", "raw"])
    mem.add_argument("src", type=Path)
    mem.add_argument("dst", type=Path)
    mem.add_argument("home", type=Path)
    gen = sub.add_parser("generator")
    gen.add_argument("seconds", type=float)
    gen.add_argument("repeat", type=int)
    args = parser.parse_args(argv)
    if args.what == "memory":
        result = memory(args.which, args.src, args.dst, args.home)
    else:
        result = generator(args.seconds, args.repeat)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
