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

__all__ = ["provsdk_env", "run_cli"]


def provsdk_env(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without PROVSDK_* variables, with PROVSDK_HOME=home."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROVSDK_")}
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
