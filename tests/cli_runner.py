"""Running the real `provsdk` command in a subprocess, as a user's shell would, for the tests.

A plain module (imported as ``from cli_runner import run_cli``; pytest puts tests/ on the path)
so that every CLI test starts the command the same way: a clean environment with no PROVSDK_*
variables but the ones the test gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["clean_environ", "provsdk_env", "run_cli"]

# Kept when a test clears the PROVSDK_* variables: it says how the whole suite runs (the
# signing strategy under test), not what a test's user has set.
SUITE_ENV = ("PROVSDK_SIGNING_STRATEGY",)


def clean_environ() -> dict[str, str]:
    """This process's environment without the PROVSDK_* variables a user could have set."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PROVSDK_") or k in SUITE_ENV}


def provsdk_env(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without PROVSDK_* variables, with PROVSDK_HOME=home."""
    clean = clean_environ()
    clean["PROVSDK_HOME"] = str(home)
    clean.update(env or {})
    return clean


def run_cli(
    *args: str | Path, home: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m provsdk ARGS`` with PROVSDK_HOME=home, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "provsdk", *map(str, args)],
        capture_output=True,
        text=True,
        env=provsdk_env(home, env),
        cwd=cwd,
        timeout=300,
    )
