"""Attaching a grant to files that already carry a manifest, the way a CI build does.

A signed manifest is never edited: each attach signs a new manifest whose parent ingredient
is the file as it was, carrying forward its disclosure, grants and contracts and adding the
new grant, so the history stays verifiable and the active manifest holds the full set.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from provsdk._version import __version__
from provsdk.audio.essence import essence_digest, refuse_ambiguous
from provsdk.credentials.chain import validate_chain
from provsdk.credentials.profile import subject_names
from provsdk.credentials.signers import Signer
from provsdk.credentials.trust import TrustConfig
from provsdk.errors import ConfigurationError, InputError
from provsdk.grants.create import contract_document
from provsdk.grants.statement import SignedGrant, check_grant, read_grant
from provsdk.jws import read_statement
from provsdk.manifest.build import DISCLOSURE, GRANT, TRAINING_MINING, ManifestSpec
from provsdk.models.grant import ContractDocument
from provsdk.models.origin import DigitalSourceType, SoftwareAgent, TrainingMining
from provsdk.models.report import OriginLayer
from provsdk.models.store import Manifest
from provsdk.progress import Progress
from provsdk.sign.atomic import atomic_output
from provsdk.sign.writer import read_contracts, read_parent, sign_file
from provsdk.verify.layers import findings

__all__ = ["AttachResult", "attach_grant"]


@dataclass(frozen=True)
class AttachResult:
    source: Path
    output: Path
    attached: bool  # False: the file already carried this grant, nothing was written
    grants: int  # how many grants the output carries


def _tokens(manifest: Manifest, label: str) -> list[str]:
    return [
        d["jws"] for d in manifest.assertions_named(label) if isinstance(d, dict) and "jws" in d
    ]


def _signed_part(token: str) -> str:
    """What a grant's signature covers: the same grant with or without a timestamp."""
    try:
        return read_statement(token).compact
    except InputError:
        return token


def _bound_contract(
    signed: SignedGrant, contract: tuple[ContractDocument, bytes] | str | Path | None
) -> tuple[ContractDocument, bytes] | None:
    """The contract read, if it is a file, and checked to be the one the grant binds."""
    if contract is None:
        return None
    named = contract if isinstance(contract, str | Path) else contract[0].name
    read = contract_document(contract) if isinstance(contract, str | Path) else contract
    bound = signed.grant.document
    if bound is None or bound.sha256 != read[0].sha256:
        raise InputError("the grant does not bind this document", path=named)
    return read


def _contracts(
    source: Path, manifest: Manifest, trust: TrustConfig
) -> list[tuple[ContractDocument, bytes]]:
    # Read back from the file, bytes and all: the new manifest embeds them again, unchanged.
    return read_contracts(source, manifest, trust.producer)


def _restatable(origin: OriginLayer) -> DigitalSourceType | None:
    """The source type the new manifest may restate: only one a trusted history vouches for.

    The new manifest is signed by a trusted producer; restating what an untrusted history
    claims (a "recorded by a person" as much as an "AI-generated") would sign it anew.
    """
    if not origin.trusted or origin.digital_source_type is None:
        return None
    try:
        return DigitalSourceType.parse(origin.digital_source_type)
    except ValueError:
        return None


def _attach_one(
    source: Path,
    dest: Path,
    signed: SignedGrant,
    signer: Signer,
    trust: TrustConfig,
    contract: tuple[ContractDocument, bytes] | None,
    in_place: bool,
    *,
    tsa_url: str | None,
    progress: Progress | None,
) -> AttachResult:
    from provsdk.audio.containers import probe

    audio = probe(source)
    refuse_ambiguous(audio, source)  # first: no grant can bind audio players disagree on
    store = read_parent(source, audio, trust.producer)
    if store is None or store.active is None:
        raise InputError(
            "has no C2PA manifest to attach a grant to",
            path=source,
            hint="sign it first: provsdk sign FILE -o OUT --source-type ...",
        )
    active = store.active
    grants = _tokens(active, GRANT)
    if signed.statement.compact in {_signed_part(t) for t in grants}:
        if dest != source:  # the output still appears, as an exact copy: nothing new to sign
            with atomic_output(dest) as tmp:
                shutil.copyfile(source, tmp)
        return AttachResult(source, dest, attached=False, grants=len(grants))
    now = dt.datetime.now(dt.UTC)
    origin = findings(store, trust=trust, at=now).origin
    # Coverage is judged as verify will judge the output: the model only from a trusted,
    # unbroken history, the licensee only from the signer's certificate if it is trusted.
    producer_trusted = validate_chain(signer.chain, trust.producer, now).trusted
    checked = check_grant(
        signed,
        trust.licensor,
        at=now,
        essence=essence_digest(source, audio),
        model=origin.model_id if origin.trusted else None,
        producer=subject_names(signer.leaf) if producer_trusted else (),
        timestamps=trust.timestamp,
    )
    if not checked.check.signature_valid:
        raise InputError("the grant's signature does not verify; not attaching it", path=source)
    if not checked.check.chain.trusted:
        problems = "; ".join(str(p) for p in checked.check.chain.problems) or "untrusted"
        raise InputError(
            f"the grant's signer is not a trusted licensor here ({problems}); not attaching it",
            path=source,
            hint="add the licensor's root to PROVSDK_HOME/trust/licensor.pem",
        )
    if not checked.covers:
        raise InputError(f"the grant does not cover this file: {checked.coverage}", path=source)
    contracts = _contracts(source, active, trust)
    if contract is not None and contract[0].sha256 not in {d.sha256 for d, _ in contracts}:
        contracts.append(contract)
    disclosures = _tokens(active, DISCLOSURE)
    spec = ManifestSpec(
        title=dest.name,
        source_type=DigitalSourceType.DIGITAL_CREATION,  # unused: an opened action has none
        software_agent=SoftwareAgent("provsdk", __version__),
        training_mining=TrainingMining.from_entries(
            (active.assertion(TRAINING_MINING) or {}).get("entries")
        ),
        has_parent=True,
        disclosure=disclosures[0] if disclosures else None,
        grants=(*grants, signed.token),
        contracts=tuple(contracts),
        restated_source_type=_restatable(origin),
    )
    sign_file(
        source,
        dest,
        spec,
        signer,
        anchors=trust.producer,
        in_place=in_place,
        tsa_url=tsa_url,
        progress=progress,
    )
    return AttachResult(source, dest, attached=True, grants=len(grants) + 1)


def attach_grant(
    files: Sequence[str | Path],
    token: SignedGrant | str,
    *,
    signer: Signer,
    trust: TrustConfig,
    out: str | Path | None = None,
    in_place: bool = False,
    contract: tuple[ContractDocument, bytes] | str | Path | None = None,
    tsa_url: str | None = None,
    progress: Progress | None = None,
) -> list[AttachResult]:
    """Attach the signed grant ``token`` (read once here if given as text) to each file.

    With ``in_place`` each file is replaced atomically; otherwise ``out`` is the output file
    (one input) or an existing folder (several). Attaching a grant a file already carries
    writes nothing. ``contract`` is the document the grant binds (its file, or as read by
    :func:`~provsdk.grants.contract_document`), embedded beside it; a document the grant does
    not bind is refused before anything is written. ``progress`` hears each file's signing.
    """
    signed = read_grant(token) if isinstance(token, str) else token
    contract = _bound_contract(signed, contract)
    paths = [Path(f) for f in files]
    if in_place == (out is not None):
        raise ConfigurationError("give either an output (-o) or --in-place")
    if out is not None and len(paths) > 1 and not Path(out).is_dir():
        raise ConfigurationError(
            "with several files, the output must be an existing folder", path=out
        )
    if out is not None and Path(out).is_dir():
        seen: dict[str, Path] = {}
        for source in paths:
            if source.name in seen:  # checked before anything is written
                raise ConfigurationError(
                    f"{seen[source.name]} and {source} would both be written as {source.name}",
                    path=out,
                    hint="attach in place, or one folder at a time",
                )
            seen[source.name] = source
    results = []
    for source in paths:
        if in_place:
            dest = source
        elif Path(out or "").is_dir():
            dest = Path(out or "") / source.name
        else:
            dest = Path(out or "")
        results.append(
            _attach_one(
                source,
                dest,
                signed,
                signer,
                trust,
                contract,
                in_place,
                tsa_url=tsa_url,
                progress=progress,
            )
        )
    return results
