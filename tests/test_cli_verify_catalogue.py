"""``provsdk verify`` over catalogues, as a user runs it: workers, a results file that
resumes (also after a SIGKILL), the summary, ``--quiet``, ``--format table``, ``--json`` and
``--junit`` written as files complete, and a parent whose memory does not grow with the run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import junitparser
import pytest
from catalogue_files import catalogue, tiny_signed
from cli_runner import MEASURED, provsdk_env, run_cli

from provsdk.credentials.signers import KeySigner
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
STRICTER = '[producer]\nrequire = "trusted"\n'


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory, producer_signer: KeySigner, spec: ManifestSpec
) -> Path:
    return tiny_signed(tmp_path_factory.mktemp("tiny"), producer_signer, spec)


def _verify(home: ProvsdkHome, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli("verify", *args, home=home.root)


def _json(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def _lines(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in results.read_text().splitlines()]


@pytest.fixture
def mixed(tmp_path: Path, tiny: Path) -> Path:
    """Three signed files and an unsigned MP3 in a folder."""
    folder = tmp_path / "cat"
    catalogue(folder, tiny, 3)
    shutil.copyfile(VECTORS / "sample1.mp3", folder / "unsigned.mp3")
    return folder


def test_a_resumed_run_verifies_only_the_files_whose_bytes_changed(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    files = catalogue(tmp_path / "cat", tiny, 6)
    results = tmp_path / "results.jsonl"
    first = _json(
        _verify(dev_home, "--json", "--workers", "2", "--results", results, files[0].parent)
    )
    assert first["summary"]["files"] == 6 and first["summary"]["resumed"] == 0
    assert len(_lines(results)) == 6
    # Same size, other bytes (a sample of the audio flipped): its digest changed.
    data = bytearray(files[2].read_bytes())
    data[100] ^= 0xFF
    files[2].write_bytes(bytes(data))
    # Same bytes, another mtime (a copy, a restore): hashed again, not verified again.
    os.utime(files[4], ns=(1_000_000_000, 1_000_000_000))
    second = _verify(dev_home, "--json", "--workers", "1", "--results", results, files[0].parent)
    summary = _json(second)["summary"]
    assert summary["files"] == 6
    assert summary["resumed"] == 5
    assert summary["fail"] == 1
    lines = _lines(results)
    assert [r["path"] for r in lines[6:]] == [str(files[2])]
    assert lines[6]["verdict"] == "fail"
    assert second.returncode == 1
    # Another policy: no earlier verdict stands.
    policy = tmp_path / "policy.toml"
    policy.write_text(STRICTER)
    third = _json(
        _verify(
            dev_home,
            "--json",
            "--workers",
            "1",
            "--policy",
            policy,
            "--results",
            results,
            tmp_path / "cat",
        )
    )
    assert third["summary"]["resumed"] == 0
    assert len(_lines(results)) == 13
    # --recheck: every file again, under the same settings too.
    fourth = _json(
        _verify(
            dev_home,
            "--json",
            "--workers",
            "1",
            "--recheck",
            "--results",
            results,
            tmp_path / "cat",
        )
    )
    assert fourth["summary"]["resumed"] == 0


@pytest.mark.slow
def test_a_run_killed_mid_catalogue_leaves_a_results_file_that_resumes(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    files = catalogue(tmp_path / "cat", tiny, 300)
    results = tmp_path / "results.jsonl"
    command = [sys.executable, "-m", "provsdk", "verify", "-q", "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--results", str(results), str(tmp_path / "cat")],
        env=provsdk_env(dev_home.root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers are in its group: the kill takes them too
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 40:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    kept = results.read_bytes().count(b"\n")
    assert 40 <= kept < 300
    with results.open("ab") as fh:
        fh.write(b'{"path": "half a line')  # as if killed mid-write
    again = _verify(dev_home, "--json", "--results", results, tmp_path / "cat")
    assert again.returncode == 0, again.stderr[-2000:]
    summary = _json(again)["summary"]
    assert summary["files"] == 300
    assert summary["resumed"] >= kept
    assert {r["path"] for r in _lines(results)} == {str(p) for p in files}


def test_quiet_prints_only_the_failing_files_and_the_summary(
    dev_home: ProvsdkHome, mixed: Path
) -> None:
    run = _verify(dev_home, "-q", "--workers", "2", mixed)
    assert run.returncode == 1
    assert "PASS" not in run.stdout
    assert run.stdout.count("FAIL") == 1 and "unsigned.mp3" in run.stdout
    assert run.stdout.splitlines()[-1] == "4 files: 3 pass, 1 fail (1 c2pa.absent)"


def test_the_summary_counts_unreadable_files_as_failures_and_exits_2(
    dev_home: ProvsdkHome, mixed: Path
) -> None:
    (mixed / "junk.wav").write_bytes(b"not audio")
    run = _verify(dev_home, "--workers", "1", mixed)
    assert run.returncode == 2
    assert run.stdout.count("PASS") == 3
    assert run.stdout.splitlines()[-1] == (
        "5 files: 3 pass, 2 fail (1 c2pa.absent, 1 input.unsupported)"
    )
    errors = [line for line in run.stderr.splitlines() if line.startswith("provsdk:")]
    assert len(errors) == 1 and "junk.wav" in errors[0]


def test_table_format_is_one_row_per_file_in_input_order(
    dev_home: ProvsdkHome, mixed: Path
) -> None:
    run = _verify(dev_home, "--format", "table", "--workers", "1", mixed)
    header, *rows, summary = run.stdout.splitlines()
    assert header.split() == ["VERDICT", "STATE", "PATH", "FIRST", "REASON"]
    assert [row.split()[0] for row in rows] == ["PASS", "PASS", "PASS", "FAIL"]
    assert rows[0].split()[1] == "Trusted"
    assert rows[3].split()[1:3] == ["Absent", str(mixed / "unsigned.mp3")]
    assert "c2pa.absent" in rows[3]
    assert summary.startswith("4 files: 3 pass, 1 fail")


def test_json_keeps_its_shape_and_adds_the_summary(
    dev_home: ProvsdkHome, mixed: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    run = _verify(dev_home, "--json", "--junit", report, "--order", "finish", mixed)
    data = _json(run)
    assert sorted(data) == ["files", "passed", "summary"]
    assert data["passed"] is False
    assert len(data["files"]) == 4
    for entry in data["files"]:
        assert {"path", "verdict", "c2pa", "reasons"} <= set(entry)
        assert "settings" not in entry and "file" not in entry  # the entry it always was
    assert data["summary"]["line"] == "4 files: 3 pass, 1 fail (1 c2pa.absent)"
    assert data["summary"]["pass"] == 3
    cases = [case for suite in junitparser.JUnitXml.fromfile(str(report)) for case in suite]
    assert sorted(Path(case.name).name for case in cases) == sorted(p.name for p in mixed.iterdir())


def test_one_file_gets_no_summary_and_starts_no_worker_process(
    dev_home: ProvsdkHome, tiny: Path
) -> None:
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "provsdk", "verify", str(tiny)],
        capture_output=True,
        text=True,
        env=provsdk_env(dev_home.root),
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "files:" not in run.stdout
    assert "concurrent.futures.process" not in run.stderr  # no pool, not even its import


@pytest.mark.parametrize(
    "args",
    [("--address", "ray://x:10001"), ("--recheck",), ("--engine", "ray", "--order", "finish")],
    ids=["address-without-ray", "recheck-without-results", "finish-order-on-ray"],
)
def test_options_that_cannot_work_together_are_a_usage_error(
    dev_home: ProvsdkHome, tiny: Path, args: tuple[str, ...]
) -> None:
    run = _verify(dev_home, *args, tiny)
    assert run.returncode == 2
    assert "verify --help" in run.stderr and len(run.stderr.splitlines()) == 1


@pytest.mark.slow
def test_the_parent_stays_small_while_two_workers_verify_2000_files(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    catalogue(tmp_path / "cat", tiny, 2000)
    run = subprocess.run(
        [sys.executable, "-c", MEASURED, "verify", "-q", "--workers", "2",
         "--results", str(tmp_path / "r.jsonl"), "--junit", str(tmp_path / "r.xml"),
         str(tmp_path / "cat")],
        capture_output=True, text=True, env=provsdk_env(dev_home.root), timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "2000 files: 2000 pass, 0 fail"
    peak = int(run.stderr.rsplit("peak-mb", 1)[1].split()[0])
    assert peak < 100, f"the parent peaked at {peak} MB"  # measured: 42 MB for 200 or 2,000


def test_html_report_names_every_file_of_the_run(
    dev_home: ProvsdkHome, mixed: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    run = _verify(dev_home, "-q", "--workers", "1", "--html", page, mixed)
    assert run.returncode == 1, run.stderr[-2000:]
    text = page.read_text()
    for path in mixed.iterdir():
        assert path.name in text
    assert "4 files: 3 pass, 1 fail" in text


def test_a_uri_without_ray_is_a_usage_error_naming_it(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    run = _verify(dev_home, f"file://{tmp_path}/cat")
    assert run.returncode == 2
    assert "remote objects are read by --engine ray" in run.stderr


@pytest.mark.slow
def test_ray_through_the_cli_gives_the_local_engines_records_for_a_folder_uri(
    dev_home: ProvsdkHome, mixed: Path
) -> None:
    """The same folder named as a path (local engine) and as a file:// URI (Ray): the same
    verdicts and reasons, file by file, each named as it was asked for."""
    local = _json(_verify(dev_home, mixed, "--json", "--at", "2026-06-01"))
    ray = _json(
        _verify(
            dev_home,
            f"file://{mixed}",
            "--engine",
            "ray",
            "--workers",
            "2",
            "--json",
            "--at",
            "2026-06-01",
        )
    )
    assert len(ray["files"]) == len(local["files"]) == 4
    for here, there in zip(local["files"], ray["files"], strict=True):
        assert there["path"] == f"file://{here['path']}"
        assert {**there, "path": here["path"]} == here
    assert ray["summary"] == local["summary"]
