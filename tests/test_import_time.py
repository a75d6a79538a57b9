"""Starting provsdk stays cheap: each command imports what its own work needs, and no more.

A user who types ``provsdk --version`` or verifies one file should not wait for numpy, the
HTTP stack, the providers or the server to load. These tests run the real command with
``python -X importtime`` and name every heavy module that was imported anyway.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_runner import provsdk_env

from provsdk.home import ProvsdkHome
from provsdk_cli.main import COMMANDS, cli

REPO = Path(__file__).resolve().parents[1]

# Everything the library or a command can load that `--version` has no use for.
HEAVY = (
    "c2pa",
    "cryptography",
    "numpy",
    "httpx",
    "tenacity",
    "pydub",
    "rich",
    "jsonschema",
    "joserfc",
    "rfc3161_client",
    "pycountry",
    "platformdirs",
    "fastapi",
    "uvicorn",
    "asyncio",
)
# What verifying a file does not need: generating, the network, the server.
NOT_FOR_VERIFY = (
    "numpy",
    "httpx",
    "tenacity",
    "pydub",
    "pycountry",
    "jsonschema",
    "fastapi",
    "uvicorn",
    "provsdk.providers",
    "provsdk.server",
    "provsdk.client",
    "provsdk.batch",
)


def _imported(args: list[str], home: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The run of ``python -X importtime ARGS`` and every module it imported."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=provsdk_env(home),
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return run, modules


def _offending(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in forbidden if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_version_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    run, modules = _imported(["-m", "provsdk", "--version"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("provsdk, version ")
    assert _offending(modules, HEAVY) == []
    # No command module either: the group knows their names and short help by heart.
    assert sorted(m for m in modules if m.startswith("provsdk_cli.")) == ["provsdk_cli.main"]


def test_verify_help_loads_nothing_verifying_needs(tmp_path: Path) -> None:
    run, modules = _imported(["-m", "provsdk", "verify", "--help"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "--policy" in run.stdout
    assert _offending(modules, HEAVY) == []


def test_help_lists_every_command_without_importing_one(tmp_path: Path) -> None:
    run, modules = _imported(["-m", "provsdk", "--help"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in COMMANDS:
        assert f"\n  {name} " in run.stdout
    assert _offending(modules, HEAVY) == []
    assert sorted(m for m in modules if m.startswith("provsdk_cli.")) == ["provsdk_cli.main"]


def test_importing_the_package_loads_no_dependency(tmp_path: Path) -> None:
    run, modules = _imported(["-c", "import provsdk"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _offending(modules, HEAVY) == []


def test_verifying_a_file_loads_neither_generation_nor_network_nor_server(
    dev_home: ProvsdkHome, signed_files: dict[str, Path]
) -> None:
    run, modules = _imported(["-m", "provsdk", "verify", str(signed_files["wav"])], dev_home.root)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "PASS" in run.stdout
    assert _offending(modules, NOT_FOR_VERIFY) == []


def test_the_short_help_table_matches_each_command() -> None:
    """`provsdk --help` shows the table's text: it must be each command's own short help."""
    real = {name: cli.get_command(click.Context(cli), name) for name in COMMANDS}
    assert {name: command.name for name, command in real.items() if command} == {
        name: name for name in COMMANDS
    }
    for name, command in real.items():
        assert command is not None
        assert COMMANDS[name] == command.get_short_help_str(limit=1000), name
    assert cli.list_commands(click.Context(cli)) == sorted(COMMANDS)


def test_an_unknown_command_is_still_a_usage_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "provsdk", "verfiy"],
        capture_output=True,
        text=True,
        env=provsdk_env(tmp_path),
        timeout=120,
    )
    assert run.returncode == 2
    assert "No such command 'verfiy'" in run.stderr


def _lazy_packages() -> list[Path]:
    return sorted(
        path
        for path in (REPO / "provsdk").rglob("__init__.py")
        if "_exports(" in path.read_text("utf-8")
    )


@pytest.mark.parametrize(
    "path", _lazy_packages(), ids=lambda p: p.parent.relative_to(REPO).as_posix()
)
def test_a_lazy_package_loads_each_name_from_where_type_checkers_see_it(path: Path) -> None:
    """The TYPE_CHECKING imports (what mypy and readers see) and the run-time table agree."""
    tree = ast.parse(path.read_text("utf-8"))
    [branch] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    seen = {
        alias.name: node.module
        for node in branch.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    [call] = [node for node in ast.walk(branch) if isinstance(node, ast.Call)]
    table = ast.literal_eval(call.args[1])
    assert table == seen
    package = importlib.import_module(path.parent.relative_to(REPO).as_posix().replace("/", "."))
    assert set(table) <= set(dir(package))
    assert all(name in table or hasattr(package, name) for name in package.__all__)
