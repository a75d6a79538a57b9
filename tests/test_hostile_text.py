"""Hostile text through every command: nothing an attacker wrote acts on the terminal or CI.

The attacker names everything: the certificate organisation, the licensor and provider, the
prompt, the files. Each name carries an ESC sequence that would clear the screen, a bell, a
bidirectional override that reverses what follows, and a newline that would forge a line.
Every command's stdout and stderr is checked byte for byte: none of that arrives raw, and
machine outputs (JSON, JUnit) still parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import junitparser
import pytest
from cli_runner import provsdk_env
from cli_runner import run_cli as run

from provsdk.inert import inert, inert_path

HOSTILE = "Evil\x1b[2J\x07\u202eoiduts\nPASS  fake.wav"
# What must never reach a terminal raw: ESC, BEL, the override, a bare newline inside a name.
FORBIDDEN = (b"\x1b", b"\x07", "\u202e".encode(), b"\xc2\x9b")


def clean(output: str | bytes) -> None:
    data = output.encode("utf-8", "surrogateescape") if isinstance(output, str) else output
    for raw in FORBIDDEN:
        assert raw not in data, (raw, data[-1500:])
    assert b"oiduts\nPASS" not in data


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-2000:])
    return result


@dataclass(frozen=True)
class Hostile:
    root: Path
    home: Path
    track: Path  # generated, its prompt and certificate organisation hostile
    granted: Path  # the same with a grant whose licensor and licensee are hostile
    grant: Path
    disclosure: Path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    root = tmp_path_factory.mktemp("hostile")
    home = root / "home"
    clean(ok(run("keys", "init", "--org", HOSTILE, home=home)).stdout)
    track = root / f"{HOSTILE.replace(chr(10), '_')}.wav"
    result = ok(
        run("generate", f"warm {HOSTILE} lofi", "-o", track, "--duration", "2", "--seed", "3",
            home=home)
    )  # fmt: skip
    clean(result.stdout + result.stderr)
    document, grant = root / "grant.json", root / "grant.jws"
    result = ok(
        run(
            "grant", "create", "--licensor", HOSTILE, "--licensee", HOSTILE, "--purpose",
            "commercial", "--target", track, "-o", document, home=home,
        )
    )  # fmt: skip
    clean(result.stdout)
    clean(ok(run("grant", "sign", document, "-o", grant, home=home)).stdout)
    granted = root / f"granted-{HOSTILE.replace(chr(10), '_')}.wav"
    result = ok(run("grant", "attach", track, "--grant", grant, "-o", granted, home=home))
    clean(result.stdout + result.stderr)
    disclosure_doc, disclosure = root / "d.json", root / "d.jws"
    result = ok(
        run(
            "disclosure", "create", "--provider", HOSTILE, "--model", HOSTILE,
            "--model-version", "1", "-o", disclosure_doc, home=home,
        )
    )  # fmt: skip
    clean(result.stdout)
    clean(ok(run("disclosure", "sign", disclosure_doc, "-o", disclosure, home=home)).stdout)
    return Hostile(root, home, track, granted, grant, disclosure)


def test_inert_escapes_what_acts_and_keeps_the_rest() -> None:
    assert inert("a\x1bb\u202ec\nd\x9be") == "a\\x1bb\\u202ec\\x0ad\\x9be"
    assert inert("Río 🎵 Straße") == "Río 🎵 Straße"
    assert inert_path(os.fsdecode(b"caf\xe9.wav")) == "caf\\xe9.wav"


@pytest.mark.slow
def test_verify_for_people_shows_hostile_names_escaped(hostile: Hostile) -> None:
    result = run("verify", hostile.granted, home=hostile.home)
    assert result.returncode == 0, result.stdout + result.stderr
    clean(result.stdout + result.stderr)
    assert "\\x1b[2J" in result.stdout and "\\u202e" in result.stdout
    # The forged line is inside the name, escaped, never a line of its own.
    assert not any(line.startswith("PASS  fake.wav") for line in result.stdout.splitlines())


@pytest.mark.slow
def test_verify_json_is_ascii_json_with_exact_names(hostile: Hostile) -> None:
    result = run("verify", "--json", hostile.granted, home=hostile.home)
    clean(result.stdout)
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["producer"]["organization"] == HOSTILE  # machines get the exact value
    assert HOSTILE in entry["origin"]["prompt"]
    assert entry["grants"]["items"][0]["licensor"] == HOSTILE


@pytest.mark.slow
def test_junit_parses_after_hostile_names(hostile: Hostile, tmp_path: Path) -> None:
    # A failing file too, so failure messages carry hostile text (the untrusted producer).
    report = tmp_path / "report.xml"
    other = tmp_path / "other"
    result = run("verify", "--junit", report, hostile.granted, hostile.track, home=other)
    assert result.returncode == 1
    clean(result.stdout + result.stderr)
    tree = ET.parse(report)
    names = [case.get("name") for case in tree.iter("testcase")]
    assert all(name and "\\x1b" in name for name in names)
    suite = junitparser.JUnitXml.fromfile(str(report))
    cases = [case for s in suite for case in s]
    assert len(cases) == 2 and all(not case.is_passed for case in cases)


@pytest.mark.slow
def test_inspect_shows_hostile_names_escaped(hostile: Hostile) -> None:
    result = ok(run("inspect", hostile.granted, home=hostile.home))
    clean(result.stdout + result.stderr)
    as_json = ok(run("inspect", "--json", hostile.granted, home=hostile.home))
    clean(as_json.stdout)
    assert json.loads(as_json.stdout)["manifests"]


@pytest.mark.slow
def test_statement_show_escapes_hostile_names(hostile: Hostile) -> None:
    for command, token in (("grant", hostile.grant), ("disclosure", hostile.disclosure)):
        for extra in ((), ("--json",)):
            result = run(command, "show", token, *extra, home=hostile.home)
            assert result.returncode == 0, result.stderr
            clean(result.stdout + result.stderr)
            if extra:
                json.loads(result.stdout)


@pytest.mark.slow
def test_errors_name_a_hostile_file_escaped(hostile: Hostile, tmp_path: Path) -> None:
    bogus = tmp_path / f"{HOSTILE.replace(chr(10), '_')}.wav"
    bogus.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    for args in (("verify", bogus), ("inspect", bogus), ("sign", bogus, "-o", tmp_path / "o.wav")):
        result = run(*args, home=hostile.home)
        assert result.returncode == 2, (args, result.stderr)
        clean(result.stdout + result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
        assert "\\x1b" in result.stderr


@pytest.mark.slow
def test_batch_output_escapes_hostile_names(hostile: Hostile, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    name = HOSTILE.replace("\n", "_").replace("/", "_")
    rows.write_text(f'prompt,out,duration,seed\n"{HOSTILE}",{name}.wav,1,1\n')
    result = run("generate", "--batch", rows, "--out-dir", tmp_path / "out", home=hostile.home)
    assert result.returncode == 0, result.stdout + result.stderr
    clean(result.stdout + result.stderr)


def _undecodable(folder: Path) -> None:
    """A file whose name is not UTF-8 (Latin-1 and a stray byte), as old archives have."""
    try:
        with open(os.fsencode(folder) + b"/caf\xe9-\xff.wav", "wb") as fh:
            fh.write(b"not audio at all")
    except (OSError, UnicodeError):
        pytest.skip("this filesystem refuses names that are not UTF-8")


@pytest.mark.slow
def test_json_and_junit_with_a_file_name_that_is_not_utf8(hostile: Hostile, tmp_path: Path) -> None:
    _undecodable(tmp_path)
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [*_command(), "verify", "--json", "--junit", str(report), str(tmp_path)],
        capture_output=True,
        env=provsdk_env(hostile.home),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    clean(result.stdout + result.stderr)
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["path"].endswith("caf\\xe9-\\xff.wav")
    ET.parse(report)
    assert len(list(junitparser.JUnitXml.fromfile(str(report)))) == 1


def _command() -> list[str]:
    import sys

    return [sys.executable, "-m", "provsdk"]
