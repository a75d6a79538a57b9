"""The README's examples run as written, in order, after the quick start, as a newcomer runs them.

Every ``sh`` and ``python`` block is run in one folder with one ``PROVSDK_HOME``, in the order the
README gives them. Two kinds of block are not run: the install-and-test commands (this test runs
inside the environment they made) and blocks with no language tag (synopses and sample output).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import clean_environ

pytestmark = pytest.mark.slow  # the whole README, end to end, through the installed command

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -e "


def readme_blocks() -> list[tuple[str, str]]:
    """The README's runnable blocks, in order: ``(language, text)``."""
    found = [(m[1], m[2]) for m in _FENCE.finditer((ROOT / "README.md").read_text())]
    runnable: list[tuple[str, str]] = []
    for lang, text in found:
        if lang not in {"sh", "python"}:
            continue
        if text.startswith(_INSTALL):
            # The quick start installs, then runs the main job: keep the job, not the install.
            job = text.strip().split(" && ", 3)[3] if "pip install -e . &&" in text else ""
            if job.startswith("pytest") or not job:
                continue
            text = job + "\n"
        elif text.startswith("pytest"):
            continue
        runnable.append((lang, text))
    return runnable


def test_readme_quick_start_is_the_first_runnable_block() -> None:
    # Guard for the parser above: if the quick start changes shape, this test must notice.
    lang, first = readme_blocks()[0]
    assert lang == "sh"
    assert first.startswith("provsdk keys init") and "provsdk verify beat.wav" in first


def test_readme_examples_run_as_written_in_order(tmp_path: Path) -> None:
    env = clean_environ()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PROVSDK_HOME"] = str(tmp_path / "home")
    outputs: list[str] = []
    for lang, text in readme_blocks():
        command = ["bash", "-euo", "pipefail", "-c", text] if lang == "sh" else [sys.executable]
        done = subprocess.run(
            command,
            input=None if lang == "sh" else text,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        assert done.returncode == 0, f"README block failed:\n{text}\n--- stderr:\n{done.stderr}"
        outputs.append(done.stdout)
    joined = "\n".join(outputs)
    # What the README says each step shows, it shows.
    assert "PASS" in outputs[0]  # the quick start verifies its own track
    assert "Verdict.PASS C2paState.TRUSTED" in joined
    assert "signingCredential.untrusted" in joined
    for made in ("beat.wav", "assets/music/theme.wav", "assets/menu.mp3", "report.xml",
                 "jazz.mp3", "beat.mp3", "stem.signed.wav"):  # fmt: skip
        assert (tmp_path / made).is_file(), made
