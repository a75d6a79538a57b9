"""The signing-heavy tests again, with c2pa's own whole-file writer as the default strategy.

The suite runs with the data-hashed strategy as the default for WAV, MP3 and FLAC; both
strategies must keep producing files that verify, carry their history and catch tampering,
so the tests that sign or judge signed files run a second time, in a child pytest, with
``PROVSDK_SIGNING_STRATEGY=c2pa-builder``. (The whole suite passes under either; this keeps
CI inside its time budget while guarding the second path on every run.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import clean_environ

from provsdk.sign.strategy import STRATEGY_ENV

HERE = Path(__file__).resolve().parent
SIGNING_TESTS = (
    "test_sign.py",
    "test_data_hashed.py",
    "test_tamper_matrix.py",
    "test_audio_formats.py",
    "test_verify.py",
    "test_crash_safety.py",
    "test_disclosure_grants.py",
    "test_timestamps.py",
    "test_interop_c2pa_ts.py",
)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get(STRATEGY_ENV) == "c2pa-builder",
    reason="this whole run already signs with c2pa's own writer",
)
def test_signing_tests_pass_with_c2pas_own_writer(tmp_path: Path) -> None:
    env = clean_environ()
    env[STRATEGY_ENV] = "c2pa-builder"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "child"),
            *(str(HERE / name) for name in SIGNING_TESTS),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
