"""Batch and async generation: per-row results, failures kept apart, re-runs, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_cli as _cli

from provsdk import AsyncClient
from provsdk.audio.formats import AudioFormat
from provsdk.batch import read_batch
from provsdk.credentials import TrustConfig
from provsdk.errors import InputError
from provsdk.home import ProvsdkHome
from provsdk.sign import TEMP_SUFFIX
from provsdk.verify import verify_file


def test_async_client_generates_concurrently(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    client = AsyncClient(home=dev_home)

    async def many() -> list[bool]:
        tracks = await asyncio.gather(
            *(
                client.generate(f"lofi {i}", out=tmp_path / f"{i}.mp3", duration=1.5, seed=i)
                for i in range(3)
            )
        )
        return [t.report.passed for t in tracks]

    assert asyncio.run(many()) == [True, True, True]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.mp3", "1.mp3", "2.mp3"]


@pytest.mark.slow
def test_batch_keeps_successes_reports_failures_and_reruns_only_what_failed(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    # Row 2 asks the generator for something it refuses (a negative duration): a provider
    # failure for that row only.
    rows.write_text(
        "prompt,duration,seed,format\nwarm lofi,1.5,1,\ndark techno,-1,2,mp3\nambient,1.5,3,flac\n"
    )
    out = tmp_path / "out"
    first = _cli(
        "generate",
        "--batch",
        rows,
        "--out-dir",
        out,
        "--concurrency",
        "2",
        "--json",
        home=dev_home.root,
    )
    assert first.returncode == 3, first.stderr
    status = {r["row"]: r["status"] for r in json.loads(first.stdout)["rows"]}
    assert status == {1: "generated", 2: "failed", 3: "generated"}
    assert "row 2" in first.stderr and first.stderr.count("provsdk: ") == 1
    made = sorted(p.name for p in out.iterdir())
    assert made == ["0001-warm-lofi.wav", "0003-ambient.flac"]
    trust = TrustConfig.load(dev_home)
    assert all(verify_file(out / name, trust=trust).passed for name in made)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    rows.write_text(
        "prompt,duration,seed,format\nwarm lofi,1.5,1,\ndark techno,1.5,2,mp3\nambient,1.5,3,flac\n"
    )
    second = _cli("generate", "--batch", rows, "--out-dir", out, "--json", home=dev_home.root)
    assert second.returncode == 0, second.stderr
    status = {r["row"]: r["status"] for r in json.loads(second.stdout)["rows"]}
    assert status == {1: "skipped", 2: "generated", 3: "skipped"}
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name in mtimes} == mtimes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title\nx\n", "'prompt' column"),
        ("prompt,colour\nx,red\n", "unknown columns: colour"),
        ("prompt,out\na,same.wav\nb,same.wav\n", "row 2"),
        ("prompt,out\na,../escape.wav\n", "row 1"),
        ("prompt,duration\na,long\n", "row 1: duration 'long'"),
        ("prompt\n\n,\n", "row 1: the prompt is empty"),
        ("prompt,format\na,ogg\n", "row 1"),
    ],
)
def test_bad_batch_files_name_the_row(tmp_path: Path, content: str, message: str) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        read_batch(rows, tmp_path / "out", fmt=AudioFormat.WAV, duration=2)
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_batch_cli_usage_errors(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt\nx\n")
    assert _cli("generate", "--batch", rows, home=dev_home.root).returncode == 2  # no --out-dir
    assert (
        _cli("generate", "x", "--batch", rows, "--out-dir", tmp_path, home=dev_home.root).returncode
        == 2
    )
    bad = _cli(
        "generate",
        "--batch",
        tmp_path / "missing.csv",
        "--out-dir",
        tmp_path / "o",
        home=dev_home.root,
    )
    assert bad.returncode == 2 and "missing.csv" in bad.stderr


@pytest.mark.slow
def test_ctrl_c_leaves_only_whole_signed_files(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,seed\n" + "".join(f"track {i},{i}\n" for i in range(12)))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVSDK_")}
    env["PROVSDK_HOME"] = str(dev_home.root)
    cmd = [sys.executable, "-m", "provsdk", "generate", "--batch", str(rows), "--out-dir", str(out),
           "--duration", "3", "--concurrency", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and any(out.glob("*.wav"))):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    leftovers = [
        p.name for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX) or p.name.startswith(".")
    ]
    assert leftovers == []
    outputs = list(out.iterdir())
    assert 1 <= len(outputs) < 12
    trust = TrustConfig.load(dev_home)
    assert all(verify_file(path, trust=trust).passed for path in outputs)
