"""64 generations at concurrency 16 against the reference server with injected latency.

    python -m bench.concurrency [--generations 64] [--concurrency 16] [--latency 0.2]
                                [--duration 1.0] [--repeat 3]

What it measures: how well the client overlaps waiting on a provider. The same batch runs
twice against a server on 127.0.0.1: once with no injected latency (the pure work: rendering,
encoding, downloading, signing, verifying — bounded by this machine's cores) and once with
the latency added to every generation job. The ideal for the second is
``waves x latency + work``, waves being generations / concurrency: latency fully overlapped,
each wave waiting once. Prints the medians and the ratio; target <= 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path

from provsdk import AsyncClient
from provsdk.audio.formats import AudioFormat
from provsdk.batch import BatchItem, run_batch
from provsdk.credentials import TrustConfig, init_dev_pki
from provsdk.home import ProvsdkHome
from provsdk.providers.http import HttpProvider
from provsdk.server import ServerConfig, ServerThread

KEY = "bench-key-0123456789"


def _items(folder: Path, count: int, duration: float) -> list[BatchItem]:
    return [
        BatchItem(i + 1, f"bench track {i}", folder / f"{i:03d}.wav", duration, i, AudioFormat.WAV)
        for i in range(count)
    ]


def _run_once(home: ProvsdkHome, latency: float, args: argparse.Namespace) -> float:
    config = ServerConfig(
        home=home,
        api_keys=frozenset({KEY}),
        latency=latency,
        workers=args.concurrency,  # the server must not be the one queueing the waits
        rate_limit=1000.0,
        # One key makes the whole batch: the per-key bounds (4 outstanding, 600 s stored by
        # default) would answer 429s and measure the client's backoff instead of its overlap.
        max_outstanding=max(1, args.generations),
        max_stored_seconds=max(600, math.ceil(args.generations * args.duration)),
    )
    with ServerThread(config) as server, tempfile.TemporaryDirectory() as out:
        client = AsyncClient(
            HttpProvider(server.url, api_key=KEY), home=home, trust=TrustConfig.load(home)
        )
        items = _items(Path(out), args.generations, args.duration)
        start = time.perf_counter()
        results = asyncio.run(run_batch(client, items, concurrency=args.concurrency))
        elapsed = time.perf_counter() - start
        client.close()
    failed = [r for r in results if r.status != "generated"]
    if failed:
        raise SystemExit(
            f"{len(failed)} generations failed, e.g. row {failed[0].item.row}: {failed[0].error}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds of audio each")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = ProvsdkHome(folder)
        init_dev_pki(home)
        work, loaded = [], []
        for _ in range(args.repeat):  # interleaved, so drift affects both alike
            work.append(_run_once(home, 0.0, args))
            loaded.append(_run_once(home, args.latency, args))
    waves = -(-args.generations // args.concurrency)
    work_median, loaded_median = statistics.median(work), statistics.median(loaded)
    ideal = waves * args.latency + work_median
    ratio = loaded_median / ideal
    print(f"{args.generations} generations of {args.duration:g} s, concurrency {args.concurrency}, "
          f"{args.repeat} repetitions (medians)")  # fmt: skip

    def line(label: str, values: list[float], median: float) -> None:
        print(f"  {label:<30} {median:7.2f} s  (min {min(values):.2f}, max {max(values):.2f})")

    line("work alone (no latency)", work, work_median)
    line(f"with {args.latency * 1000:.0f} ms latency per job", loaded, loaded_median)
    print(f"  ideal = {waves} waves x {args.latency:g} s + work = {ideal:7.2f} s")
    verdict = "PASS" if ratio <= 1.3 else "FAIL"
    print(f"  {verdict}  with latency / ideal = {ratio:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
