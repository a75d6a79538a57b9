"""How bytes get signed: c2pa's own whole-file path, or provsdk's streaming data-hashed one.

:class:`DataHashedStrategy` is the default for WAV, MP3 and FLAC: one pass copies the source
into the output while hashing it, around a manifest placeholder of the size c2pa asks for,
and the signed store is then written over the placeholder. Memory stays flat whatever the
file's length. :class:`C2paBuilderStrategy` is ``c2pa.Builder.sign``, which reads the source
twice and holds it in memory; it signs M4A (a BMFF hash, docs/adr/0015) and anything the
streaming writer cannot reproduce, and the environment variable ``PROVSDK_SIGNING_STRATEGY``
(``data-hashed`` or ``c2pa-builder``) picks one for every signing in the process.
"""

from __future__ import annotations

import contextlib
import io
import logging
import mmap
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from provsdk.audio.containers import probe
from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.trust import TrustStore
from provsdk.errors import ConfigurationError, InputError, SigningError
from provsdk.manifest.build import PARENT_INGREDIENT
from provsdk.progress import Progress
from provsdk.sign.hashed_copy import copy_and_hash
from provsdk.sign.layout import Plan, Unfit, plan_layout
from provsdk.sign.native import data_hashed_calls, unavailable_reason

__all__ = [
    "STRATEGY_ENV",
    "C2paBuilderStrategy",
    "DataHashedStrategy",
    "SigningStrategy",
    "WatchedFile",
    "default_strategy",
    "resolve_strategy",
]

STRATEGY_ENV = "PROVSDK_SIGNING_STRATEGY"
_log = logging.getLogger("provsdk.sign")


class WatchedFile:
    """A file for c2pa to write to that remembers the OSError of a failed write.

    c2pa's stream callbacks turn a write failure (a full disk, a file size limit) into a vague
    "embedding error"; keeping the real cause lets us say what went wrong with the output.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.error: OSError | None = None

    def read(self, size: int = -1) -> bytes:
        return self._fh.read(size)

    def write(self, data: bytes) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def flush(self) -> None:
        try:
            self._fh.flush()
        except OSError as exc:
            self.error = exc
            raise


class SigningStrategy(Protocol):
    """Embeds and signs ``definition`` into a copy of ``source`` written to ``dest``."""

    name: str

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path,
        *,
        parent: bool,
        anchors: TrustStore | None,
        resources: Sequence[tuple[str, bytes]] = (),
        progress: Progress | None = None,
    ) -> bytes:
        """Returns the manifest bytes. ``dest`` is a temporary file the caller owns.

        With ``parent``, ``source``'s own manifest becomes the parent ingredient, validated
        against ``anchors`` (c2pa records that validation in the new manifest). ``resources``
        are the binary data the definition names by identifier (contracts), to embed.
        ``progress``, if the strategy reports any, hears (SIGN, bytes done, bytes in all).
        """
        ...


def _builder(
    definition: dict[str, Any],
    fmt: AudioFormat,
    source: Path,
    src: BinaryIO,
    *,
    parent: bool,
    anchors: TrustStore | None,
    resources: Sequence[tuple[str, bytes]],
) -> Any:
    """A c2pa Builder for ``definition`` with its resources and, with ``parent``, the
    source's manifest as the parent ingredient (read from ``src``, left at its start)."""
    import c2pa

    builder = c2pa.Builder(definition, context=c2pa_context(anchors))
    for identifier, content in resources:
        # BytesIO over bytes shares them rather than copying: contracts run to 10 MiB.
        builder.add_resource(identifier, io.BytesIO(content))
    if parent:
        ingredient = {"title": source.name, "relationship": "parentOf", "label": PARENT_INGREDIENT}
        builder.add_ingredient(ingredient, fmt.mime_type, src)
        src.seek(0)
    return builder


class C2paBuilderStrategy:
    """``c2pa.Builder.sign`` from the source file to the destination file.

    c2pa 0.38.1 reads the source twice and peaks at about twice the file size in memory
    (see bench/). It reports no progress.
    """

    name = "c2pa-builder"

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path,
        *,
        parent: bool,
        anchors: TrustStore | None,
        resources: Sequence[tuple[str, bytes]] = (),
        progress: Progress | None = None,
    ) -> bytes:
        import c2pa

        with source.open("rb") as src:
            before = _identity(src)
            builder = _builder(
                definition,
                fmt,
                source,
                src,
                parent=parent,
                anchors=anchors,
                resources=resources,
            )
            with dest.open("w+b") as out:
                watched = WatchedFile(out)
                try:
                    manifest = bytes(builder.sign(signer, fmt.mime_type, src, watched))
                except c2pa.C2paError:
                    if watched.error is not None:
                        raise watched.error from None  # the output's own failure, not c2pa's
                    raise
            # c2pa read the source itself, after sign_file checked it: the signed output is
            # checked as the source was, before the caller renames it into place.
            _refuse_changed(fmt, source, src, before, dest)
            return manifest


class DataHashedStrategy:
    """One streaming pass for WAV, MP3 and FLAC: copy and hash, then sign the hash.

    The output is laid out as c2pa's own writer lays it out (:mod:`provsdk.sign.layout`), with
    a placeholder store where the manifest goes; c2pa signs a data-hash assertion over every
    byte but the store; the signed store, of the placeholder's size, replaces it in place.
    """

    name = "data-hashed"

    def unfit(self, fmt: AudioFormat, source: Path) -> str | None:
        """Why this strategy cannot sign ``source`` (then c2pa's own path does), or None."""
        reason = unavailable_reason()
        if reason is not None:
            return reason
        try:
            _plan(fmt, source)
        except Unfit as exc:
            return str(exc)
        return None

    def sign(
        self,
        definition: dict[str, Any],
        signer: Any,
        fmt: AudioFormat,
        source: Path,
        dest: Path,
        *,
        parent: bool,
        anchors: TrustStore | None,
        resources: Sequence[tuple[str, bytes]] = (),
        progress: Progress | None = None,
    ) -> bytes:
        calls = data_hashed_calls()
        if calls is None:
            raise SigningError(f"the data-hashed strategy is unavailable: {unavailable_reason()}")
        try:
            with source.open("rb") as src:
                # Plan, copy and the change check all use this one open file: a source renamed
                # over between a plan made from one open and a copy made from another would
                # be copied by ranges that describe some other file.
                before = _identity(src)
                plan = _plan(fmt, source, src)
                builder = _builder(
                    definition,
                    fmt,
                    source,
                    src,
                    parent=parent,
                    anchors=anchors,
                    resources=resources,
                )
                placeholder = calls.placeholder(builder, signer.reserve_size())
                layout = plan.assemble(placeholder)
                with dest.open("w+b") as out:
                    digest = copy_and_hash(layout, src, out, source, progress)
                    out.flush()
                    _refuse_changed(fmt, source, src, before, dest)
                    excluded = layout.exclusion()
                    signed = calls.sign(builder, signer, digest, [excluded])
                    if len(signed) != len(placeholder):
                        raise SigningError(
                            f"c2pa returned a {len(signed)}-byte manifest for a "
                            f"{len(placeholder)}-byte placeholder",
                            path=source,
                        )
                    out.seek(layout.manifest_offset())
                    out.write(signed)
                    return signed
        except Unfit as exc:
            raise SigningError(f"cannot sign by data hash: {exc}", path=source) from None


def _plan(fmt: AudioFormat, source: Path, src: BinaryIO | None = None) -> Plan:
    """The layout plan of ``source``, read from ``src`` when it is already open."""
    try:
        with contextlib.ExitStack() as stack:
            fh = src if src is not None else stack.enter_context(source.open("rb"))
            view = stack.enter_context(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
            return plan_layout(fmt, Bytes(view, source))
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=source) from None


def _identity(src: BinaryIO) -> tuple[int, ...]:
    """What changes when a file is written to: its size and its modification times."""
    st = os.fstat(src.fileno())
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _refuse_changed(
    fmt: AudioFormat, source: Path, src: BinaryIO, before: tuple[int, ...], output: Path
) -> None:
    """Refuse to sign when the source was written to while it was copied.

    The probe, its ambiguity check and the plan all read the source before the copy does; a
    process writing to it meanwhile could turn, say, a LIST chunk into a second 'data' chunk,
    and the signer would vouch for audio that players disagree on (the check sign_file made
    was of other bytes). The times catch a write in all but the same clock tick; the output,
    which is exactly what gets signed, is checked again as the source was, for the rest.
    """
    problem: str | None = None
    if _identity(src) != before:
        problem = "its size or modification time moved"
    else:
        try:
            info = probe(output)
            if info.format is not fmt:
                problem = f"it is no longer {fmt.extension.upper()}"
            elif info.essence is None:
                problem = info.essence_problem or "its audio can no longer be located"
        except InputError as exc:
            problem = exc.message
    if problem is not None:
        raise InputError(f"the file changed while it was being signed: {problem}", path=source)


def default_strategy() -> SigningStrategy:
    """The strategy ``PROVSDK_SIGNING_STRATEGY`` names, else the data-hashed one."""
    wanted = os.environ.get(STRATEGY_ENV, "").strip() or DataHashedStrategy.name
    strategies: dict[str, type[SigningStrategy]] = {
        DataHashedStrategy.name: DataHashedStrategy,
        C2paBuilderStrategy.name: C2paBuilderStrategy,
    }
    if wanted not in strategies:
        raise ConfigurationError(
            f"{STRATEGY_ENV}={wanted!r} names no signing strategy",
            hint=f"use one of: {', '.join(strategies)}",
        )
    return strategies[wanted]()


def resolve_strategy(
    strategy: SigningStrategy, fmt: AudioFormat, source: Path
) -> tuple[SigningStrategy, str | None]:
    """The strategy that will sign ``source``, and why it is not the one asked for, if not.

    A data-hashed request for a file it cannot reproduce (M4A, or a layout it does not
    rewrite), or with a c2pa it does not bind to, is signed by c2pa's own path instead.
    """
    if not isinstance(strategy, DataHashedStrategy):
        return strategy, None
    reason = strategy.unfit(fmt, source)
    if reason is None:
        return strategy, None
    if unavailable_reason() is not None:
        _log.warning("signing with c2pa's own path: %s", reason)
    return C2paBuilderStrategy(), reason
