"""The examples run as documented and do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from provsdk.home import ProvsdkHome

ROOT = Path(__file__).resolve().parents[1]


def test_generate_and_verify_example(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVSDK_")}
    env["PROVSDK_HOME"] = str(dev_home.root)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate_and_verify.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict pass, C2PA state Trusted" in result.stdout
    assert "AI-generated: True" in result.stdout
    assert (tmp_path / "beat.mp3").is_file()
