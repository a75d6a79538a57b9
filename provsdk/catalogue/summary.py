"""The count line a catalogue run ends with: how many files passed, and why the others failed.

Each failing file is counted once, under the code of its first reason (the one a person reads
first); a file that could not be read at all counts as a failure under ``input.unreadable`` or
``input.unsupported``, and its exit status is 2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Summary"]

_SHOWN_CODES = 6  # the line names this many reasons, then "N other"


@dataclass
class Summary:
    """Counts over the records of one run; :meth:`add` one record at a time (memory stays
    flat: only counters are kept)."""

    files: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0  # files that could not be read (also counted in ``failed``)
    resumed: int = 0  # records taken from a previous run, unchanged files
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, record: dict[str, Any], *, resumed: bool = False) -> None:
        self.files += 1
        self.resumed += resumed
        if record.get("verdict") == "pass":
            self.passed += 1
            return
        self.failed += 1
        self.errors += "error" in record
        reasons = record.get("reasons") or []
        first = str(reasons[0]) if reasons else "verdict.fail: no reason given"
        self.reasons[first.split(":", 1)[0].strip() or "verdict.fail"] += 1

    @property
    def exit_status(self) -> int:
        """0 when every file passed, 2 when one could not be read, else 1."""
        return 2 if self.errors else 1 if self.failed else 0

    def line(self) -> str:
        """``312 files: 305 pass, 7 fail (4 policy.grant, 3 assertion.dataHash.mismatch)``."""
        noun = "file" if self.files == 1 else "files"
        text = f"{self.files} {noun}: {self.passed} pass, {self.failed} fail"
        if self.reasons:
            ranked = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
            parts = [f"{n} {code}" for code, n in ranked[:_SHOWN_CODES]]
            rest = sum(n for _, n in ranked[_SHOWN_CODES:])
            if rest:
                parts.append(f"{rest} other")
            text += f" ({', '.join(parts)})"
        if self.resumed:
            text += f"; {self.resumed} unchanged since the last run, not verified again"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "pass": self.passed,
            "fail": self.failed,
            "error": self.errors,
            "resumed": self.resumed,
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "line": self.line(),
        }
