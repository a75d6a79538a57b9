"""The embedded C2PA manifest store: its JUMBF box tree and the lengths its CBOR declares.

c2pa 0.38 allocates what a CBOR length field says before reading the bytes: one changed byte in
a 60 KB file can make it reserve 1.7 GB (found by fuzzing; see docs/SECURITY.md). This walk
checks, before c2pa reads the store, that every box fits its parent and that every CBOR string,
array and map declares no more than the bytes left in its box. It decodes nothing and allocates
nothing per field, so it is linear in the store's size. What it cannot vouch for it lets through:
c2pa still validates everything; this only keeps c2pa from being asked to reserve the impossible.
"""

from __future__ import annotations

__all__ = ["manifest_store_problem"]

MAX_BOXES = 100_000  # a manifest store holds tens of boxes; a hostile one, anything
MAX_BOX_DEPTH = 16
MAX_CBOR_DEPTH = 64
_BREAK = 0xFF


class _Bad(Exception):
    """What is wrong with the store, in a sentence."""


def manifest_store_problem(carrier: bytes | memoryview) -> str | None:
    """What is structurally wrong with the manifest store in ``carrier``, or None.

    ``carrier`` is what c2pa reads the store from (a RIFF chunk, an ID3 frame, an MP4 'uuid'
    box); the store is the first JUMBF superbox in it.
    """
    view = memoryview(carrier)
    at = bytes(view[: min(len(view), 512)]).find(b"jumb")
    if at < 4:
        return None  # not a store this walk recognises; c2pa will say what it is
    # The store is that one superbox; what follows it in the carrier (padding) is not c2pa's.
    size = _be(view, at - 4, 4)
    end_of_store = at - 4 + size if 8 <= size <= len(view) - (at - 4) else len(view)
    try:
        _boxes(view, at - 4, end_of_store, 0, [0])
    except _Bad as exc:
        return str(exc)
    return None


def _be(view: memoryview, pos: int, size: int) -> int:
    return int.from_bytes(view[pos : pos + size], "big")


def _boxes(view: memoryview, pos: int, end: int, depth: int, count: list[int]) -> None:
    if depth > MAX_BOX_DEPTH:
        raise _Bad(f"manifest store: boxes nested deeper than {MAX_BOX_DEPTH}")
    while pos < end:
        count[0] += 1
        if count[0] > MAX_BOXES:
            raise _Bad(f"manifest store: more than {MAX_BOXES} boxes")
        if end - pos < 8:
            raise _Bad("manifest store: a box header is cut short")
        size, kind, header = _be(view, pos, 4), bytes(view[pos + 4 : pos + 8]), 8
        if size == 1:
            if end - pos < 16:
                raise _Bad("manifest store: a large box header is cut short")
            size, header = _be(view, pos + 8, 8), 16
        elif size == 0:
            size = end - pos
        if size < header or size > end - pos:
            name = kind.decode("latin-1")
            raise _Bad(f"manifest store: box {name!r} declares {size} bytes, {end - pos} remain")
        if kind == b"jumb":
            _boxes(view, pos + header, pos + size, depth + 1, count)
        elif kind == b"cbor":
            _cbor(view, pos + header, pos + size, 0)
        pos += size


def _cbor(view: memoryview, pos: int, end: int, depth: int) -> int:
    """Skip one CBOR data item (RFC 8949) starting at ``pos``; the position after it.

    A loop over a stack of item counts, not a call per item: a store holds hundreds of items,
    and this walk runs on every file verified. (Indefinite lengths, rare, recurse.)
    """
    left = [1]  # per open array, map or tag: the items still to skip in it
    while left:
        if not left[-1]:
            left.pop()
            continue
        left[-1] -= 1
        level = depth + len(left) - 1
        if level > MAX_CBOR_DEPTH:
            raise _Bad(f"manifest store: CBOR nested deeper than {MAX_CBOR_DEPTH}")
        if pos >= end:
            raise _Bad("manifest store: a CBOR item is cut short")
        initial = view[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        if info == 31:
            pos = _indefinite(view, pos, end, level, major)
            continue
        if info > 27:
            raise _Bad(f"manifest store: malformed CBOR (additional information {info})")
        value = info
        if info >= 24:
            width = 1 << (info - 24)
            if end - pos < width:
                raise _Bad("manifest store: a CBOR length is cut short")
            value = view[pos] if width == 1 else _be(view, pos, width)
            pos += width
        if major == 2 or major == 3:
            if value > end - pos:
                raise _Bad(
                    f"manifest store: a CBOR string declares {value} bytes, {end - pos} remain"
                )
            pos += value
        elif major == 4 or major == 5:
            items = value * 2 if major == 5 else value
            if items > end - pos:  # every item takes at least one byte
                raise _Bad(
                    f"manifest store: a CBOR container declares {items} items, "
                    f"{end - pos} bytes remain"
                )
            left.append(items)
        elif major == 6:
            left.append(1)
        # integers, simple values and floats: their bytes were the value
    return pos


def _indefinite(view: memoryview, pos: int, end: int, depth: int, major: int) -> int:
    if major not in (2, 3, 4, 5):
        raise _Bad(f"manifest store: malformed CBOR (indefinite length on major type {major})")
    while True:
        if pos >= end:
            raise _Bad("manifest store: an indefinite-length CBOR item has no end")
        if view[pos] == _BREAK:
            return pos + 1
        if major in (2, 3) and view[pos] >> 5 != major:
            raise _Bad("manifest store: malformed CBOR (a string chunk of another type)")
        pos = _cbor(view, pos, end, depth + 1)
        if major == 5:
            pos = _cbor(view, pos, end, depth + 1)
