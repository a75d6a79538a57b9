"""SIGKILL at random points of signing, attaching and generating: the input stays intact, the
destination is either absent or whole and verifying, and what the killed process left behind
is swept by the next run."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import clean_environ

from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.grants import create_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.sign import TEMP_SUFFIX
from provsdk.verify import verify_file

TRIALS = 8  # per command; each kill lands at a random point of the run


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kill_at_random(cmd: list[str], env: dict[str, str], rng: random.Random, span: float) -> None:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.0, span))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def _check(dest: Path, trust: TrustConfig) -> None:
    # The destination name only ever holds a whole, signed file.
    if dest.exists():
        assert verify_file(dest, trust=trust).passed


def _grant_for(track: Path, home: ProvsdkHome, folder: Path) -> Path:
    """A licensor-signed grant bound to ``track``'s audio, written to a file."""
    grant = create_grant(
        licensor="Label", licensee="Studio", purposes=["commercial"], target_file=track
    )
    path = folder / "grant.jws"
    path.write_text(sign_grant(grant, load_signer(Role.LICENSOR, home=home, use_env=False)))
    return path


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("command", ["sign", "generate", "attach", "attach-in-place"])
def test_sigkill_never_leaves_a_partial_output(
    command: str,
    dev_home: ProvsdkHome,
    vectors: Path,
    signed_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    rng = random.Random(f"crash-{command}")
    env = clean_environ()
    env["PROVSDK_HOME"] = str(dev_home.root)
    trust = TrustConfig.load(dev_home)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "track.flac"
    base = [sys.executable, "-m", "provsdk"]
    if command == "sign":
        source = vectors / "sample1.flac"
        cmd = [*base, "sign", str(source), "-o", str(dest), "--source-type", "digitalCapture"]
    elif command == "generate":
        source = vectors / "sample1.flac"  # untouched: checked all the same
        cmd = [
            *base,
            "generate",
            "crash test",
            "-o",
            str(dest),
            "--duration",
            "2",
            "--seed",
            "3",
            "--force",
        ]
    else:
        grant = _grant_for(signed_files["flac"], dev_home, tmp_path)
        if command == "attach":
            source = signed_files["flac"]
            cmd = [*base, "grant", "attach", str(source), "--grant", str(grant), "-o", str(dest)]
        else:
            # In place, the input *is* the destination: at every instant it must be either the
            # original or the whole attached file, never a mix and never missing.
            shutil.copyfile(signed_files["flac"], dest)
            source = dest
            cmd = [*base, "grant", "attach", str(dest), "--grant", str(grant), "--in-place"]
    before = _sha(source)
    # Long enough to reach every phase: start-up, encoding, signing, renaming, verifying.
    span = 3.0
    for _ in range(TRIALS):
        _kill_at_random(cmd, env, rng, span)
        if command == "attach-in-place":
            assert _sha(dest) == before or _carries_a_grant(dest, trust)
        else:
            assert _sha(source) == before
        _check(dest, trust)
    # A normal run afterwards succeeds and sweeps what the killed runs left behind.
    finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert verify_file(dest, trust=trust).passed
    assert [p.name for p in out.iterdir()] == [dest.name]
    assert not list(out.glob(f"*{TEMP_SUFFIX}"))


def _carries_a_grant(path: Path, trust: TrustConfig) -> bool:
    report = verify_file(path, trust=trust)
    return report.passed and report.grants.count == 1


def test_only_temporaries_of_dead_writers_are_swept(tmp_path: Path) -> None:
    from provsdk.sign import remove_stale_temporaries

    dest = tmp_path / "a.wav"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f".a.wav.{gone.stdout.strip()}.x1{TEMP_SUFFIX}"
    mine = tmp_path / f".a.wav.{os.getpid()}.x2{TEMP_SUFFIX}"
    parent = tmp_path / f".a.wav.{os.getppid()}.x3{TEMP_SUFFIX}"  # alive: our parent
    other = tmp_path / f".b.wav.{gone.stdout.strip()}.x4{TEMP_SUFFIX}"  # another output's
    for path in (dead, mine, parent, other):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(dest) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (mine, parent, other)
    )
