"""The two data-hashed signing calls of c2pa's C library, which c2pa-python does not wrap.

c2pa-python 0.38.1 ships ``libc2pa_c`` with ``c2pa_builder_data_hashed_placeholder`` and
``c2pa_builder_sign_data_hashed_embeddable`` exported but without Python bindings. They let the
caller write the file and hash it in the same pass, so signing needs neither a second read nor
the file in memory. This module declares their ctypes prototypes and nothing else.

It reaches into c2pa-python's private parts (the library handle, the native handles of a
``Builder`` and a ``Signer``, and the locks c2pa-python holds around its own native calls), so
it binds only to the exact native library version it was written against: with any other,
:func:`data_hashed_calls` returns None with the reason and signing takes c2pa's own path.
"""

from __future__ import annotations

import ctypes
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["NATIVE_VERSION", "DataHashedCalls", "data_hashed_calls", "unavailable_reason"]

# The c2pa-rs C library these prototypes were checked against (c2pa.sdk_version()).
NATIVE_VERSION = "0.91.3"
# What c2pa is told the embeddable is: raw JUMBF, which provsdk wraps in the container itself.
# c2pa-rs answers NotSupported for audio formats here; it composes only image, PDF and BMFF.
RAW_MANIFEST = b"application/c2pa"
# c2pa-python's locks around a handle's native calls, on both Builder and Signer.
_LOCKS = ("_exclusive_native_call", "_native_call")


@dataclass(frozen=True)
class DataHashedCalls:
    """The bound functions; one instance per process (see :func:`data_hashed_calls`)."""

    lib: Any
    check: Any  # c2pa-python's own result check: raises the typed C2paError c2pa reports

    def placeholder(self, builder: Any, reserve: int) -> bytes:
        """The manifest store with room for a signature of ``reserve`` bytes, as raw JUMBF.

        It must be called before :meth:`sign`: it adds the data-hash assertion the claim
        binds to. The signed store has exactly this length (checked by the caller).
        """
        out = ctypes.POINTER(ctypes.c_ubyte)()
        with builder._exclusive_native_call():
            size = self.lib.c2pa_builder_data_hashed_placeholder(
                builder._handle, reserve, RAW_MANIFEST, ctypes.byref(out)
            )
            return self._take(size, out, "c2pa could not make the manifest placeholder")

    def sign(
        self, builder: Any, signer: Any, digest: bytes, exclusions: Sequence[tuple[int, int]]
    ) -> bytes:
        """The signed manifest store, binding the SHA-256 ``digest`` of the file with the
        ``exclusions`` (start, length) left out. The builder is spent afterwards."""
        data_hash = json.dumps(
            {
                "exclusions": [{"start": s, "length": n} for s, n in exclusions],
                # A list of byte values: a base64 string is accepted and silently yields a
                # manifest whose hash never matches.
                "hash": list(digest),
                "pad": [],
            }
        ).encode()
        out = ctypes.POINTER(ctypes.c_ubyte)()
        try:
            with builder._exclusive_native_call(), signer._native_call():
                size = self.lib.c2pa_builder_sign_data_hashed_embeddable(
                    builder._handle,
                    signer._handle,
                    data_hash,
                    RAW_MANIFEST,
                    None,
                    ctypes.byref(out),
                )
                return self._take(size, out, "c2pa could not sign")
        finally:
            builder.close()  # single use, as c2pa-python's own sign treats it

    def _take(self, size: int, out: Any, failure: str) -> bytes:
        self.check(size, failure + ": {}", check=lambda r: r < 0)
        try:
            return ctypes.string_at(out, size)
        finally:
            self.lib.c2pa_free(out)


def _bind() -> DataHashedCalls | str:
    import c2pa
    from c2pa import c2pa as impl

    version = c2pa.sdk_version()
    if version != NATIVE_VERSION:
        return (
            f"c2pa's native library is {version}, the data-hashed binding is for {NATIVE_VERSION}"
        )
    lib = getattr(impl, "_lib", None)
    check = getattr(impl, "_check_ffi_operation_result", None)
    missing = [n for n in _LOCKS for cls in (c2pa.Builder, c2pa.Signer) if not hasattr(cls, n)]
    if lib is None or check is None or missing:
        return "c2pa-python's internals differ from the version the binding was written for"
    try:
        placeholder = lib.c2pa_builder_data_hashed_placeholder
        sign = lib.c2pa_builder_sign_data_hashed_embeddable
    except AttributeError as exc:
        return f"c2pa's native library lacks a data-hashed function ({exc})"
    out = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
    placeholder.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, out]
    placeholder.restype = ctypes.c_int64
    sign.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        out,
    ]
    sign.restype = ctypes.c_int64
    return DataHashedCalls(lib, check)


@functools.cache
def _binding() -> DataHashedCalls | str:
    return _bind()


def data_hashed_calls() -> DataHashedCalls | None:
    """The bound calls, or None when this c2pa is not the one they were checked against."""
    found = _binding()
    return found if isinstance(found, DataHashedCalls) else None


def unavailable_reason() -> str | None:
    """Why :func:`data_hashed_calls` is None; None when the calls are bound."""
    found = _binding()
    return found if isinstance(found, str) else None
