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
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["STRATEGY_ENV", "main", "measured", "run_worker", "warm_read"]

_T = TypeVar("_T")
GENERATOR_PROMPT = "benchmark: steady mid-tempo groove"


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


def _children_peak() -> int:
    """The largest peak of any waited-for child process so far (an encoder, say), in bytes."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def warm_read(path: Path) -> None:
    """Read ``path`` once into the page cache, so a timed run that follows does not wait on
    the disk: dropping the cache needs root, so every side is run from a warm one instead."""
    buf = bytearray(1 << 20)
    with path.open("rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass


def measured(op: Callable[[], _T], warm: Sequence[Path] = ()) -> tuple[_T, dict[str, Any]]:
    """``op()``'s result, and its wall time and memory in this (fresh, fully imported) process.

    ``process_peak_rss_bytes`` is the whole process's high-water mark, imports included: what a
    user watching the process sees. ``peak_extra_bytes`` is what the operation added on top of
    the resident set just before it. ``children_peak_rss_bytes`` is the largest peak of a child
    process the operation ran and waited for (ffmpeg), which the process's own figure leaves out.
    """
    for path in warm:
        warm_read(path)
    gc.collect()
    # Read before the reset below wipes it: the peak reached while importing.
    import_peak = _peak_rss()
    children_before = _children_peak()
    reset = _reset_peak()
    base = _rss_now()
    if base is None or not reset:
        # No way to read the current RSS or reset the mark: the peak so far is the baseline.
        base = _peak_rss()
    start = time.perf_counter()
    result = op()
    seconds = time.perf_counter() - start
    peak = _peak_rss()
    return result, {
        "seconds": seconds,
        "baseline_rss_bytes": base,
        "peak_rss_bytes": peak,
        "peak_extra_bytes": max(peak - base, 0),
        "import_peak_rss_bytes": import_peak,
        "process_peak_rss_bytes": max(import_peak, peak),
        "children_peak_before_bytes": children_before,
        "children_peak_rss_bytes": _children_peak(),
        "peak_reset": reset,
    }


def memory(which: str, src: Path, dst: Path, home: Path) -> dict[str, Any]:
    # Everything imported and prepared first: only the operation itself is measured.
    from bench import ops
    from bench.inputs import load_credentials

    creds = load_credentials(home)
    op = ops.ours_sign(src, dst, creds) if which == "ours" else ops.raw_sign(src, dst, creds)
    _, figures = measured(op)
    return {"which": which, "file_bytes": src.stat().st_size, **figures}


STRATEGY_ENV = "PROVSDK_SIGNING_STRATEGY"


def sign(src: Path, dst: Path, home: Path) -> dict[str, Any]:
    """provsdk's ``sign_file`` with the strategy the environment selects, as a user's would."""
    from bench import ops
    from bench.inputs import load_credentials

    op = ops.ours_sign(src, dst, load_credentials(home))
    result, figures = measured(op, warm=[src])
    return {
        "requested": os.environ.get(STRATEGY_ENV),
        "strategy": result.strategy,
        "file_bytes": src.stat().st_size,
        **figures,
    }


def sign_raw(definition: Path, key: Path, chain: Path, src: Path, dst: Path) -> dict[str, Any]:
    """Raw c2pa-python's ``Builder.sign``, in a process that never imports provsdk."""
    from bench import raw_c2pa

    spec = json.loads(definition.read_text())
    key_pem, chain_pem = key.read_bytes(), chain.read_bytes()
    _, figures = measured(lambda: raw_c2pa.sign(spec, key_pem, chain_pem, src, dst), warm=[src])
    return {
        "provsdk_imported": "provsdk" in sys.modules,
        "file_bytes": src.stat().st_size,
        **figures,
    }


def floor(src: Path, dst: Path) -> dict[str, Any]:
    """The I/O floor (one SHA-256 pass and one copy), timed in its own process like the rest."""
    from bench import ops

    _, figures = measured(ops.floor(src, dst), warm=[src])
    return figures


def verify(path: Path, home: Path) -> dict[str, Any]:
    from bench import ops
    from bench.inputs import load_credentials

    report, figures = measured(ops.ours_verify(path, load_credentials(home)), warm=[path])
    return {"verdict": report.verdict.value, "file_bytes": path.stat().st_size, **figures}


def verify_raw(path: Path, home: Path) -> dict[str, Any]:
    """c2pa's own Reader on the same file: how much of verification's memory is c2pa's."""
    import json as _json

    from bench import ops
    from bench.inputs import load_credentials

    report, figures = measured(ops.raw_verify(path, load_credentials(home)), warm=[path])
    state = _json.loads(report).get("validation_state")
    return {"verdict": str(state).lower(), "file_bytes": path.stat().st_size, **figures}


def generate(out: Path, home: Path, seconds: float) -> dict[str, Any]:
    """The built-in generator end to end (render, encode with ffmpeg, sign, verify)."""
    import provsdk

    client = provsdk.Client(home=home)
    track, figures = measured(
        lambda: client.generate(GENERATOR_PROMPT, duration=seconds, seed=1, out=out)
    )
    return {
        "verdict": track.report.verdict.value,
        "audio_seconds": seconds,
        "file_bytes": out.stat().st_size,
        **figures,
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
    prompt = GENERATOR_PROMPT
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


def run_worker(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``python -m bench.workers ARGS`` in a fresh process; its JSON answer.

    The child's own figures are used, not ``wait4``'s: its ``ru_maxrss`` would be the same
    process-wide peak, but only the child can tell its imports from the operation.
    """
    done = subprocess.run(
        [sys.executable, "-m", "bench.workers", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench worker {args[0]} failed:\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _reported(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A failure becomes a figure ("error"), so one broken operation does not lose the rest."""
    try:
        return run()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


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
    paths = {
        "sign": ("src", "dst", "home"),
        "sign-raw": ("definition", "key", "chain", "src", "dst"),
        "floor": ("src", "dst"),
        "verify": ("path", "home"),
        "verify-raw": ("path", "home"),
        "generate": ("out", "home"),
    }
    for name, names in paths.items():
        cmd = sub.add_parser(name)
        for arg in names:
            cmd.add_argument(arg, type=Path)
        if name == "generate":
            cmd.add_argument("seconds", type=float)
    args = parser.parse_args(argv)
    if args.what == "memory":
        result = memory(args.which, args.src, args.dst, args.home)
    elif args.what == "generator":
        result = generator(args.seconds, args.repeat)
    else:
        commands: dict[str, Callable[..., dict[str, Any]]] = {
            "sign": sign,
            "sign-raw": sign_raw,
            "floor": floor,
            "verify": verify,
            "verify-raw": verify_raw,
            "generate": generate,
        }
        chosen = commands[args.what]
        values = {k: v for k, v in vars(args).items() if k != "what"}
        result = _reported(lambda: chosen(**values))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
