"""``sign_file``: probe the input, build the manifest, sign into a temporary file, rename."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import glob
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.essence import refuse_ambiguous
from provsdk.audio.formats import FILE_SUFFIXES, AudioFormat
from provsdk.c2pa_access import (
    UnreadableManifest,
    open_reader,
    read_manifest_reports,
    sidecar_store,
)
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustStore
from provsdk.errors import (
    ConfigurationError,
    CorruptAudioError,
    InputError,
    SigningError,
    TimestampError,
)
from provsdk.grants.create import MAX_DOCUMENT_BYTES
from provsdk.manifest.build import (
    CONTRACT,
    EMBEDDED_DATA,
    ManifestSpec,
    manifest_definition,
    manifest_resources,
)
from provsdk.manifest.parse import parse_store
from provsdk.manifest.resources import EmbeddedData, read_resource
from provsdk.models.grant import ContractDocument
from provsdk.models.report import C2paState
from provsdk.models.store import Manifest, ManifestStore
from provsdk.progress import Progress
from provsdk.sidecar import SIDECAR_SUFFIX, sidecar_for
from provsdk.sign.atomic import atomic_output, atomic_pair, check_destination
from provsdk.sign.sidecar import SidecarStrategy
from provsdk.sign.strategy import (
    DataHashedStrategy,
    SigningStrategy,
    default_strategy,
    resolve_strategy,
)
from provsdk.softbinding.audio_code import AudioCode
from provsdk.softbinding.fingerprint import Fingerprint
from provsdk.timestamps import check_tsa_url

__all__ = ["SignResult", "read_contracts", "read_parent", "sign_file", "sound_binding"]

_KNOWN_SUFFIXES = frozenset().union(*FILE_SUFFIXES.values())
# Formats whose manifest goes to a sidecar, by the names their files take: two of them sharing
# a stem would share its .c2pa.
_SIDECAR_SUFFIXES = frozenset().union(*(v for f, v in FILE_SUFFIXES.items() if not f.embeds))


@dataclass(frozen=True)
class SignResult:
    path: Path
    audio: AudioInfo
    manifest_size: int
    signer_subject: str
    strategy: str
    # The input carried a manifest, now the parent: the spec's origin was not used.
    parent: bool = False
    # Why the file was not signed by the strategy asked for (c2pa's own path signed it).
    strategy_note: str | None = None
    # The ISCC Audio-Code its c2pa.soft-binding assertion carries, or why it carries none.
    soft_binding: AudioCode | None = None
    soft_binding_note: str | None = None
    # The .c2pa file the manifest was written to, for a format that cannot embed one.
    sidecar: Path | None = None


def read_parent(
    path: Path, audio: AudioInfo, anchors: TrustStore | None, sidecar: bytes | None = None
) -> ManifestStore | None:
    """The manifest store ``path`` already carries, or None.

    A store that fails validation is refused: building on it would launder a tampered file
    into one that verifies, with the broken manifest hidden as an ingredient. ``sidecar`` is
    the sidecar store of a format that keeps one, already read (else it is read here).
    """
    import c2pa

    try:
        reports = read_manifest_reports(path, audio, anchors, sidecar)
    except (c2pa.C2paError, UnreadableManifest) as exc:
        raise InputError(f"cannot read the existing C2PA manifest: {exc}", path=path) from None
    if reports is None:
        if audio.manifest is not None:
            # The structure holds a store c2pa does not read (a second leading ID3 tag, say):
            # signing it as new would keep that unseen store under the new hash.
            raise InputError(
                "the file holds a C2PA manifest store where c2pa does not read it; refusing to "
                "sign over it",
                path=path,
            )
        return None
    store = parse_store(*reports)
    if store.state is C2paState.INVALID:
        codes = ", ".join(sorted({f.code for f in store.failures})) or "invalid"
        raise InputError(
            f"the existing C2PA manifest fails validation ({codes}); refusing to sign over it",
            path=path,
        )
    return store


def read_contracts(
    path: Path, manifest: Manifest, anchors: TrustStore | None
) -> list[tuple[ContractDocument, bytes]]:
    """The contracts ``manifest``, the active manifest of ``path``, carries, read back with
    their bytes so a manifest built on it can embed them again; one per distinct digest.

    Both forms are read: embedded data marked as a contract, and the base64 JSON assertion of
    files made before. Each record's digest is of the bytes read, not of what a label says. A
    contract that cannot be read back is an error: carrying the grant without it would lose it.
    """
    import c2pa

    carried: dict[str, tuple[ContractDocument, bytes]] = {}
    wanted = [
        d
        for d in manifest.assertions_named(EMBEDDED_DATA)
        if isinstance(d, EmbeddedData) and d.contract
    ]
    if wanted:
        try:
            with open_reader(path, probe(path), anchors) as reader:
                for item in wanted:
                    name = item.title or "contract"
                    found = read_resource(reader, item.uri, MAX_DOCUMENT_BYTES)
                    if found is None:
                        raise InputError(
                            f"cannot read back the contract {name!r} it carries (unreadable, "
                            f"or over {MAX_DOCUMENT_BYTES} bytes)",
                            path=path,
                        )
                    digest, content = found
                    doc = ContractDocument(name, item.media_type, digest)
                    carried.setdefault(digest, (doc, content))
        except (c2pa.C2paError, UnreadableManifest) as exc:
            raise InputError(f"cannot read the existing C2PA manifest: {exc}", path=path) from None
    for data in manifest.assertions_named(CONTRACT):
        try:
            content = base64.b64decode(str(data["data"]), validate=True)
            name, media_type = str(data["name"]), str(data["media_type"])
        except (KeyError, TypeError, ValueError):
            continue  # an unreadable contract is reported by verification, not carried
        digest = hashlib.sha256(content).hexdigest()
        carried.setdefault(digest, (ContractDocument(name, media_type, digest), content))
    return list(carried.values())


def sound_binding(path: Path) -> tuple[AudioCode, Fingerprint]:
    """The ISCC Audio-Code of the sound of ``path`` and the Chromaprint fingerprint it comes
    from (one pass of ffmpeg over the file)."""
    from provsdk.softbinding import audio_code, fingerprint_file

    fingerprint = fingerprint_file(path)
    return audio_code(fingerprint), fingerprint


def _check_destination(source: Path, dest: Path, fmt: AudioFormat, in_place: bool) -> None:
    if dest.exists() and source.samefile(dest) and not in_place:
        raise ConfigurationError(
            "the output is the input; refusing to modify it",
            path=dest,
            hint="choose another output path, or ask for in-place signing explicitly",
        )
    suffix = dest.suffix.lower()
    if suffix in _KNOWN_SUFFIXES and suffix not in FILE_SUFFIXES[fmt]:
        raise ConfigurationError(
            f"the input is {fmt.extension.upper()} but the output is named {suffix}; "
            "signing does not convert formats",
            path=dest,
        )
    if fmt.embeds:
        return
    if suffix == SIDECAR_SUFFIX:
        raise ConfigurationError(
            f"the output is named {SIDECAR_SUFFIX}, the name its sidecar manifest would take",
            path=dest,
            hint=f"name the audio output .{fmt.extension}; the manifest goes beside it",
        )
    beside = sidecar_for(dest)
    # track.ogg and track.opus share track.c2pa: writing one's would strip the other's.
    sharing = sorted(
        other.name
        for other in dest.parent.glob(glob.escape(dest.stem) + ".*")
        if other.stem == dest.stem
        and other.suffix.lower() in _SIDECAR_SUFFIXES
        and other.name != dest.name
    )
    if sharing:
        raise ConfigurationError(
            f"{', '.join(sharing)} beside it would share its sidecar {beside.name}",
            path=dest,
            hint="give each file of a format with a sidecar a name of its own",
        )
    if (beside.exists() or beside.is_symlink()) and not dest.exists():
        raise ConfigurationError(
            f"{beside.name} already exists, and there is no {dest.name} it could describe; "
            "it may be another file's manifest",
            path=dest,
            hint=f"move {beside.name} away, or choose another output name",
        )


def sign_file(
    source: str | Path,
    dest: str | Path,
    spec: ManifestSpec,
    signer: Signer,
    *,
    tsa_url: str | None = None,
    strategy: SigningStrategy | None = None,
    in_place: bool = False,
    anchors: TrustStore | None = None,
    progress: Progress | None = None,
    soft_binding: bool = True,
) -> SignResult:
    """Embed a manifest built from ``spec`` into a copy of ``source`` at ``dest``, signed.

    The input's format is detected from its content and its structure checked before anything
    is written. An input that already carries a manifest becomes the parent ingredient, and
    its validation against the producer ``anchors`` is recorded with it; one that carries none
    needs ``spec.source_type`` (:class:`~provsdk.errors.ConfigurationError` otherwise, before
    anything is written).

    ``strategy`` defaults to :func:`~provsdk.sign.strategy.default_strategy`; ``progress``
    hears how many bytes are signed, for strategies that stream. Unless ``soft_binding`` is
    False, the manifest carries a ``c2pa.soft-binding`` assertion with the ISCC Audio-Code of
    the input's sound (``spec.soft_binding``, or computed here from its Chromaprint
    fingerprint), by which a copy that lost its manifest can find it again in a repository.
    """
    src, out = Path(source), Path(dest)
    if tsa_url is not None:
        check_tsa_url(tsa_url)
    info = probe(src)
    # Signing vouches for bytes; if players disagree on which bytes are the audio, it cannot.
    refuse_ambiguous(info, src)
    _check_destination(src, out, info.format, in_place)
    check_destination(out)  # before c2pa reads the input: an unwritable folder fails now
    # A sidecar is read once: the store judged here is the one the new manifest builds on.
    beside_src = None if info.format.embeds else _source_sidecar(src, info)
    may_carry = info.format.embeds or beside_src is not None
    parent = may_carry and read_parent(src, info, anchors, beside_src) is not None
    if parent != spec.has_parent:
        spec = dataclasses.replace(spec, has_parent=parent)
    unbound: str | None = None
    if soft_binding and spec.soft_binding is None:
        try:
            code, fingerprint = sound_binding(src)
            spec = dataclasses.replace(spec, soft_binding=code, fingerprint=fingerprint)
        except CorruptAudioError as exc:
            # Too short a clip, or a stream ffmpeg cannot decode whole: the file is still
            # signed and hash-bound; only finding it again by its sound is not possible.
            unbound = exc.message
    try:
        definition = manifest_definition(spec, info.format)
    except ConfigurationError as exc:
        raise ConfigurationError(exc.message, path=src, hint=exc.hint) from None
    signer_errors: list[BaseException] = []
    c2pa_signer = signer.c2pa_signer(tsa_url, signer_errors)
    resources = manifest_resources(spec)
    beside: Path | None = None
    if info.format.embeds:
        strategy, strategy_note = resolve_strategy(strategy or default_strategy(), info.format, src)
        with atomic_output(out) as tmp, _signing_errors(src, tsa_url, signer_errors):
            manifest = strategy.sign(
                definition,
                c2pa_signer,
                info.format,
                src,
                tmp,
                parent=parent,
                anchors=anchors,
                resources=resources,
                progress=progress,
            )
    else:
        strategy_note = _sidecar_note(strategy, info.format)
        beside, sidecar = sidecar_for(out), SidecarStrategy(beside_src)
        strategy = sidecar
        # In place the audio is not rewritten: only its sidecar is replaced, atomically (then
        # the one temporary atomic_pair yields, twice, is the sidecar's).
        same_file = out.exists() and src.samefile(out)
        pair = atomic_pair(beside, None) if same_file else atomic_pair(out, beside)
        with pair as (tmp, tmp_beside):
            with _signing_errors(src, tsa_url, signer_errors):
                manifest = sidecar.sign(
                    definition,
                    c2pa_signer,
                    info.format,
                    src,
                    None if same_file else tmp,
                    parent=parent,
                    anchors=anchors,
                    resources=resources,
                    progress=progress,
                )
            tmp_beside.write_bytes(manifest)
    return SignResult(
        path=out,
        audio=info,
        manifest_size=len(manifest),
        signer_subject=signer.leaf.subject.rfc4514_string(),
        strategy=strategy.name,
        parent=parent,
        strategy_note=strategy_note,
        soft_binding=spec.soft_binding,
        soft_binding_note=unbound,
        sidecar=beside,
    )


def _source_sidecar(src: Path, info: AudioInfo) -> bytes | None:
    """The sidecar store ``src`` has, read once; a broken one is refused as a broken embedded
    store is."""
    try:
        return sidecar_store(src, info)
    except UnreadableManifest as exc:
        raise InputError(f"cannot read the existing C2PA manifest: {exc}", path=src) from None


def _sidecar_note(asked: SigningStrategy | None, fmt: AudioFormat) -> str | None:
    """Why a strategy asked for by name is not the one that signs a sidecar format."""
    if asked is None or isinstance(asked, DataHashedStrategy):
        return None  # the default: nothing was asked that is not done
    return f"{fmt.extension.upper()} cannot embed a manifest: it was signed into a sidecar"


@contextlib.contextmanager
def _signing_errors(
    src: Path, tsa_url: str | None, signer_errors: list[BaseException]
) -> Iterator[None]:
    """c2pa's signing errors as provsdk's: what the signer raised, which TSA failed."""
    import c2pa

    try:
        yield
    except c2pa.C2paError as exc:
        if signer_errors:
            cause = signer_errors[0]
            raise SigningError(
                f"the signer failed: {type(cause).__name__}: {cause}", path=src
            ) from cause
        text = " ".join(str(exc).split())
        if tsa_url and ("http resolver" in text or "timestamp" in text.lower()):
            # c2pa asks the TSA itself; say which service failed, not only that c2pa did.
            raise TimestampError(
                f"time-stamp authority {tsa_url} gave no token: {text}", path=src
            ) from None
        raise SigningError(f"c2pa could not sign: {text}", path=src) from None
