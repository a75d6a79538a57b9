"""How fast the training-list Merkle commitment is, on one core.

    python -m bench.merkle                    # 1,000,000 entries, median of 3 runs
    python -m bench.merkle --entries 100000 --runs 5

Run it from the repository root. It builds a list of synthetic track ids
(``ISRC-000000000000``, ...) once, untimed, then times two things, each after one untimed
warm-up with the garbage collector off (``bench.timing``):

- ``commitment_of``: the root a provider publishes, streamed, without keeping the tree;
- ``TrainingList`` construction (every level kept) plus one inclusion proof and its
  verification: what a provider does to answer a rightsholder.

It prints the median seconds of each and the entries per second that gives.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

from bench.timing import Task, time_single
from provsdk.disclosure.merkle import TrainingList, commitment_of, verify_inclusion

__all__ = ["main"]


def _pin_to_one_core() -> int | None:
    """Pin to the first allowed CPU, so the figures are per core even on a busy machine."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    first = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {first})
    return first


def _full_tree_and_proof(ids: list[str]) -> None:
    tree = TrainingList(ids)
    # A middle entry, so the proof is a full-depth path rather than a short edge case.
    proof = tree.prove(ids[len(ids) // 2])
    if not verify_inclusion(proof, tree.commitment()):
        raise RuntimeError("the benchmark's own proof did not verify")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.merkle", description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000, help="list size")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (the median is shown)")
    args = parser.parse_args(argv)
    if args.entries < 1 or args.runs < 1:
        parser.error("--entries and --runs must be at least 1")

    cpu = _pin_to_one_core()
    ids = [f"ISRC-{i:012d}" for i in range(args.entries)]
    streamed = time_single(Task(run=lambda: commitment_of(ids)), args.runs)
    full = time_single(Task(run=lambda: _full_tree_and_proof(ids)), args.runs)

    print(
        "Training-list Merkle tree (RFC 6962, SHA-256): seconds to commit to a list of "
        "synthetic track ids, median of timed runs on one core; lower is better."
    )
    pinned = f"pinned to CPU {cpu}" if cpu is not None else "not pinned"
    print(
        f"{args.entries:,} entries, {args.runs} runs, Python {platform.python_version()}, "
        f"{platform.machine()}, {pinned}"
    )
    for label, stats in (
        ("commitment_of (streamed root)", streamed),
        ("TrainingList + 1 proof + verify", full),
    ):
        rate = args.entries / stats.median
        print(
            f"  {label:<33} median {stats.median:7.3f} s  "
            f"(min {stats.min:.3f}, max {stats.max:.3f})  {rate:>12,.0f} entries/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
