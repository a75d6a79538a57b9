"""The manifest store's structure is checked before c2pa reads it (audio/containers/jumbf.py).

The attack, found by the atheris campaign: one byte of a CBOR length in the manifest, changed
so that it declares 1.7 GB, made c2pa reserve that much memory to read a 60 KB file. Here the
same byte is changed in a real file of each format, and verification must fail it with a
reason, in a process whose peak memory stays near what a normal verification takes.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import MEASURED, provsdk_env
from hypothesis import given, settings
from hypothesis import strategies as st

from provsdk import Client
from provsdk.audio.containers import probe
from provsdk.audio.containers.jumbf import MAX_CBOR_DEPTH, manifest_store_problem
from provsdk.home import ProvsdkHome

FORMATS = ("wav", "mp3", "flac", "m4a")
PROMPT = "fuzz seed"  # nine characters: a CBOR text header of one byte, 0x69, in the manifest
MEMORY_LIMIT_MB = 400  # a normal verification of these files peaks near 80 MB


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _store(cbor: bytes) -> bytes:
    """A minimal JUMBF superbox holding a description and one CBOR content box."""
    description = _box(b"jumd", b"c2pa" + bytes(12) + b"\x03c2pa\x00")
    return _box(b"jumb", description + _box(b"cbor", cbor))


# --- the walk itself, on stores made here ------------------------------------------------------


@pytest.mark.parametrize(
    "cbor",
    [
        b"\xa1\x61a\x01",  # {"a": 1}
        b"\x9f\x01\x02\xff",  # [_ 1, 2]
        b"\x7f\x61a\x61b\xff",  # (_ "a", "b")
        b"\xc0\x74" + b"2026-11-26T00:00:00Z",  # tag 0, a date string
        b"\xfb" + struct.pack(">d", 1.5),  # a float
        b"\x5a\x00\x00\x00\x03abc",  # bytes with a 4-byte length that fits
    ],
    ids=["map", "indefinite-array", "indefinite-text", "tag", "float", "long-length"],
)
def test_well_formed_stores_pass(cbor: bytes) -> None:
    assert manifest_store_problem(_store(cbor)) is None


@pytest.mark.parametrize(
    ("cbor", "message"),
    [
        (b"\x7a\x66\x75\x7a\x7a" + b"x" * 20, "string declares"),  # the fuzz finding's shape
        (b"\x9a\x10\x00\x00\x00\x01", "container declares"),  # a 268-million-item array
        (b"\xba\x10\x00\x00\x00\x01\x01", "container declares"),  # a map, likewise
        (b"\x9f\x01\x02", "has no end"),
        (b"\x81" * (MAX_CBOR_DEPTH + 2) + b"\x01", "nested deeper"),
        (b"\x1c", "malformed CBOR"),
        (b"\x7f\x41a\xff", "another type"),
    ],
    ids=["huge-string", "huge-array", "huge-map", "no-break", "deep", "reserved", "mixed-chunks"],
)
def test_lying_lengths_are_found(cbor: bytes, message: str) -> None:
    problem = manifest_store_problem(_store(cbor))
    assert problem is not None and message in problem


@pytest.mark.parametrize("wrapper", [b"\x81", b"\xc1", b"\xa1\x00"], ids=["array", "tag", "map"])
def test_nesting_is_counted_to_the_limit_exactly(wrapper: bytes) -> None:
    # The innermost item of MAX_CBOR_DEPTH containers sits at depth MAX_CBOR_DEPTH: allowed;
    # one container more is refused, whatever kind of container nests.
    assert manifest_store_problem(_store(wrapper * MAX_CBOR_DEPTH + b"\x01")) is None
    problem = manifest_store_problem(_store(wrapper * (MAX_CBOR_DEPTH + 1) + b"\x01"))
    assert problem is not None and "nested deeper" in problem


def test_items_after_a_nested_container_are_still_walked() -> None:
    # [[1], "<a string that lies>"]: the walk must come back out of the inner array.
    problem = manifest_store_problem(_store(b"\x82\x81\x01\x7a\x10\x00\x00\x00"))
    assert problem is not None and "string declares" in problem


def test_a_box_larger_than_its_parent_is_found() -> None:
    store = bytearray(_store(b"\x01"))
    inner = store.index(b"cbor") - 4
    store[inner : inner + 4] = struct.pack(">I", 1 << 30)
    problem = manifest_store_problem(bytes(store))
    assert problem is not None and "declares 1073741824 bytes" in problem


def test_a_carrier_without_a_store_is_left_to_c2pa() -> None:
    assert manifest_store_problem(b"not a manifest at all") is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(tail=st.binary(max_size=200))
def test_the_walk_never_raises(tail: bytes) -> None:
    result = manifest_store_problem(_store(tail))
    assert result is None or (isinstance(result, str) and "\n" not in result)


# --- the attack on real files, end to end -------------------------------------------------


@pytest.fixture(scope="module")
def bombs(dev_home: ProvsdkHome, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated file of each format whose manifest declares a 1.7 GB CBOR text."""
    folder = tmp_path_factory.mktemp("cbor-bombs")
    out: dict[str, Path] = {}
    with Client(home=dev_home) as client:
        for fmt in FORMATS:
            track = client.generate(PROMPT, out=folder / f"seed.{fmt}", duration=0.5, seed=5)
            data = bytearray(track.path.read_bytes())
            at = data.index(b"\x69" + PROMPT.encode())
            data[at] = 0x7A  # a text with a 4-byte length: "fuzz" read as 1,718,975,098
            bomb = folder / f"cbor-text-length-bomb.{fmt}"
            bomb.write_bytes(bytes(data))
            out[fmt] = bomb
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_finds_the_bomb(fmt: str, bombs: dict[str, Path]) -> None:
    info = probe(bombs[fmt])
    assert info.manifest is not None
    assert info.manifest_problem is not None
    assert "declares 1718975098 bytes" in info.manifest_problem


# Runs the command and prints its own peak memory last: RUSAGE_CHILDREN would report the
# largest of every child this test session ever started, not this one.


def _measured(home: ProvsdkHome, *args: str) -> tuple[subprocess.CompletedProcess[str], int, str]:
    """The command's result, its peak memory in MB, and its stderr without the measurement."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *args],
        capture_output=True,
        text=True,
        env=provsdk_env(home.root),
        timeout=120,
    )
    errors, _, peak = result.stderr.rpartition("peak-mb ")
    return result, int(peak.split()[0]), errors


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_verifying_the_bomb_fails_in_bounded_memory(
    fmt: str, bombs: dict[str, Path], dev_home: ProvsdkHome
) -> None:
    result, peak, errors = _measured(dev_home, "verify", "--json", str(bombs[fmt]))
    assert peak < MEMORY_LIMIT_MB, f"verification peaked at {peak} MB"
    assert result.returncode == 1, errors
    entry = json.loads(result.stdout)["files"][0]
    assert entry["c2pa"]["state"] == "Invalid"
    assert any(r.startswith("manifest.unreadable") for r in entry["reasons"]), entry["reasons"]


@pytest.mark.slow
def test_signing_over_the_bomb_is_refused_in_one_line(
    bombs: dict[str, Path], dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    out = tmp_path / "never.mp3"
    result, peak, errors = _measured(dev_home, "sign", str(bombs["mp3"]), "-o", str(out))
    assert peak < MEMORY_LIMIT_MB, f"signing peaked at {peak} MB"
    assert result.returncode == 2
    lines = errors.strip().splitlines()
    assert len(lines) == 1 and "manifest store" in lines[0]
    assert not out.exists()
