"""docs/architecture.md names every module of the tree, so a reader can find each one's job."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _table() -> dict[str, str]:
    """Each row's first cell (the package or module) → the whole row."""
    rows: dict[str, str] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text("utf-8").splitlines():
        if line.startswith("| `"):
            for place in re.findall(r"`([^`]+)`", line.split("|")[1]):
                rows[place] = line
    return rows


def test_every_module_is_in_the_architecture_table() -> None:
    rows = _table()
    missing = []
    for path in sorted([*ROOT.glob("provsdk/**/*.py"), *ROOT.glob("cli/provsdk_cli/*.py")]):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        relative = path.relative_to(ROOT).as_posix()
        package = path.parent.relative_to(ROOT).as_posix() + "/"
        named_in_its_row = f"`{path.stem}`" in rows.get(package, "")
        if relative not in rows and not named_in_its_row:
            missing.append(relative)
    assert not missing, f"not in docs/architecture.md: {missing}"
