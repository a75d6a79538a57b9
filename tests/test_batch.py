"""Batch and async generation: per-row results, failures kept apart, re-runs, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import clean_environ
from cli_runner import run_cli as _cli
from click.testing import CliRunner

from provsdk import AsyncClient
from provsdk.audio.formats import AudioFormat
from provsdk.batch import BatchResult, read_batch, run_batch
from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.credentials.devpki import init_dev_pki
from provsdk.errors import InputError
from provsdk.home import ProvsdkHome
from provsdk.providers.local_provider import LocalProvider
from provsdk.sign import TEMP_SUFFIX
from provsdk.verify import verify_file
from provsdk_cli.main import cli


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
        ("prompt,format\na,avi\n", "row 1"),
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
    env = clean_environ()
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


# -- re-runs: a row is skipped only when its file verifies and was made from that row --------


def _batch(
    client: AsyncClient, tmp_path: Path, csv: str, *, fmt: AudioFormat = AudioFormat.WAV
) -> dict[int, BatchResult]:
    """Run the batch ``csv`` (its header included) into ``tmp_path/out``: results by row."""
    rows, out = tmp_path / "rows.csv", tmp_path / "out"
    rows.write_text(csv)
    out.mkdir(exist_ok=True)
    items = read_batch(rows, out, fmt=fmt, duration=1)
    return {r.item.row: r for r in asyncio.run(run_batch(client, items))}


def _rerun(client: AsyncClient, tmp_path: Path, first: str, then: str) -> dict[int, BatchResult]:
    """Run the batch ``first``, then its edited version ``then``: the results of the re-run."""
    _batch(client, tmp_path, first)
    return _batch(client, tmp_path, then)


def _statuses(results: dict[int, BatchResult]) -> dict[int, tuple[str, str | None]]:
    return {row: (r.status, r.reason) for row, r in results.items()}


def _files(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder``, temporaries included, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def stranger(tmp_path_factory: pytest.TempPathFactory) -> ProvsdkHome:
    """Another machine's development PKI, which ``dev_home`` does not trust."""
    home = ProvsdkHome(tmp_path_factory.mktemp("stranger"))
    init_dev_pki(home)
    return home


def test_rerun_unchanged_batch_skips_every_row(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    # Row 2 has no seed, so its file was made with a random one: the row matches it anyway.
    csv = "prompt,seed,format\nwarm lofi,1,\nambient,,mp3\n"
    client = AsyncClient(home=dev_home)
    first = _batch(client, tmp_path, csv)
    assert _statuses(first) == {1: ("generated", None), 2: ("generated", None)}
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}

    again = _batch(client, tmp_path, csv)
    assert _statuses(again) == {1: ("skipped", None), 2: ("skipped", None)}
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == before


def test_rerun_after_editing_a_prompt_regenerates_that_row(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    client = AsyncClient(home=dev_home)
    _batch(client, tmp_path, "prompt,out,seed\nwarm lofi,a.wav,1\nambient,b.wav,2\n")
    kept = (tmp_path / "out" / "b.wav").read_bytes()

    again = _batch(client, tmp_path, "prompt,out,seed\nwarm jazz,a.wav,1\nambient,b.wav,2\n")
    assert _statuses(again) == {1: ("regenerated", "prompt changed"), 2: ("skipped", None)}
    report = verify_file(tmp_path / "out" / "a.wav", trust=client.trust)
    assert report.passed and report.origin.prompt == "warm jazz"
    assert (tmp_path / "out" / "b.wav").read_bytes() == kept
    assert sorted(_files(tmp_path / "out")) == ["a.wav", "b.wav"]


def test_rerun_after_changing_duration_or_seed_regenerates(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    client = AsyncClient(home=dev_home)
    header = "prompt,out,seed,duration\n"
    again = _rerun(
        client,
        tmp_path,
        f"{header}a,a.wav,1,1\nb,b.wav,2,1\n",
        f"{header}a,a.wav,1,2\nb,b.wav,3,1\n",
    )
    assert _statuses(again) == {
        1: ("regenerated", "duration changed"),
        2: ("regenerated", "seed changed"),
    }
    assert verify_file(tmp_path / "out" / "a.wav", trust=client.trust).duration == pytest.approx(
        2, abs=0.05
    )
    assert verify_file(tmp_path / "out" / "b.wav", trust=client.trust).origin.seed == 3


def test_rerun_with_a_different_format_for_the_same_output_regenerates(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    # An output named without a suffix takes the row's format: changing it rewrites the file.
    client = AsyncClient(home=dev_home)
    header = "prompt,out,seed,format\n"
    again = _rerun(
        client, tmp_path, f"{header}intro,intro,1,wav\n", f"{header}intro,intro,1,flac\n"
    )
    assert _statuses(again) == {1: ("regenerated", "format changed")}
    assert verify_file(tmp_path / "out" / "intro", trust=client.trust).format == "flac"


class _StudioProvider(LocalProvider):
    """The local generator under another provider name, as a second provider would record."""

    name = "studio"


def test_rerun_with_another_provider_regenerates(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    csv = "prompt,seed\nwarm lofi,1\n"
    _batch(AsyncClient(home=dev_home), tmp_path, csv)
    again = _batch(AsyncClient(_StudioProvider(), home=dev_home), tmp_path, csv)
    assert _statuses(again) == {1: ("regenerated", "provider changed")}


def test_existing_file_signed_by_an_untrusted_key_is_regenerated(
    dev_home: ProvsdkHome, stranger: ProvsdkHome, tmp_path: Path
) -> None:
    # The stranger's file records exactly this row; that record is not believed, since no
    # trusted producer signed it.
    csv = "prompt,seed\nwarm lofi,1\n"
    assert _statuses(_batch(AsyncClient(home=stranger), tmp_path, csv)) == {1: ("generated", None)}
    client = AsyncClient(home=dev_home)
    (result,) = _batch(client, tmp_path, csv).values()
    assert result.status == "regenerated"
    assert result.reason is not None and result.reason.startswith("does not verify")
    assert verify_file(result.item.out, trust=client.trust).passed


def test_failed_regeneration_keeps_the_old_file(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    client = AsyncClient(home=dev_home)
    _batch(client, tmp_path, "prompt,out,seed,duration\nwarm lofi,a.wav,1,1\n")
    before = _files(tmp_path / "out")
    # The generator refuses a negative duration: the row fails, and its old file stays.
    again = _batch(client, tmp_path, "prompt,out,seed,duration\nwarm lofi,a.wav,1,-1\n")
    assert again[1].status == "failed" and again[1].reason == "duration changed"
    assert again[1].error is not None and again[1].error.endswith("the old file is kept")
    assert _files(tmp_path / "out") == before  # byte for byte, and no temporaries left


def test_regeneration_signed_by_an_untrusted_key_puts_the_old_file_back(
    dev_home: ProvsdkHome, stranger: ProvsdkHome, tmp_path: Path
) -> None:
    trust = TrustConfig.load(dev_home)
    _batch(AsyncClient(home=dev_home), tmp_path, "prompt,out,seed\nwarm lofi,a.wav,1\n")
    before = _files(tmp_path / "out")
    # A producer key this machine does not trust: the new file is signed, renamed into place,
    # then fails verification, and the old one must come back.
    wrong_key = AsyncClient(home=dev_home, signer=load_signer(Role.PRODUCER, home=stranger))
    again = _batch(wrong_key, tmp_path, "prompt,out,seed\nwarm jazz,a.wav,1\n")
    assert again[1].status == "failed" and again[1].reason == "prompt changed"
    assert again[1].error is not None and "the old file is kept" in again[1].error
    assert _files(tmp_path / "out") == before
    assert verify_file(tmp_path / "out" / "a.wav", trust=trust).origin.prompt == "warm lofi"


def test_rerun_summary_counts_regenerated_rows(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "out"

    def run(csv: str) -> str:
        rows.write_text(csv)
        args = ["--home", str(dev_home.root), "generate", "--batch", str(rows)]
        result = CliRunner().invoke(cli, [*args, "--out-dir", str(out), "--duration", "1"])
        assert result.exit_code == 0, result.output
        return result.output

    run("prompt,out,seed\nwarm lofi,a.wav,1\nambient,b.wav,2\n")
    shown = run("prompt,out,seed\nwarm jazz,a.wav,1\nambient,b.wav,2\n")
    (line,) = [line for line in shown.splitlines() if line.startswith("row    1")]
    assert "regenerated" in line and line.endswith("a.wav (prompt changed)")
    assert shown.strip().splitlines()[-1] == "0 generated, 1 regenerated, 1 skipped, 0 failed"


def test_rerun_after_attaching_a_grant_keeps_the_file_and_its_grant(
    dev_home: ProvsdkHome, tmp_path: Path, harbor_grant: Callable[[str], str]
) -> None:
    # The user's loss: a grant attached since the last run adds a manifest with no generation
    # record of its own; the re-run must judge the row by the history, not wipe the grant.
    from provsdk.attach import attach_grant

    csv = "prompt,seed,out\nwarm lofi,1,one.wav\n"
    client = AsyncClient(home=dev_home)
    _batch(client, tmp_path, csv)
    track = tmp_path / "out" / "one.wav"
    token = harbor_grant("provsdk-local 2.0")
    signer = load_signer(Role.PRODUCER, home=dev_home, use_env=False)
    attach_grant([track], token, signer=signer, trust=TrustConfig.load(dev_home), in_place=True)
    granted = track.read_bytes()

    again = _batch(client, tmp_path, csv)
    assert _statuses(again) == {1: ("skipped", None)}
    assert track.read_bytes() == granted
    assert len(verify_file(track, trust=TrustConfig.load(dev_home)).grants.grants) == 1
