"""The progress bar: drawn on a terminal's stderr for long work only, never on stdout, never in
a pipe or a log, never with --quiet; and nearly free when it is not drawn."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_runner import provsdk_env, run_cli

from provsdk.home import ProvsdkHome
from provsdk.progress import RENDER, SIGN
from provsdk_cli.progress import DELAY_ENV, ProgressBar

BAR_ON_AT_ONCE = {DELAY_ENV: "0", "TERM": "xterm"}


def _with_terminal_stderr(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run ``args`` with stderr on a pseudo-terminal and stdout on a pipe, as a shell piping
    the output would; returns the run and everything the terminal received."""
    terminal, child_end = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:  # the child blocks once the terminal's buffer is full
        while True:
            try:
                data = os.read(terminal, 65536)
            except OSError:  # EIO: the child's end is closed
                return
            if not data:
                return
            received.append(data)

    reader = threading.Thread(target=drain)
    try:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=child_end, env=env)
        os.close(child_end)
        reader.start()
        out, _ = process.communicate(timeout=300)
        reader.join(timeout=30)
    finally:
        os.close(terminal)
    return subprocess.CompletedProcess(args, process.returncode, out, None), b"".join(received)


def _waiting(terminal: int) -> bytes:
    """What the terminal has received so far."""
    os.set_blocking(terminal, False)
    received = b""
    while True:
        try:
            data = os.read(terminal, 65536)
        except OSError:  # nothing more for now, or the other end is closed (EIO)
            return received
        if not data:
            return received
        received += data


def _generate(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "provsdk", "generate", "lofi", "-o", str(out), "--seed", "1",
            "--duration", "2", *extra]  # fmt: skip


def test_generate_draws_its_bar_on_a_terminal_stderr_and_keeps_stdout_clean(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    env = provsdk_env(dev_home.root, BAR_ON_AT_ONCE)
    run, terminal = _with_terminal_stderr(_generate(tmp_path / "a.wav"), env)
    assert run.returncode == 0, terminal.decode(errors="replace")
    assert b"rendering" in terminal
    assert b"Generated" in run.stdout
    assert b"\x1b" not in run.stdout  # no bar, colour nor cursor movement in the output
    assert b"rendering" not in run.stdout


def test_quiet_keeps_the_terminal_free_of_the_bar(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    env = provsdk_env(dev_home.root, BAR_ON_AT_ONCE)
    run, terminal = _with_terminal_stderr(_generate(tmp_path / "a.wav", "--quiet"), env)
    assert run.returncode == 0, terminal.decode(errors="replace")
    assert terminal == b""
    source = tmp_path / "a.wav"
    signed = tmp_path / "b.wav"
    sign = [sys.executable, "-m", "provsdk", "sign", str(source), "-o", str(signed), "-q"]
    run, terminal = _with_terminal_stderr(sign, env)
    assert run.returncode == 0, terminal.decode(errors="replace")
    assert terminal == b""
    assert b"Signed" in run.stdout


def test_a_pipe_or_a_log_never_receives_the_bar(dev_home: ProvsdkHome, tmp_path: Path) -> None:
    result = run_cli(
        "generate", "lofi", "-o", tmp_path / "a.wav", "--duration", "2", "--seed", "1",
        home=dev_home.root, env={DELAY_ENV: "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout


def test_short_work_never_flickers_and_costs_no_rich_import(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    # A hundred thousand calls on a real terminal, all inside the default delay: nothing is
    # drawn, and rich is never imported.
    script = (
        "import sys\n"
        "from provsdk_cli.progress import ProgressBar\n"
        "with ProgressBar() as bar:\n"
        "    for i in range(100_000):\n"
        "        bar('render', i, 100_000)\n"
        "print('rich' in sys.modules)\n"
    )
    env = provsdk_env(dev_home.root, {"TERM": "xterm"})
    env.pop(DELAY_ENV, None)
    run, terminal = _with_terminal_stderr([sys.executable, "-c", script], env)
    assert run.returncode == 0, terminal.decode(errors="replace")
    assert terminal == b""
    assert run.stdout.strip() == b"False"


def test_the_bar_clears_itself_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DELAY_ENV, "0")
    monkeypatch.setenv("TERM", "xterm")
    terminal, child_end = pty.openpty()
    try:
        with open(child_end, "w", encoding="utf-8", closefd=True) as stream:
            bar = ProgressBar(stream=stream)
            with bar:
                bar(RENDER, 10, 100)
                bar(SIGN, 1, 0)  # at once after: dropped, the bar updates ten times a second
                time.sleep(0.15)
                bar(SIGN, 5, 0)  # an unknown total is still drawn
            bar(RENDER, 20, 100)  # after the end: nothing
            stream.flush()
            drawn = _waiting(terminal)
    finally:
        os.close(terminal)
    assert b"rendering" in drawn
    assert b"signing" in drawn
    # The last thing written, before the cursor is shown again, erases the bar's lines.
    assert drawn.removesuffix(b"\x1b[?25h").endswith(b"\x1b[2K")


def test_an_unreadable_delay_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DELAY_ENV, "soon")
    terminal, child_end = pty.openpty()
    try:
        with open(child_end, "w", encoding="utf-8") as stream, ProgressBar(stream=stream) as bar:
            bar(RENDER, 1, 2)  # within the default two seconds: nothing drawn
        assert _waiting(terminal) == b""
    finally:
        os.close(terminal)
