"""Text that came from a file, made inert before anyone is shown it.

Titles, prompts, licensor and certificate names, file names: an attacker wrote every one of
them. Printed as they are, an ESC sequence repaints the terminal, a bidirectional override
makes ``evil.wav`` read as something else, a newline forges a ``PASS`` line, and a character
XML 1.0 forbids breaks the JUnit file a CI job trusts. :func:`inert` is the one place that
decides what is shown as is: every character ``str.isprintable`` accepts, and nothing else.
The rest is shown escaped, the way Python writes it (``\\x1b``, ``\\u202e``), so nothing is
lost and nothing acts. A file name that is not UTF-8 (decoded by Python with surrogate
escapes) shows its raw bytes the same way.

The result is always printable, encodable as UTF-8 and allowed in XML 1.0.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath

__all__ = ["inert", "inert_path", "without_surrogates"]

# Lone surrogates U+DC80..U+DCFF are how Python keeps the bytes of an undecodable file name.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(char: str) -> str:
    code = ord(char)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inert(text: object) -> str:
    """``text`` (``str()`` of anything) with every unprintable character shown escaped."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else _escaped(c) for c in value)


def inert_path(path: str | os.PathLike[str] | bytes) -> str:
    """A path as people and JSON should see it: its bytes kept, nothing that acts."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return inert(str(path) if isinstance(path, PurePath) else os.fspath(path))


def without_surrogates(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates (an undecodable name's bytes) shown escaped.

    For machine outputs (JSON), which keep every other character exactly as it is.
    """
    return _SURROGATE.sub(lambda m: _escaped(m.group()), text)
