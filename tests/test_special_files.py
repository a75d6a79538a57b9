"""Special files and unbounded inputs: only regular files are read or replaced, every read is
bounded, and no input hangs a command.

A FIFO given as input would block until someone writes to it; a device as output would be
"replaced" by a rename or written into; a 300 MB "statement" would be read whole. Each case
runs the real command and must end with exit 2 and one line, quickly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import provsdk_env
from cli_runner import run_cli as run

MIB = 1 << 20


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def timed(home: Path, *args: str | Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    result = run(*args, home=home)
    return result, time.monotonic() - start


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.args, result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("special") / "home"
    ok(run("keys", "init", home=path))
    return path


@pytest.fixture(scope="module")
def track(home: Path) -> Path:
    out = home.parent / "track.wav"
    ok(run("generate", "warm lofi beat", "-o", out, "--duration", "1", "--seed", "1", home=home))
    return out


def _signed_grant(home: Path, track: Path, folder: Path) -> Path:
    """A licensor-signed grant bound to ``track``."""
    document, grant = folder / "g.json", folder / "g.jws"
    ok(
        run(
            "grant", "create", "--licensor", "L", "--licensee", "S", "--purpose", "commercial",
            "--target", track, "-o", document, home=home,
        )
    )  # fmt: skip
    ok(run("grant", "sign", document, "-o", grant, home=home))
    return grant


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.wav"
    os.mkfifo(path)
    yield path


# --- inputs that are not regular files ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ("verify", "{fifo}"),
        ("inspect", "{fifo}"),
        ("sign", "{fifo}", "-o", "{out}", "--source-type", "digitalCapture"),
        ("grant", "attach", "{fifo}", "--grant", "{fifo}", "-o", "{out}"),
        ("grant", "show", "{fifo}"),
        ("disclosure", "show", "{fifo}"),
        ("verify", "--policy", "{fifo}", "{track}"),
        ("verify", "--trust-anchors", "{fifo}", "{track}"),
        ("generate", "--batch", "{fifo}", "--out-dir", "{dir}"),
    ],
    ids=lambda c: "-".join(c[:2]).replace("{", "").replace("}", ""),
)
def test_fifo_input_is_refused_at_once(
    home: Path, track: Path, fifo: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    names = {"fifo": fifo, "out": tmp_path / "out.wav", "track": track, "dir": tmp_path}
    args = [part.format(**names) for part in command]
    result, seconds = timed(home, *args)
    refused(result, "FIFO")
    assert seconds < 10  # the command's own start-up; a blocking read would hit the timeout
    assert not (tmp_path / "out.wav").exists()


def test_device_input_is_refused(home: Path) -> None:
    result, _ = timed(home, "grant", "show", "/dev/zero")
    refused(result, "character device")


# --- outputs that exist and are not regular files ---------------------------------------------


def _specials(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a-folder.wav"
    folder.mkdir()
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    link = tmp_path / "link-to-null.wav"
    link.symlink_to("/dev/null")
    return {"folder": folder, "FIFO": pipe, "character device": link}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["sign", "generate", "attach"])
def test_special_output_is_never_replaced(
    home: Path, track: Path, tmp_path: Path, command: str
) -> None:
    grant = _signed_grant(home, track, tmp_path)
    for kind, dest in _specials(tmp_path).items():
        if command == "attach" and kind == "folder":
            continue  # attach -o FOLDER writes into the folder, by design
        args = {
            "sign": ("sign", track, "-o", dest),
            "generate": ("generate", "a beat", "-o", dest, "--duration", "1"),
            "attach": ("grant", "attach", track, "--grant", grant, "-o", dest),
        }[command]
        result, seconds = timed(home, *args)
        refused(result, kind)
        assert seconds < 10
    assert Path("/dev/null").is_char_device()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".provsdk-tmp")]


# --- bounded reads -----------------------------------------------------------------------------


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)  # no disk used: the point is what the reader does with it
    return path


# Peak RSS is counted from fork: a child forked from this (large) test process would report
# the test's memory as its own. So a small launcher forks the measured command and reports it.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
stderr = child.stderr.read().decode()
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "stderr": stderr,
                  "seconds": time.monotonic() - start, "rss": usage.ru_maxrss * 1024}))
"""


def _run_measured(home: Path, *args: str | Path) -> tuple[int, str, float, int]:
    """Exit code, stderr, seconds and peak RSS (bytes; ru_maxrss is KiB on Linux) of one
    ``provsdk`` process."""
    command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "provsdk", *map(str, args)]
    result = subprocess.run(
        command, capture_output=True, text=True, env=provsdk_env(home), timeout=120
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    return measured["code"], measured["stderr"], measured["seconds"], measured["rss"]


@pytest.mark.slow
def test_a_100_mb_proof_ends_fast_in_little_memory(home: Path, tmp_path: Path) -> None:
    document, signed, tracks = tmp_path / "d.json", tmp_path / "d.jws", tmp_path / "tracks.txt"
    tracks.write_text("Harbor Lights - Tide\nKestrel - Upstairs\n")
    ok(
        run(
            "disclosure", "create", "--provider", "P", "--model", "m", "--model-version", "1",
            "--training-list", tracks, "-o", document, home=home,
        )
    )  # fmt: skip
    ok(run("disclosure", "sign", document, "-o", signed, home=home))
    proof = tmp_path / "proof.json"
    with proof.open("w") as fh:  # a real file of 100 MB, not a sparse one: its bytes are there
        fh.write('{"siblings": [')
        chunk = ('"' + "ab" * 32 + '",') * 16384
        while fh.tell() < 100 * MIB:
            fh.write(chunk)
        fh.write('"x"]}')
    started = time.monotonic()
    code, stderr, seconds, rss = _run_measured(
        home, "disclosure", "verify-proof", "--disclosure", signed, "--proof", proof
    )
    assert (
        code == 2
        and "limit" in stderr
        and len([ln for ln in stderr.strip().splitlines() if not ln.startswith("hint: ")]) == 1
    )
    # The whole process, interpreter start-up included, in under 100 MB; the refusal itself
    # (measured from the outside, start-up included) well under the second.
    assert rss < 100 * MIB, rss
    assert seconds < 10 and time.monotonic() - started < 10
    baseline = _run_measured(home, "disclosure", "show", signed)[2]
    assert seconds - baseline < 1.0, (seconds, baseline)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("what", "args"),
    [
        ("statement", ("grant", "show", "{big}")),
        ("policy", ("verify", "--policy", "{big}", "{track}")),
        ("trust anchors", ("verify", "--trust-anchors", "{big}", "{track}")),
        ("batch", ("generate", "--batch", "{big}", "--out-dir", "{dir}")),
        ("contract", ("grant", "create", "--licensor", "L", "--licensee", "S", "--purpose",
                      "commercial", "--scope-model", "m 1", "--document", "{big}", "-o", "{out}")),
    ],
)  # fmt: skip
def test_a_300_mb_input_is_refused_before_it_is_read(
    home: Path, track: Path, tmp_path: Path, what: str, args: tuple[str, ...]
) -> None:
    big = _sparse(tmp_path / "big", 300 * MIB)
    names = {"big": big, "track": track, "dir": tmp_path, "out": tmp_path / "out.json"}
    code, stderr, seconds, rss = _run_measured(home, *(a.format(**names) for a in args))
    assert code == 2, (what, stderr)
    assert (
        "limit" in stderr
        and len([ln for ln in stderr.strip().splitlines() if not ln.startswith("hint: ")]) == 1
    )
    assert rss < 100 * MIB and seconds < 10


# --- failures say what happened, before any work ----------------------------------------------

# A folder no process can create a file in, root included: permission bits say nothing to
# root, a procfs directory refuses every new file.
UNWRITABLE = Path("/proc/1")


@pytest.mark.slow
@pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="needs Linux procfs")
def test_unwritable_output_folder_fails_before_any_audio_is_rendered(
    home: Path, track: Path, tmp_path: Path
) -> None:
    grant = _signed_grant(home, track, tmp_path)
    dest = UNWRITABLE / "beat.wav"
    commands = [
        # Ten minutes of music would take far longer to render than the limit below.
        ("generate", "warm lofi beat", "-o", dest, "--duration", "600"),
        ("sign", track, "-o", dest),
        ("grant", "attach", track, "--grant", grant, "-o", dest),
        ("verify", "--junit", UNWRITABLE / "report.xml", track),
        ("grant", "create", "--licensor", "L", "--licensee", "S", "--purpose", "commercial",
         "--scope-model", "m 1", "-o", UNWRITABLE / "g.json"),
    ]  # fmt: skip
    for args in commands:
        result, seconds = timed(home, *args)
        refused(result, str(UNWRITABLE), "cannot create a file")
        assert "internal error" not in result.stderr
        assert seconds < 10, (args, seconds)


@pytest.mark.slow
@pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="needs Linux procfs")
def test_unwritable_home_is_an_output_error_not_an_internal_one(tmp_path: Path) -> None:
    for place in (UNWRITABLE / "home", Path("/dev/null") / "home"):
        result = run("keys", "init", home=place)
        refused(result, "cannot write the development PKI")
        assert "internal error" not in result.stderr
