"""Mutation fuzzing of signed files, signed statements and timestamp tokens: whatever happens to
the bytes, verification ends with a verdict or a one-line typed error, in bounded time, and a
change to anything signed is never trusted. A small, fixed-seed run for CI; the longer campaign
is `python tests/fuzz_verify_atheris.py` (see its docstring)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tsa_responder import serve_tsa

from provsdk import Client
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
from provsdk.timestamps import check_timestamp
from provsdk.verify import verify_file
from provsdk_cli.main import cli

FORMATS = ("wav", "mp3", "flac", "m4a")
# Per file, per run: far above what a 2-second track takes, far below a hang.
BOUND_SECONDS = 10.0
FILE_CASES = 250  # per format: each takes milliseconds on these one-second tracks
STATEMENT_CASES = 400  # each a few milliseconds: statements are small


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
    # inspect reads the same bytes another way (c2pa's own JSON, every manifest listed).
    started = time.monotonic()
    shown = CliRunner().invoke(cli, ["--home", str(dev_home.root), "inspect", "--json", str(path)])
    assert shown.exit_code in (0, 2), shown.output
    assert "internal error" not in shown.output
    assert time.monotonic() - started < BOUND_SECONDS
    assert path.read_bytes() == before


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
