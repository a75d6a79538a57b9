"""JUnit XML for CI systems: one test case per verified file, failures with their reasons.

Each test case is built with the standard library's ElementTree, which escapes markup; every
name and reason is made inert first (``provsdk.inert``), which also removes what XML 1.0
forbids (control characters, lone surrogates of undecodable file names), so the file parses
whatever the files and certificates were called. A catalogue's cases are spooled to a
temporary file as files complete, and the suite (whose counts come first) is written at the
end, so memory stays flat for any number of files.
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provsdk.inert import inert
from provsdk.sign.atomic import atomic_output

__all__ = ["JunitSpool", "write_junit"]


def _case(entry: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", classname="provsdk.verify", name=inert(entry["path"]))
    lines = [inert(r) for r in entry.get("reasons", [])]
    reasons = "\n".join(lines)
    if "error" in entry:
        ET.SubElement(case, "error", message=inert(entry["error"])).text = reasons
    elif entry["verdict"] != "pass":
        first = lines[0] if lines else "verification failed"
        ET.SubElement(case, "failure", message=first).text = reasons
    ET.indent(case, level=2)
    return case


class JunitSpool:
    """Collects test cases on disk with :meth:`add`; :meth:`write` makes the report."""

    def __init__(self, *, name: str = "provsdk verify") -> None:
        self.name = name
        self.tests = self.failures = self.errors = 0
        # Open for the spool's life; closed (and so removed) by close().
        self._cases = tempfile.TemporaryFile()  # noqa: SIM115

    def add(self, entry: dict[str, Any]) -> None:
        """One file's ``verify --json`` entry."""
        self.tests += 1
        if "error" in entry:
            self.errors += 1
        elif entry["verdict"] != "pass":
            self.failures += 1
        self._cases.write(b"    " + ET.tostring(_case(entry), encoding="utf-8").rstrip() + b"\n")

    def write(self, path: Path) -> None:
        """The suite, atomically at ``path``."""
        suite = ET.Element(
            "testsuite",
            name=inert(self.name),
            tests=str(self.tests),
            failures=str(self.failures),
            errors=str(self.errors),
            skipped="0",
        )
        opening = ET.tostring(suite, encoding="unicode").removesuffix(" />")
        with atomic_output(path) as tmp, tmp.open("wb") as out:
            out.write(b"<?xml version='1.0' encoding='utf-8'?>\n<testsuites>\n")
            out.write(f"  {opening}>\n".encode())
            self._cases.seek(0)
            shutil.copyfileobj(self._cases, out)
            out.write(b"  </testsuite>\n</testsuites>\n")

    def close(self) -> None:
        self._cases.close()

    def __enter__(self) -> JunitSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_junit(
    path: Path, entries: Iterable[dict[str, Any]], *, name: str = "provsdk verify"
) -> None:
    """Write ``entries`` (the ``files`` of ``verify --json``) as a JUnit test suite."""
    with JunitSpool(name=name) as spool:
        for entry in entries:
            spool.add(entry)
        spool.write(path)
