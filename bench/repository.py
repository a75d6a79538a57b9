"""How fast a SQLite manifest repository answers ``matches_by_content`` at a million entries.

    python -m bench.repository                  # 1,000,000 entries (several minutes to build)
    python -m bench.repository --entries 200000 --queries 30

The repository is built in a temporary folder (removed afterwards) from synthetic entries:
random 64-bit Audio-Codes and random fingerprints of ``--values`` sub-fingerprints (96, about
12 s: just over the 10 s an alignment needs). Random values are the hard case for the excerpt
index, since every key is distinct and stored; real Chromaprint values repeat more. A few
probe entries get a fingerprint whose code is computed by iscc-core, as at signing, so that a
noisy copy of one lands near it in the banded index.

Timed, each as the median of ``--queries`` lookups on the warm repository:

- (a) a registered probe, its fingerprint disturbed as a re-encode does (low bits of one value
  in five flipped), so its Audio-Code differs in a few bits: it must be found;
- (b) an unregistered random fingerprint: nothing may be found;
- (c) an excerpt of a probe (its last 85 values): found through the sub-fingerprint index;
- (d) an unregistered fingerprint three minutes long (1,450 values), the usual query of a
  whole track: four times the keys to look up, and nothing may be found.

The target is under 50 ms per lookup at 1,000,000 entries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from provsdk.repository.sqlite import Entry, SqliteRepository
from provsdk.softbinding.audio_code import AudioCode, audio_code
from provsdk.softbinding.fingerprint import Fingerprint

__all__ = ["main", "synthetic_store"]

TARGET_MS = 50.0
_BATCH = 20_000


def synthetic_store(label: str) -> bytes:
    """The smallest JUMBF superbox that passes the repository's store checks for ``label``."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body) + 8) + kind + body

    def description(type_id: bytes, name: str) -> bytes:
        return box(b"jumd", type_id + bytes(12) + b"\x03" + name.encode() + b"\0")

    manifest = box(b"jumb", description(b"c2ma", label))
    return box(b"jumb", description(b"c2pa", "c2pa") + manifest)


def _random_fingerprint(rng: random.Random, values: int) -> Fingerprint:
    return Fingerprint(tuple(rng.getrandbits(32) for _ in range(values)))


def _reencoded(fp: Fingerprint, rng: random.Random) -> Fingerprint:
    return Fingerprint(
        tuple(v ^ (1 << rng.randrange(3)) if rng.random() < 0.2 else v for v in fp.values)
    )


def _entries(
    count: int, values: int, probes: dict[int, Fingerprint], rng: random.Random
) -> Iterator[Entry]:
    for i in range(count):
        label = f"urn:c2pa:{i:08d}-bench"
        if i in probes:
            fp = probes[i]
            code = audio_code(fp)
        else:
            fp = _random_fingerprint(rng, values)
            code = AudioCode(iscc="ISCC:synthetic", bits=rng.getrandbits(64))
        yield Entry(synthetic_store(label), label, code, fp)


def _median_ms(lookup: Callable[[Fingerprint], object], queries: list[Fingerprint]) -> float:
    lookup(queries[0])  # warm: imports, the page cache
    times = []
    for query in queries:
        start = time.perf_counter()
        lookup(query)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--values", type=int, default=96, help="sub-fingerprints per entry")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    rng = random.Random(20260602)
    probe_ids = rng.sample(range(args.entries), min(args.queries, args.entries))
    probes = {i: _random_fingerprint(rng, args.values) for i in probe_ids}
    with tempfile.TemporaryDirectory(prefix="provsdk-bench-repo-") as folder:
        path = Path(folder) / "repository.sqlite"
        repo = SqliteRepository(path, create=True)
        start = time.perf_counter()
        batch: list[Entry] = []
        done = 0
        for entry in _entries(args.entries, args.values, probes, rng):
            batch.append(entry)
            if len(batch) == _BATCH:
                done += repo.publish_many(batch)
                batch.clear()
                if done % 200_000 == 0:
                    rate = done / (time.perf_counter() - start)
                    print(f"  {done:>9,} entries, {rate:,.0f}/s", file=sys.stderr)
        done += repo.publish_many(batch)
        built = time.perf_counter() - start
        size = repo.stats().size
        print(f"built {done:,} entries in {built:.1f} s ({done / built:,.0f}/s)")
        print(f"database: {size / 2**20:,.0f} MiB ({size / done:,.0f} bytes per entry)")

        labels = {i: f"urn:c2pa:{i:08d}-bench" for i in probe_ids}
        near = [_reencoded(probes[i], rng) for i in probe_ids]
        excerpts = [Fingerprint(probes[i].values[-85:]) for i in probe_ids]
        strangers = [_random_fingerprint(rng, args.values) for _ in probe_ids]
        long_strangers = [_random_fingerprint(rng, 1450) for _ in probe_ids]

        def found(queries: list[Fingerprint]) -> int:
            return sum(
                bool(m) and m[0].manifest == labels[i]
                for i, m in zip(probe_ids, map(repo.matches_by_content, queries), strict=True)
            )

        rows = [
            ("(a) registered, re-encoded", near, found(near), len(near)),
            (
                "(b) unregistered",
                strangers,
                sum(not repo.matches_by_content(q) for q in strangers),
                len(strangers),
            ),
            ("(c) excerpt, last 85 values", excerpts, found(excerpts), len(excerpts)),
            (
                "(d) unregistered, 3 minutes",
                long_strangers,
                sum(not repo.matches_by_content(q) for q in long_strangers),
                len(long_strangers),
            ),
        ]
        print(
            f"\nmatches_by_content at {done:,} entries (median of {args.queries}; target "
            f"< {TARGET_MS:g} ms)"
        )
        worst = 0.0
        for name, queries, right, total in rows:
            ms = _median_ms(repo.matches_by_content, queries)
            worst = max(worst, ms)
            print(f"  {name:<30} {ms:7.2f} ms   answered right: {right}/{total}")
        print(f"  {'target met' if worst < TARGET_MS else 'TARGET MISSED'}")
        repo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
