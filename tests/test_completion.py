"""Shell completion: the installed ``provsdk`` prints a script a shell can load, and completes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import provsdk_env

# The entry point pip installed next to this interpreter, as a user's shell runs it.
PROVSDK = Path(sys.executable).with_name("provsdk")


@pytest.mark.slow  # two starts of the command, a few seconds each
def test_completion_script_for_bash_loads_and_completes_a_command(tmp_path: Path) -> None:
    env = provsdk_env(tmp_path, {"_PROVSDK_COMPLETE": "bash_source"})
    script = subprocess.run([PROVSDK], capture_output=True, text=True, env=env, timeout=60)
    assert script.returncode == 0, script.stderr
    assert "complete -o nosort -F _provsdk_completion provsdk" in script.stdout
    asked = {"_PROVSDK_COMPLETE": "bash_complete", "COMP_WORDS": "provsdk ver", "COMP_CWORD": "1"}
    words = subprocess.run(
        [PROVSDK], capture_output=True, text=True, env=provsdk_env(tmp_path, asked), timeout=60
    )
    assert words.returncode == 0, words.stderr
    assert "plain,verify" in words.stdout.splitlines()
