"""The one path that writes signed files: check the input, sign last, rename into place.

Nothing here generates or encodes audio; callers hand over a finished file. The input is
only read. The output appears whole, at once, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import read_manifest_reports
from provsdk.credentials.signers import Signer
from provsdk.errors import ConfigurationError, SigningError
from provsdk.manifest.build import ManifestSpec, manifest_definition
from provsdk.sign.atomic import TEMP_SUFFIX, atomic_output
from provsdk.sign.strategy import C2paBuilderStrategy, SigningStrategy

__all__ = [
    "TEMP_SUFFIX",
    "C2paBuilderStrategy",
    "SignResult",
    "SigningStrategy",
    "has_manifest",
    "sign_file",
]

_SUFFIXES = {
    AudioFormat.WAV: {".wav", ".wave"},
    AudioFormat.MP3: {".mp3"},
    AudioFormat.FLAC: {".flac"},
    AudioFormat.M4A: {".m4a", ".mp4", ".aac"},
}
_KNOWN_SUFFIXES = set().union(*_SUFFIXES.values())


@dataclass(frozen=True)
class SignResult:
    path: Path
    audio: AudioInfo
    manifest_size: int
    signer_subject: str
    strategy: str


def has_manifest(path: Path, fmt: AudioFormat) -> bool:
    """Whether ``path`` already carries an embedded C2PA manifest (read offline)."""
    import c2pa

    try:
        return read_manifest_reports(path, fmt) is not None
    except c2pa.C2paError as exc:
        raise SigningError(f"cannot read the existing manifest: {exc}", path=path) from None


def _check_destination(source: Path, dest: Path, fmt: AudioFormat, in_place: bool) -> None:
    if dest.exists() and source.samefile(dest) and not in_place:
        raise ConfigurationError(
            "the output is the input; refusing to modify it",
            path=dest,
            hint="choose another output path, or ask for in-place signing explicitly",
        )
    suffix = dest.suffix.lower()
    if suffix in _KNOWN_SUFFIXES and suffix not in _SUFFIXES[fmt]:
        raise ConfigurationError(
            f"the input is {fmt.extension.upper()} but the output is named {suffix}; "
            "signing does not convert formats",
            path=dest,
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
) -> SignResult:
    """Embed a manifest built from ``spec`` into a copy of ``source`` at ``dest``, signed.

    The input's format is detected from its content and its structure checked before anything
    is written. An input that already carries a manifest becomes the parent ingredient.
    """
    src, out = Path(source), Path(dest)
    info = probe(src)
    _check_destination(src, out, info.format, in_place)
    parent = has_manifest(src, info.format)
    if parent and not spec.has_parent:
        spec = ManifestSpec(**{**spec.__dict__, "has_parent": True})
    definition = manifest_definition(spec, info.format)
    strategy = strategy or C2paBuilderStrategy()

    import c2pa

    with atomic_output(out) as tmp:
        try:
            manifest = strategy.sign(
                definition, signer.c2pa_signer(tsa_url), info.format, src, tmp, parent=parent
            )
        except c2pa.C2paError as exc:
            raise SigningError(f"c2pa could not sign: {exc}", path=src) from None
    return SignResult(
        path=out,
        audio=info,
        manifest_size=len(manifest),
        signer_subject=signer.leaf.subject.rfc4514_string(),
        strategy=strategy.name,
    )
