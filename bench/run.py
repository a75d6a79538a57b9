"""provsdk benchmarks: signing and verification against raw c2pa-python, the I/O floor, peak
memory, and the local generator's speed. See bench/README.md.

    python bench/run.py            # the full run (180 s file, 7 repetitions)
    python bench/run.py --quick    # smoke run (30 s file, 3 repetitions)
"""

# ruff: noqa: E402  (the path set-up below must run before the bench and provsdk imports)

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    # Run as a script: the bench folder itself is sys.path[0]. Put the repository root there
    # instead, so `bench` imports as a package and an uninstalled provsdk is found.
    sys.path[0] = str(_REPO)

import argparse
import json
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from bench import ops
from bench.inputs import Credentials, make_credentials, write_noise_wav
from bench.timing import Stats, Task, time_pair, time_single
from bench.workers import run_worker
from provsdk.models import Verdict

__all__ = ["main"]

SIGN_TARGET = 1.10  # provsdk's signing may cost at most 10 % more than raw c2pa
VERIFY_TARGET = 1.10
GENERATOR_TARGET = 100.0  # seconds of audio rendered per second, on one core
GENERATOR_REPEAT = 5
DEFAULT_SECONDS = 180.0  # the targets are set for a 3-minute track
MB = 1_000_000


@dataclass
class Results:
    """Every figure of one run; written as JSON with --json."""

    environment: dict[str, Any]
    input: dict[str, Any]
    timings: dict[str, Stats] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    generator: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "input": self.input,
            "timings": {k: v.as_dict() for k, v in self.timings.items()},
            "ratios": self.ratios,
            "memory": self.memory,
            "generator": self.generator,
            "targets": self.targets,
        }


def _environment() -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "c2pa_python": version("c2pa-python"),
        "numpy": version("numpy"),
    }


def _sanity(work: Path, src: Path, creds: Credentials) -> Path:
    """Check both sides produce files c2pa trusts; returns a signed file to verify.

    Timing a path that quietly fails (an untrusted signature, an error caught and reported)
    would compare unequal work, so a broken set-up stops the run instead.
    """
    target = work / "verify-target.wav"
    ops.ours_sign(src, target, creds)()
    report = ops.ours_verify(target, creds)()
    if report.verdict is not Verdict.PASS:
        raise RuntimeError(f"provsdk-signed file does not verify: {report.integrity.state}")
    raw_out = work / "sanity-raw.wav"
    ops.raw_sign(src, raw_out, creds)()
    for path in (target, raw_out):
        state = ops.raw_state(path, creds)
        if state != "Trusted":
            raise RuntimeError(f"c2pa reports {path.name} as {state!r}, expected 'Trusted'")
    raw_out.unlink()
    return target


def _remover(path: Path) -> Callable[[], None]:
    """Untimed set-up: every timed write goes to a new file, as signing usually does.

    Overwriting would make each side also pay for freeing the previous output's blocks, and
    the two sides free them differently (rename over it vs truncate it).
    """
    return lambda: path.unlink(missing_ok=True)


def _target(
    name: str, value: float | None, limit: float, at_most: bool, note: str = "", error: bool = False
) -> dict[str, Any]:
    if error:
        status = "ERROR"
    elif value is None:
        status = "SKIP"
    elif (value <= limit) if at_most else (value >= limit):
        status = "PASS"
    else:
        status = "FAIL"
    return {"target": name, "value": value, "limit": limit, "status": status, "note": note}


def measure(seconds: float, repeat: int, gen_repeat: int) -> Results:
    with tempfile.TemporaryDirectory(prefix="provsdk-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        src = work / "input.wav"
        size = write_noise_wav(src, seconds)
        creds = make_credentials(home)
        # Workers import bench and provsdk from this checkout, whatever the current folder.
        path = [str(_REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PROVSDK_HOME": str(home), "PYTHONPATH": os.pathsep.join(path)}
        res = Results(
            environment=_environment(),
            input={
                "seconds": seconds,
                "bytes": size,
                "repeat": repeat,
                "format": "44.1 kHz 16-bit stereo",
            },
        )

        target = _sanity(work, src, creds)
        t = res.timings
        out_ours, out_raw, copy = work / "out-ours.wav", work / "out-raw.wav", work / "copy.wav"
        t["sign_ours"], t["sign_raw"] = time_pair(
            Task(ops.ours_sign(src, out_ours, creds), setup=_remover(out_ours)),
            Task(ops.raw_sign(src, out_raw, creds), setup=_remover(out_raw)),
            repeat,
        )
        t["verify_ours"], t["verify_raw"] = time_pair(
            Task(ops.ours_verify(target, creds)), Task(ops.raw_verify(target, creds)), repeat
        )
        t["floor"] = time_single(Task(ops.floor(src, copy), setup=_remover(copy)), repeat)
        # The floor's two halves, to tell hashing from writing when reading the ratios.
        t["floor_sha256"] = time_single(Task(ops.sha256_pass(src)), repeat)
        t["floor_copy"] = time_single(Task(ops.copy_pass(src, copy), setup=_remover(copy)), repeat)

        r = res.ratios
        r["sign_ours_over_raw"] = t["sign_ours"].median / t["sign_raw"].median
        r["verify_ours_over_raw"] = t["verify_ours"].median / t["verify_raw"].median
        for key in ("sign_ours", "sign_raw", "verify_ours", "verify_raw"):
            r[f"{key}_over_floor"] = t[key].median / t["floor"].median

        for which in ("ours", "raw"):
            mem = run_worker(
                ["memory", which, str(src), str(work / f"mem-{which}.wav"), str(home)], env
            )
            mem["extra_over_file"] = mem["peak_extra_bytes"] / size
            res.memory[which] = mem

        res.generator = run_worker(["generator", str(seconds), str(gen_repeat)], env)
        res.generator["repeat"] = gen_repeat

    gen = res.generator
    res.targets = [
        _target(f"sign <= {SIGN_TARGET:.2f}x raw c2pa", r["sign_ours_over_raw"], SIGN_TARGET, True),
        _target(
            f"verify <= {VERIFY_TARGET:.2f}x raw c2pa",
            r["verify_ours_over_raw"],
            VERIFY_TARGET,
            True,
        ),
        _target(
            f"generator >= {GENERATOR_TARGET:.0f}x real time",
            gen.get("realtime_multiple"),
            GENERATOR_TARGET,
            False,
            note=gen.get("error") or gen.get("reason") or "",
            error="error" in gen,
        ),
    ]
    return res


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def render(res: Results) -> str:
    env, inp, t, r = res.environment, res.input, res.timings, res.ratios
    size = inp["bytes"]
    lines = [
        f"provsdk bench | Python {env['python']} | {env['platform']} | {env['cpus']} CPUs | "
        f"c2pa-python {env['c2pa_python']}",
        f"input: {inp['seconds']:g} s {inp['format']} WAV, {size / MB:.1f} MB (temp dir) | "
        f"{inp['repeat']} repetitions, medians",
        "",
        f"{'time':<26}{'median':>11}{'min':>12}{'max':>12}{'MB/s':>8}",
    ]
    names = {
        "sign_ours": "sign    provsdk",
        "sign_raw": "sign    raw c2pa",
        "verify_ours": "verify  provsdk",
        "verify_raw": "verify  raw c2pa",
        "floor": "floor   sha256 + copy",
        "floor_sha256": "  of which sha256",
        "floor_copy": "  of which copy",
    }
    for key, label in names.items():
        s = t[key]
        lines.append(
            f"{label:<26}{_ms(s.median):>11}{_ms(s.min):>12}{_ms(s.max):>12}"
            f"{size / MB / s.median:8.0f}"
        )
    lines += ["", f"{'ratio (of medians)':<34}{'value':>8}"]
    for key, label in (
        ("sign_ours_over_raw", "sign    provsdk / raw c2pa"),
        ("verify_ours_over_raw", "verify  provsdk / raw c2pa"),
        ("sign_ours_over_floor", "sign    provsdk / floor"),
        ("sign_raw_over_floor", "sign    raw c2pa / floor"),
        ("verify_ours_over_floor", "verify  provsdk / floor"),
        ("verify_raw_over_floor", "verify  raw c2pa / floor"),
    ):
        lines.append(f"{label:<34}{r[key]:7.2f}x")
    lines += ["", f"{'peak extra memory, one sign':<34}{'MB':>8}{'x file':>9}"]
    for which, label in (("ours", "sign    provsdk"), ("raw", "sign    raw c2pa")):
        m = res.memory[which]
        lines.append(f"{label:<34}{m['peak_extra_bytes'] / MB:8.1f}{m['extra_over_file']:8.2f}x")
    gen = res.generator
    lines.append("")
    if "error" in gen:
        lines.append(f"local generator: {gen['error']}")
    elif gen.get("available"):
        lines.append(
            f"local generator: {gen['audio_seconds']:g} s stereo 44.1 kHz on CPU {gen['cpu']}, "
            f"median of {gen['repeat']}: {gen['median_s']:.2f} s "
            f"(min {gen['min_s']:.2f}, max {gen['max_s']:.2f}) -> "
            f"{gen['realtime_multiple']:.0f}x real time"
        )
        frames = round(gen["audio_seconds"] * 44_100)
        if gen.get("shape") != [frames, 2] or gen.get("dtype") != "int16":
            lines.append(
                f"  note: expected int16 ({frames}, 2), "
                f"got {gen.get('dtype')} {tuple(gen.get('shape') or ())}"
            )
    else:
        lines.append(f"local generator: skipped ({gen.get('reason')})")
    lines += ["", "targets"]
    for tg in res.targets:
        value = "" if tg["value"] is None else f"{tg['value']:.2f}x"
        note = "  (not measured)" if tg["value"] is None else ""
        lines.append(f"  {tg['status']:<5} {tg['target']:<28}{value:>9}{note}")
    if inp["seconds"] < DEFAULT_SECONDS:
        lines.append(
            f"  note: the targets are set for a {DEFAULT_SECONDS:g} s file; on a shorter one the "
            "fixed per-file costs (fsync, probing) weigh more"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py", description="provsdk benchmarks (see bench/README.md)"
    )
    parser.add_argument("--repeat", type=int, help="timed repetitions per operation (default 7)")
    parser.add_argument("--seconds", type=float, help="length of the test file (default 180)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 30 s file, 3 repetitions")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a target is missed or errored (default: exit 0)",
    )
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (3 if args.quick else 7)
    seconds = (
        args.seconds if args.seconds is not None else (30.0 if args.quick else DEFAULT_SECONDS)
    )
    if repeat < 1 or seconds <= 0:
        parser.error("--repeat and --seconds must be positive")
    # The quick run is a smoke test: the generator renders the same short length, fewer times.
    gen_repeat = min(repeat, 3) if args.quick else GENERATOR_REPEAT

    res = measure(seconds, repeat, gen_repeat)
    print(render(res))
    if args.json:
        args.json.write_text(json.dumps(res.as_dict(), indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    missed = [tg for tg in res.targets if tg["status"] in ("FAIL", "ERROR")]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
