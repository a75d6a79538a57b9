"""Catalogue verification (issue 15): per-file cost against raw c2pa, workers, Ray, memory.

    python -m bench.catalogue            # 1,000 and 10,000 files; a few minutes
    python -m bench.catalogue --quick    # smoke run: 200 and 1,000 files, fewer repetitions

Every file is a small track from the built-in generator, signed with a dev PKI made in a
temporary folder (removed afterwards). See bench/README.md for what each row measures.
"""

# ruff: noqa: E402  (the path set-up below must run before the bench and provsdk imports)

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path[0] = str(_REPO)  # run as a script: import bench and provsdk from this checkout

import argparse
import contextlib
import functools
import importlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.streaming import Figure, _environment, _provsdk_command, _secs, figure_lines
from bench.timing import Stats, Task, interleave, paired_ratio, time_once
from provsdk.catalogue.task import CatalogueSettings, Job, verify_task
from provsdk.credentials import Algorithm, TrustConfig, init_dev_pki
from provsdk.home import ProvsdkHome

__all__ = ["main"]

MIB = 1 << 20
PER_FILE_OVER_RAW = 1.5
WORKERS_SPEEDUP = 1.8
MEMORY_MIB = 200.0
# "Flat": ten times the files may raise a peak by no more than this share of the smaller run's.
MEMORY_GROWTH = 0.10
PROMPT = "warm lofi beat"
MIME = "audio/wav"
OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}
_SCRUBBED = (
    "PROVSDK_SIGNING_KEY",
    "PROVSDK_SIGNING_CERT",
    "PROVSDK_HOME",
    # A `pip install provsdk` compiles every module to bytecode; a checkout installed with
    # -e under this variable compiles them from source on every start, a cost users do not
    # pay (about 0.2 s per process, twice over for --workers: the CLI and its fork server).
    # The CLI runs keep their bytecode in the bench's own folder (PYTHONPYCACHEPREFIX).
    "PYTHONDONTWRITEBYTECODE",
)

# Runs the CLI in this process image and prints its own peak (VmHWM) last: Linux carries
# ru_maxrss across exec, so the parent's figure would otherwise include the bench's own size.
_MEASURED = (
    "import sys\n"
    "from provsdk_cli.main import main\n"
    "sys.argv = ['provsdk', *sys.argv[1:]]\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as fh:\n"
    "        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith('VmHWM:'))\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print(f'peak-bytes {hwm()}', file=sys.stderr)\n"
)


@dataclass(frozen=True)
class Plan:
    per_file: int  # distinct files of row a
    files: int  # rows b and c
    memory_files: int  # row d's large run (its small run has `files`)
    repeat: int  # row a's passes over its files, row b's runs of each side
    seconds: float  # length of every track
    rows: tuple[int, ...] = (1, 2, 3, 4)  # which rows to measure


@dataclass(frozen=True)
class Setup:
    work: Path
    home: ProvsdkHome
    trust: TrustConfig
    distinct: tuple[Path, ...]  # row a: each generated on its own (its own disclosure JWS)
    one: Path  # the file the folders of rows b-d hold copies of

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        pycache = str(self.work / "pycache")
        return {**env, "PROVSDK_HOME": str(self.home.root), "PYTHONPYCACHEPREFIX": pycache}


def _setup(work: Path, plan: Plan) -> Setup:
    from provsdk import Client

    home = ProvsdkHome(work / "home")
    init_dev_pki(home, Algorithm.ES256)
    client = Client(home=home.root)
    tracks = work / "distinct"
    tracks.mkdir()
    distinct = []
    for seed in range(1, plan.per_file + 1):
        out = tracks / f"track-{seed:04d}.wav"
        client.generate(PROMPT, duration=plan.seconds, seed=seed, out=out)
        distinct.append(out)
    return Setup(work, home, TrustConfig.load(home), tuple(distinct), distinct[0])


def _folder(setup: Setup, n: int) -> Path:
    """A folder of ``n`` copies of one signed file: hard links where the filesystem allows
    (10,000 copies cost no disk; every path is still a file of its own to the verifier)."""
    where = setup.work / f"copies-{n}"
    if where.exists():
        return where
    where.mkdir()
    for i in range(n):
        dest = where / f"{i // 1000:03d}" / f"copy-{i:05d}.wav"
        dest.parent.mkdir(exist_ok=True)
        try:
            os.link(setup.one, dest)
        except OSError:
            shutil.copyfile(setup.one, dest)
    return where


def _paths(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.wav"))


# --- row a: per-file cost ------------------------------------------------------------------


def _raw_reader(context: Any) -> Callable[[Path], str]:
    """What a c2pa-python user writes to validate a file against the same producer anchors:
    one Context with the anchors and offline settings for the run, a Reader per file."""
    import c2pa

    def read(path: Path) -> str:
        with path.open("rb") as fh, c2pa.Reader(MIME, fh, context=context) as reader:
            return str(json.loads(reader.json()).get("validation_state"))

    return read


def _raw_context(trust: TrustConfig) -> Any:
    import c2pa

    settings = {"trust": {"trust_anchors": trust.producer.pem()}, "verify": dict(OFFLINE)}
    return c2pa.Context.from_dict(settings)


def _forget_statements() -> None:
    # What verify_task remembers across files: the checks of signed statements it met before.
    from provsdk.verify import statement_layers

    statement_layers._checked_disclosure.cache_clear()


def _nothing() -> None:
    return None


def _per_file_pair(
    paths: Sequence[Path],
    settings: CatalogueSettings,
    raw: Callable[[Path], str],
    repeat: int,
    *,
    first_meeting: bool,
) -> tuple[Stats, Stats]:
    """Each file timed on both sides, the two taking turns file by file (who goes first
    alternates), ``repeat`` passes over the files after one untimed pass. With
    ``first_meeting``, provsdk forgets the statements it checked before each timed call (untimed),
    so every file's disclosure is checked as if the run had never met it."""
    ours: list[float] = []
    theirs: list[float] = []
    for path in paths:
        forget = _forget_statements if first_meeting else _nothing
        a = Task(functools.partial(verify_task, path, settings), setup=forget)
        b = Task(functools.partial(raw, path))
        timed = interleave(
            [functools.partial(time_once, a), functools.partial(time_once, b)], repeat
        )
        ours += timed[0]
        theirs += timed[1]
    return Stats(tuple(ours)), Stats(tuple(theirs))


def _ms(s: float) -> str:
    return f"{s * 1000:.2f} ms"


def _per_file_rows(setup: Setup, plan: Plan) -> list[Figure]:
    settings = CatalogueSettings.of(setup.trust)
    raw = _raw_reader(_raw_context(setup.trust))
    for path in setup.distinct:  # a broken set-up must not produce figures for unequal work
        record = verify_task(path, settings).record or {}
        state = raw(path)
        if record.get("verdict") != "pass" or state != "Trusted":
            raise RuntimeError(f"{path.name}: provsdk {record.get('verdict')}, c2pa {state}")
    n = len(setup.distinct)
    rows = [
        (f"verify_task, {n} distinct files, each met anew", list(setup.distinct), True),
        (f"verify_task, one file {n} times", [setup.one] * n, False),
    ]
    out = []
    for side, paths, counted in rows:
        ours, theirs = _per_file_pair(paths, settings, raw, plan.repeat, first_meeting=counted)
        ratio = paired_ratio(ours, theirs)
        of_medians = ours.median / theirs.median
        out.append(
            Figure(
                row=1,
                side=side,
                value=f"{_ms(ours.median)} (min {_ms(ours.min)})",
                baseline=f"raw c2pa {_ms(theirs.median)} (min {_ms(theirs.min)})",
                ratio=f"{ratio:.2f}x ({of_medians:.2f}x)",
                target=f"<= {PER_FILE_OVER_RAW}x" if counted else "",
                status=("ok" if ratio <= PER_FILE_OVER_RAW else "MISS") if counted else "",
                strict=counted,
                note="each track carries its own disclosure JWS (as the built-in generator "
                "signs one per track), checked as if never met before"
                if counted
                else "one disclosure JWS met again (as every track of one provider's model "
                "carries): its check is remembered per process",
                figures={
                    "ours": ours.as_dict(),
                    "raw": theirs.as_dict(),
                    "ratio": ratio,
                    "ratio_of_medians": of_medians,
                },
            )
        )
    return out


# --- rows b and d: the CLI --------------------------------------------------------------


def _cli_has(*options: str) -> bool:
    done = subprocess.run(
        [*_provsdk_command(), "verify", "--help"], capture_output=True, text=True, check=False
    )
    return all(o in done.stdout for o in options)


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


def _hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class Run:
    seconds: float
    parent_peak: int | None  # bytes
    worker_peak: int | None  # the largest descendant's, as last seen while it ran
    lines: int  # records in the results file
    code: int
    stderr: str


def _watch(pid: int, peaks: dict[int, int], stop: threading.Event) -> None:
    # VmHWM only grows, so the last reading before a worker exits is (about) its peak.
    while not stop.wait(0.05):
        for child in _descendants(pid):
            peak = _hwm(child)
            if peak is not None:
                peaks[child] = max(peaks.get(child, 0), peak)


def _run_cli(setup: Setup, folder: Path, workers: int, results: Path) -> Run:
    results.unlink(missing_ok=True)  # a left-over log would make the run resume
    cmd = [sys.executable, "-c", _MEASURED, "verify", str(folder), "--workers", str(workers)]
    cmd += ["--quiet", "--results", str(results)]
    peaks: dict[int, int] = {}
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=setup.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    watcher = threading.Thread(target=_watch, args=(proc.pid, peaks, stop), daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    parent = next(
        (int(line.split()[1]) for line in stderr.splitlines() if line.startswith("peak-bytes ")),
        None,
    )
    lines = sum(1 for _ in results.open()) if results.exists() else 0
    return Run(seconds, parent, max(peaks.values(), default=None), lines, proc.returncode, stderr)


def _check_run(run: Run, n: int) -> None:
    if run.code != 0 or run.lines < n:
        tail = run.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"exit {run.code}, {run.lines} of {n} records: {' | '.join(tail)}")


def _time_local(setup: Setup, folder: Path, workers: int) -> float:
    run_local = _optional("provsdk.catalogue.pool", "run_local")
    assert run_local is not None
    settings = CatalogueSettings.of(setup.trust)
    jobs = (Job(str(p)) for p in _paths(folder))
    start = time.perf_counter()
    n = sum(1 for _ in run_local(jobs, settings, workers=workers))
    seconds = time.perf_counter() - start
    if n != sum(1 for _ in _paths(folder)):
        raise RuntimeError(f"run_local gave {n} outcomes")
    return seconds


def _not_available(row: int, side: str, why: str, target: str) -> Figure:
    return Figure(row=row, side=side, value="not available", target=target, status="N/A", note=why)


def _workers_row(setup: Setup, plan: Plan) -> list[Figure]:
    folder = _folder(setup, plan.files)
    target = f">= {WORKERS_SPEEDUP}x"
    if _cli_has("--workers", "--results", "--quiet"):
        how = "`provsdk verify DIR --workers N --quiet --results R.jsonl`, whole processes"
        results = setup.work / "results.jsonl"

        def timed(workers: int) -> Callable[[], float]:
            def run() -> float:
                done = _run_cli(setup, folder, workers, results)
                _check_run(done, plan.files)
                return done.seconds

            return run

    elif _optional("provsdk.catalogue.pool", "run_local") is not None:
        how = "provsdk.catalogue.pool.run_local in this process (the CLI has no --workers yet)"

        def timed(workers: int) -> Callable[[], float]:
            return lambda: _time_local(setup, folder, workers)

    else:
        why = "neither `verify --workers` nor provsdk.catalogue.pool.run_local exists yet"
        return [_not_available(2, f"{plan.files} files, --workers 2 vs 1", why, target)]
    one, two = (Stats(tuple(s)) for s in interleave([timed(1), timed(2)], plan.repeat))
    speedup = paired_ratio(one, two)
    of_medians = one.median / two.median
    return [
        Figure(
            row=2,
            side=f"{plan.files} files, --workers 2",
            value=_secs(two.median),
            baseline=f"--workers 1 {_secs(one.median)}",
            ratio=f"{speedup:.2f}x ({of_medians:.2f}x)",
            target=target,
            status="ok" if speedup >= WORKERS_SPEEDUP else "MISS",
            strict=True,
            note=how,
            figures={
                "workers_1": one.as_dict(),
                "workers_2": two.as_dict(),
                "speedup": speedup,
                "speedup_of_medians": of_medians,
            },
        )
    ]


def _memory_runs(setup: Setup, plan: Plan) -> tuple[Run, Run] | str:
    if not _cli_has("--workers", "--results", "--quiet"):
        return "`verify --workers --quiet --results` is not in the CLI yet"
    runs = []
    for n in (plan.files, plan.memory_files):
        done = _run_cli(setup, _folder(setup, n), 2, setup.work / f"memory-{n}.jsonl")
        _check_run(done, n)
        runs.append(done)
    return runs[0], runs[1]


def _memory_rows(setup: Setup, plan: Plan) -> list[Figure]:
    side = f"verify {plan.memory_files} files, --workers 2"
    runs = _memory_runs(setup, plan)
    if isinstance(runs, str):
        return [_not_available(4, side, runs, f"< {MEMORY_MIB:.0f} MiB")]
    small, large = runs
    out = []
    for who, attr in (("parent", "parent_peak"), ("largest worker", "worker_peak")):
        a, b = getattr(small, attr), getattr(large, attr)
        if a is None or b is None:
            out.append(_not_available(4, f"{side}: {who}", "no VmHWM was read", ""))
            continue
        growth = (b - a) / a
        ok = b < MEMORY_MIB * MIB and growth < MEMORY_GROWTH
        out.append(
            Figure(
                row=4,
                side=f"{side}: {who}",
                value=f"{b / MIB:.1f} MiB",
                baseline=f"{plan.files} files {a / MIB:.1f} MiB",
                ratio=f"{b / a:.2f}x",
                target=f"< {MEMORY_MIB:.0f} MiB, +<{MEMORY_GROWTH:.0%}",
                status="ok" if ok else "MISS",
                strict=True,
                note=f"took {_secs(large.seconds)} ({_secs(small.seconds)} for {plan.files})",
                figures={"small": asdict(small) | {"stderr": ""}, "large": asdict(large)}
                | {"growth": growth},
            )
        )
    return out


# --- row c: Ray -----------------------------------------------------------------------------


def _ray_row(setup: Setup, plan: Plan) -> list[Figure]:
    from provsdk.errors import InputError

    side = f"{plan.files} files, --engine ray (local)"
    run_ray = _optional("provsdk.catalogue.ray_engine", "run_ray")
    if run_ray is None:
        return [
            _not_available(
                3, side, "provsdk.catalogue.ray_engine.run_ray does not exist yet", "100%"
            )
        ]
    settings = CatalogueSettings.of(setup.trust)
    paths = _paths(_folder(setup, plan.files))
    start = time.perf_counter()
    try:
        by_ray = {o.path: o.record for o in run_ray((Job(str(p)) for p in paths), settings)}
    except InputError as exc:
        return [_not_available(3, side, exc.message, "100%")]
    seconds = time.perf_counter() - start
    same = sum(1 for p in paths if by_ray.get(str(p)) == verify_task(p, settings).record)
    share = same / len(paths)
    return [
        Figure(
            row=3,
            side=side,
            value=f"{same} of {len(paths)} records identical ({share:.0%})",
            baseline="serial verify_task",
            target="100%",
            status="ok" if same == len(paths) else "MISS",
            strict=True,
            note=f"Ray took {_secs(seconds)}, its start included",
            figures={"identical": same, "files": len(paths), "ray_s": seconds},
        )
    ]


# --- the run --------------------------------------------------------------------------------


def _guarded(row: int, side: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
    """A row that fails says why, and the other rows are still measured."""
    try:
        return measure()
    except Exception as exc:  # a bench reports a broken row rather than stopping
        return [
            Figure(row=row, side=side, value="ERROR", status="ERROR", strict=True, note=str(exc))
        ]


def _load() -> str:
    with contextlib.suppress(OSError):
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (5 min {five:.2f})"
    return "load average unknown"


def measure(plan: Plan) -> tuple[dict[str, Any], list[Figure]]:
    started = time.perf_counter()
    environment = _environment()
    environment["load_before"] = _load()
    with tempfile.TemporaryDirectory(prefix="provsdk-bench-catalogue-") as tmp:
        setup = _setup(Path(tmp), plan)
        measures: dict[int, tuple[str, Callable[[Setup, Plan], list[Figure]]]] = {
            1: ("per-file cost", _per_file_rows),
            2: ("--workers 2 vs 1", _workers_row),
            3: ("ray", _ray_row),
            4: ("memory", _memory_rows),
        }
        rows: list[Figure] = []
        for row in plan.rows:
            side, how = measures[row]
            rows += _guarded(row, side, functools.partial(how, setup, plan))
        size = setup.one.stat().st_size
    environment["load_after"] = _load()
    info = {
        "environment": environment,
        "inputs": {"seconds": plan.seconds, "bytes": size, "format": "44.1 kHz 16-bit stereo"},
        "plan": asdict(plan),
        "runtime_s": time.perf_counter() - started,
    }
    return info, rows


_TITLES = {
    1: "per-file cost: provsdk's per-file task vs c2pa.Reader + validation (same anchors), "
    "medians over {per_file} files x {repeat}; ratio: median of the paired ratios "
    "(ratio of the medians)",
    2: "{files} files: --workers 2 vs --workers 1, median of {repeat}; speed-up: median of "
    "the paired ratios (ratio of the medians)",
    3: "Ray on this machine, {files} files: records identical to a serial run",
    4: "peak RSS verifying {memory_files} files against {files} (VmHWM)",
}


def render(info: dict[str, Any], rows: list[Figure]) -> str:
    env, inputs, plan = info["environment"], info["inputs"], info["plan"]
    lines = [
        f"provsdk catalogue bench | {env['commit']}",
        f"Python {env['python']} | {env['platform']} | {env['cpus']} CPUs | "
        f"c2pa-python {env['c2pa_python']} | {env['load_before']}, after: {env['load_after']}",
        f"inputs (temp dir, removed after): {inputs['seconds']:g} s generated WAVs "
        f"({inputs['bytes'] / 1000:.0f} kB), signed with a dev PKI; folders hold copies of one",
    ]
    lines += figure_lines(rows, _TITLES, plan, (50, 40, 36, 20))
    counted = [f for f in rows if f.strict]
    missed = [f for f in counted if f.status in ("MISS", "ERROR")]
    lines += [
        "",
        f"targets: {len(counted) - len(missed)} of {len(counted)} ok"
        + (
            f", {sum(f.status == 'N/A' for f in rows)} not available"
            if any(f.status == "N/A" for f in rows)
            else ""
        ),
        f"bench took {info['runtime_s']:.0f} s",
    ]
    return "\n".join(lines)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def _rows(parser: argparse.ArgumentParser, text: str) -> tuple[int, ...]:
    try:
        rows = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        parser.error(f"--rows takes row numbers 1-4 separated by commas, not {text!r}")
    if not rows or not set(rows) <= {1, 2, 3, 4}:
        parser.error(f"--rows takes row numbers 1-4 separated by commas, not {text!r}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.catalogue", description="catalogue verification (bench/README.md)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer files and repetitions")
    parser.add_argument("--per-file", type=int, help="distinct files of row 1 (default 30)")
    parser.add_argument("--files", type=int, help="files of rows 2-3 (default 1000)")
    parser.add_argument("--memory-files", type=int, help="files of row 4 (default 10000)")
    parser.add_argument("--repeat", type=int, help="repetitions (default 7; quick 2)")
    parser.add_argument("--seconds", type=float, help="length of each track (default 2)")
    parser.add_argument(
        "--rows", default="1,2,3,4", help="which rows to measure, e.g. 1,2 (default: all)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    quick = args.quick
    plan = Plan(
        per_file=args.per_file or _env_int("BENCH_CATALOGUE_PER_FILE") or (10 if quick else 30),
        files=args.files or _env_int("BENCH_CATALOGUE_FILES") or (200 if quick else 1000),
        memory_files=args.memory_files
        or _env_int("BENCH_CATALOGUE_MEMORY_FILES")
        or (1000 if quick else 10_000),
        repeat=args.repeat or (2 if quick else 7),
        seconds=args.seconds or 2.0,
        rows=_rows(parser, args.rows),
    )
    if min(plan.per_file, plan.files, plan.memory_files, plan.repeat) < 1 or plan.seconds <= 0:
        parser.error("sizes, --repeat and --seconds must be positive")
    info, rows = measure(plan)
    print(render(info, rows))
    if args.json:
        payload = {**info, "rows": [asdict(f) for f in rows]}
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    missed = [f for f in rows if f.strict and f.status in ("MISS", "ERROR")]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
