"""Mutation fuzzing of signed files, signed statements and timestamp tokens: whatever happens to
the bytes, verification ends with a verdict or a one-line typed error, in bounded time, and a
change to anything signed is never trusted. A small, fixed-seed run for CI; the longer campaign
is `python tests/fuzz_verify_atheris.py` (see its docstring)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tsa_responder import serve_tsa

from provsdk import Client
from provsdk.audio.containers import probe
from provsdk.credentials import Role, TrustConfig, TrustStore, load_signer
from provsdk.errors import InputError, ProvsdkError
from provsdk.grants.statement import GRANT_STATEMENT
from provsdk.home import ProvsdkHome
from provsdk.jws import (
    read_statement,
    sign_statement,
    timestamp_statement,
    verify_statement,
)
from provsdk.models import C2paState
from provsdk.timestamps import check_timestamp
from provsdk.verify import verify_file
from provsdk_cli.main import cli

FORMATS = ("wav", "mp3", "flac", "m4a")
# Per file, per run: far above what a 2-second track takes, far below a hang.
BOUND_SECONDS = 10.0
FILE_CASES = 250  # per format: each takes milliseconds on these one-second tracks
STATEMENT_CASES = 400  # each a few milliseconds: statements are small


@dataclass(frozen=True)
class Original:
    data: bytes
    # The coded audio as (offset, length) ranges: bytes the hard binding covers in every
    # container (a data hash over all but the manifest, or a BMFF hash over the mdat).
    audio: tuple[tuple[int, int], ...]


@pytest.fixture(scope="module")
def originals(
    dev_home: ProvsdkHome, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Original]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    made: dict[str, Original] = {}
    with Client(home=dev_home) as client:
        for fmt in FORMATS:
            path = client.generate("fuzz", out=folder / f"o.{fmt}", duration=1.0, seed=1).path
            audio = probe(path).essence
            assert audio, fmt
            made[fmt] = Original(path.read_bytes(), audio)
    return made


def _mutations() -> st.SearchStrategy[list[tuple[str, int, int]]]:
    # (kind, position as a fraction of the file in 1/10000ths, value)
    one = st.tuples(
        st.sampled_from(["flip", "truncate", "huge-size", "zero", "insert"]),
        st.integers(0, 9999),
        st.integers(0, 255),
    )
    return st.lists(one, min_size=1, max_size=4)


def _mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    return _mutate_tracked(data, mutations)[0]


def _mutate_tracked(data: bytes, mutations: list[tuple[str, int, int]]) -> tuple[bytes, list[int]]:
    """The mutated bytes, and for each of them the offset of the original byte it stands at
    (changed or not), or -1 for a byte the mutations inserted."""
    out = bytearray(data)
    origin = list(range(len(data)))
    for kind, where, value in mutations:
        if not out:
            break
        at = where * len(out) // 10000
        if kind == "flip":
            out[at] ^= 1 << (value % 8)
        elif kind == "truncate":
            del out[at:]
            del origin[at:]
        elif kind == "huge-size":
            # A 32-bit size field, in either byte order, set near its maximum.
            out[at : at + 4] = (b"\xff\xff\xff" + bytes([value]))[: len(out) - at]
        elif kind == "zero":
            out[at : at + 16] = bytes(min(16, len(out) - at))
        else:
            count = value % 9 + 1
            out[at:at] = bytes([value]) * count
            origin[at:at] = [-1] * count
    return bytes(out), origin


def _intact(
    original: bytes, mutated: bytes, origin: list[int], ranges: tuple[tuple[int, int], ...]
) -> bool:
    """Whether every range of ``original`` survives in ``mutated`` in one piece (nothing cut
    out of it or inserted into it) with the same bytes."""
    for offset, length in ranges:
        try:
            at = origin.index(offset)
        except ValueError:
            return False
        if origin[at : at + length] != list(range(offset, offset + length)):
            return False
        if mutated[at : at + length] != original[offset : offset + length]:
            return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@settings(
    max_examples=FILE_CASES,
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
    original = originals[fmt]
    mutated, origin = _mutate_tracked(original.data, mutations)
    path = tmp_path / f"m.{fmt}"
    path.write_bytes(mutated)
    before = path.read_bytes()
    started = time.monotonic()
    try:
        report = verify_file(path, trust=TrustConfig.load(dev_home))
    except ProvsdkError as exc:
        assert "\n" not in str(exc)
    else:
        if mutated == original.data:
            # Mutations that wrote back the bytes already there: still the signed file.
            assert report.passed, report.reasons
        if not _intact(original.data, mutated, origin, original.audio):
            # The mutations changed, cut or split the coded audio, which the hard binding
            # covers: whatever else they did, the file is never Trusted and never passes.
            assert report.integrity.state is not C2paState.TRUSTED, mutations
            assert not report.passed, mutations
    assert time.monotonic() - started < BOUND_SECONDS
    # inspect reads the same bytes another way (c2pa's own JSON, every manifest listed).
    started = time.monotonic()
    shown = CliRunner().invoke(cli, ["--home", str(dev_home.root), "inspect", "--json", str(path)])
    assert shown.exit_code in (0, 2), shown.output
    assert "internal error" not in shown.output
    assert time.monotonic() - started < BOUND_SECONDS
    assert path.read_bytes() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_flipped_bit_of_the_audio_is_never_trusted(
    fmt: str, originals: dict[str, Original], dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    """The fuzzing's check, on one mutation it must catch: the middle byte of the audio."""
    original = originals[fmt]
    offset, length = original.audio[0]
    where = (offset + length // 2) * 10000 // len(original.data) + 1
    mutated, origin = _mutate_tracked(original.data, [("flip", where, 0)])
    assert not _intact(original.data, mutated, origin, original.audio)
    twice, same = _mutate_tracked(original.data, [("flip", where, 0)] * 2)
    assert twice == original.data and _intact(original.data, twice, same, original.audio)
    path = tmp_path / f"m.{fmt}"
    path.write_bytes(mutated)
    report = verify_file(path, trust=TrustConfig.load(dev_home))
    assert report.integrity.state is not C2paState.TRUSTED
    assert not report.passed


# --- signed statements and their timestamps: the other input an attacker writes ---------------


@pytest.fixture(scope="module")
def stamped_grant(dev_home: ProvsdkHome) -> tuple[str, TrustStore]:
    """A licensor-signed grant with an RFC 3161 token, and the store trusting its authority."""
    licensor = load_signer(Role.LICENSOR, home=dev_home, use_env=False)
    token = sign_statement({"uid": "urn:fuzz", "terms": ["x"] * 4}, licensor, GRANT_STATEMENT)
    with serve_tsa() as (url, authority):
        stamped = timestamp_statement(token, url)
    return stamped, TrustStore(Role.TIMESTAMP, (authority.credentials.root,))


def _mutate_text(text: str, mutations: list[tuple[str, int, int]]) -> str:
    # Mutate the ASCII, then the base64 inside it decodes to mutated DER and JSON: the x5c
    # certificates, the header, the payload, the signature and the timestamp token.
    return _mutate(text.encode("ascii"), mutations).decode("latin-1")


@pytest.mark.slow
@settings(max_examples=STATEMENT_CASES, deadline=None, derandomize=True)
@given(mutations=_mutations())
def test_mutated_statements_never_crash_verification(
    mutations: list[tuple[str, int, int]],
    stamped_grant: tuple[str, TrustStore],
    trust: TrustConfig,
) -> None:
    stamped, authorities = stamped_grant
    for token in (stamped, read_statement(stamped).compact):
        mutated = _mutate_text(token, mutations)
        try:
            check = verify_statement(mutated, trust.licensor, timestamps=authorities)
        except InputError as exc:
            assert "\n" not in str(exc)
        else:
            assert check.trusted in (True, False)
            # A change to what was signed is never trusted; a changed token is never used.
            if check.trusted:
                assert read_statement(mutated).compact == read_statement(token).compact
            if check.timestamp is not None and check.timestamp.trusted:
                assert read_statement(mutated).timestamp == read_statement(token).timestamp


@pytest.mark.slow
@settings(max_examples=STATEMENT_CASES, deadline=None, derandomize=True)
@given(mutations=_mutations())
def test_mutated_timestamp_tokens_are_reported_never_raised(
    mutations: list[tuple[str, int, int]], stamped_grant: tuple[str, TrustStore]
) -> None:
    stamped, authorities = stamped_grant
    statement = read_statement(stamped)
    assert statement.timestamp is not None
    der = _mutate(statement.timestamp, mutations)
    check = check_timestamp(der, statement.signature_value, authorities)
    if der != statement.timestamp:
        assert not check.trusted or check.problems == ()
    assert all("\n" not in p for p in check.problems)
