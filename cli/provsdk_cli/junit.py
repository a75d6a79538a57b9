"""JUnit XML for CI systems: one test case per verified file, failures with their reasons.

Built with the standard library's ElementTree, which escapes markup; every name and reason is
made inert first (``provsdk.inert``), which also removes what XML 1.0 forbids (control
characters, lone surrogates of undecodable file names), so the file parses whatever the
files and certificates were called.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from provsdk.inert import inert
from provsdk.sign.atomic import atomic_output

__all__ = ["write_junit"]


def write_junit(path: Path, entries: list[dict[str, Any]], *, name: str = "provsdk verify") -> None:
    """Write ``entries`` (the ``files`` of ``verify --json``) as a JUnit test suite."""
    failed = [e for e in entries if e["verdict"] != "pass" and "error" not in e]
    errors = [e for e in entries if "error" in e]
    suite = ET.Element(
        "testsuite",
        name=inert(name),
        tests=str(len(entries)),
        failures=str(len(failed)),
        errors=str(len(errors)),
        skipped="0",
    )
    for entry in entries:
        case = ET.SubElement(
            suite, "testcase", classname="provsdk.verify", name=inert(entry["path"])
        )
        lines = [inert(r) for r in entry.get("reasons", [])]
        reasons = "\n".join(lines)
        if "error" in entry:
            ET.SubElement(case, "error", message=inert(entry["error"])).text = reasons
        elif entry["verdict"] != "pass":
            first = lines[0] if lines else "verification failed"
            ET.SubElement(case, "failure", message=first).text = reasons
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    with atomic_output(path) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
