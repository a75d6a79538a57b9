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

__all__ = ["MEASURED", "clean_environ", "provsdk_env", "run_cli"]

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


# ``python -c MEASURED ARGS`` runs the CLI and prints its peak memory last, as `peak-mb N`.
# The peak is this process image's own (VmHWM): Linux carries ru_maxrss across exec, so a
# child of a large pytest worker would report the worker's size, not its own.
MEASURED = (
    "import resource, sys\n"
    "from provsdk_cli.main import main\n"
    "sys.argv = ['provsdk', *sys.argv[1:]]\n"
    "def peak_mb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as fh:\n"
    "            for line in fh:\n"
    "                if line.startswith('VmHWM:'):\n"
    "                    return int(line.split()[1]) // 1024\n"
    "    except OSError:\n"
    "        pass\n"
    "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print(f'peak-mb {peak_mb()}', file=sys.stderr)\n"
)
