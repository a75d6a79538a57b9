"""Mutation fuzzing of signed files: whatever happens to the bytes, verify and inspect end with
a verdict or a one-line typed error, in bounded time. A small, fixed-seed run for CI; the longer
campaign is `python tests/fuzz_verify_atheris.py` (see its docstring)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provsdk import Client
from provsdk.credentials import TrustConfig
from provsdk.errors import ProvsdkError
from provsdk.home import ProvsdkHome
from provsdk.verify import verify_file

FORMATS = ("wav", "mp3", "flac", "m4a")
# Per file, per run: far above what a 2-second track takes, far below a hang.
BOUND_SECONDS = 10.0


@pytest.fixture(scope="module")
def originals(dev_home: ProvsdkHome, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    with Client(home=dev_home) as client:
        return {
            fmt: client.generate(
                "fuzz", out=folder / f"o.{fmt}", duration=1.0, seed=1
            ).path.read_bytes()
            for fmt in FORMATS
        }


def _mutations() -> st.SearchStrategy[list[tuple[str, int, int]]]:
    # (kind, position as a fraction of the file in 1/10000ths, value)
    one = st.tuples(
        st.sampled_from(["flip", "truncate", "huge-size", "zero", "insert"]),
        st.integers(0, 9999),
        st.integers(0, 255),
    )
    return st.lists(one, min_size=1, max_size=4)


def _mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value in mutations:
        if not out:
            break
        at = where * len(out) // 10000
        if kind == "flip":
            out[at] ^= 1 << (value % 8)
        elif kind == "truncate":
            del out[at:]
        elif kind == "huge-size":
            # A 32-bit size field, in either byte order, set near its maximum.
            out[at : at + 4] = (b"\xff\xff\xff" + bytes([value]))[: len(out) - at]
        elif kind == "zero":
            out[at : at + 16] = bytes(min(16, len(out) - at))
        else:
            out[at:at] = bytes([value]) * (value % 9 + 1)
    return bytes(out)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same cases in every CI run; the atheris campaign explores
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=_mutations())
def test_mutated_signed_files_never_crash_verification(
    fmt: str,
    mutations: list[tuple[str, int, int]],
    originals: dict[str, bytes],
    dev_home: ProvsdkHome,
    tmp_path: Path,
) -> None:
    path = tmp_path / f"m.{fmt}"
    path.write_bytes(_mutate(originals[fmt], mutations))
    before = path.read_bytes()
    started = time.monotonic()
    try:
        report = verify_file(path, trust=TrustConfig.load(dev_home))
    except ProvsdkError as exc:
        assert "\n" not in str(exc)
    else:
        # A mutation can leave the file intact only if it touched no byte that matters;
        # whatever the verdict, it was reached.
        assert report.verdict.value in ("pass", "fail")
    assert time.monotonic() - started < BOUND_SECONDS
    assert path.read_bytes() == before
