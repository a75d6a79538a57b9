"""A DDEX ERN 4.3.2 NewReleaseMessage from verified files, with their AI disclosure.

Only files whose verification passes are exported, and only layers the report vouches for
become facts in the message:

* the AI flags (``ContainsAI`` on the SoundRecording and the Release, a ``GenerativeAI``
  ``Contributor`` with its ``AiContribution``) come from the origin layer, and only when every
  manifest of the history is signed by a trusted producer: an untrusted manifest's claim that
  a model made the audio is left out, so the flag is absent (unknown), never "All";
* the model and its provider become Parties, credited on that Contributor's ``DisplayCredits``
  (ERN has no element of its own for a model or a training-data disclosure);
* a training-data disclosure is credited the same way, and only when its provider signature is
  trusted and it is bound to the file;
* the title is the manifest's when its producer is trusted, otherwise the file name.

The C2PA manifest label goes into the edition's ``ResourceId`` as a ``ProprietaryId``, so a
recipient can find the evidence the message was built from. Text that came from files is made
inert (``provsdk.inert``) first, so no title or name can break the XML. The message is checked
against the ERN XSD with ``xmlschema`` before anything is written, then written atomically.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provsdk.errors import InvalidArgumentError, OutputError
from provsdk.inert import inert
from provsdk.models.origin import DigitalSourceType

if TYPE_CHECKING:
    from provsdk.credentials.trust import TrustConfig
    from provsdk.models.report import VerificationReport
    from provsdk.verify.policy import Policy
    from provsdk.verify.read import FileEvidence

__all__ = [
    "ERN_NAMESPACE",
    "ExportResult",
    "MessageParty",
    "Recording",
    "Rejected",
    "build_message",
    "export_ddex",
    "recording_from",
]

ERN_NAMESPACE = "http://ddex.net/xml/ern/432"
# The Allowed Value Set edition the ERN 4.3.2 schema's values come from.
AVS_VERSION = "9"
# What the manifest label's ProprietaryId is an identifier in.
MANIFEST_NAMESPACE = "C2PA"
DPID_PATTERN = re.compile(r"PADPIDA[a-zA-Z0-9]+")
# Only these source types say how much of the audio a model made; the others say nothing.
_CONTRIBUTION = {
    DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.value: "All",
    # ERN's only machine-made flag: audio made by rules is as machine-made as a model's.
    DigitalSourceType.ALGORITHMIC_MEDIA.value: "All",
    DigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA.value: "Partly",
    DigitalSourceType.DIGITAL_CREATION.value: "None",
    DigitalSourceType.DIGITAL_CAPTURE.value: "None",
}


@dataclass(frozen=True)
class MessageParty:
    """The sender or the recipient of a message: a DDEX Party Identifier, and a name."""

    dpid: str
    name: str | None = None

    def __post_init__(self) -> None:
        if not DPID_PATTERN.fullmatch(self.dpid):
            raise InvalidArgumentError(
                f"{inert(self.dpid)!r} is not a DDEX Party Identifier (PADPIDA followed by "
                "letters and digits, as DDEX allocates them)"
            )


@dataclass(frozen=True)
class Disclosed:
    """A trusted, bound training-data disclosure: who signed it and what it says."""

    provider: str | None
    summary: str | None
    training_bases: tuple[str, ...]


@dataclass(frozen=True)
class Recording:
    """What one verified file contributes to the message: facts from trusted layers only.

    ``contains_ai`` is ERN's ``ContainsAI`` value (``All``, ``Partly``, ``None``), or None when
    no trusted layer says (then the message says nothing either).
    """

    path: Path
    title: str
    duration: float
    manifest_label: str | None
    artist: str | None = None
    contains_ai: str | None = None
    model: str | None = None
    provider: str | None = None
    disclosure: Disclosed | None = None


@dataclass(frozen=True)
class Rejected:
    """A file left out of the message, and the first reason why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ExportResult:
    """What an export did: the recordings written (to ``written``), the files left out."""

    recordings: tuple[Recording, ...]
    rejected: tuple[Rejected, ...] = ()
    written: Path | None = None
    message_id: str | None = None

    @property
    def complete(self) -> bool:
        """Every file given was exported."""
        return not self.rejected and self.written is not None


def recording_from(evidence: FileEvidence, report: VerificationReport) -> Recording | Rejected:
    """The recording a passing ``report`` vouches for, or why the file is left out."""
    path = Path(evidence.path)
    if not report.passed:
        first = report.reasons[0] if report.reasons else None
        return Rejected(path, str(first) if first else "verification failed")
    if report.duration is None:
        return Rejected(path, "export.duration: the file's duration cannot be read")
    origin, producer = report.origin, report.producer
    active = evidence.store.active if evidence.store else None
    title = active.title if producer.trusted and active and active.title else None
    disclosure = report.disclosure
    disclosed = None
    if (
        disclosure.present
        and disclosure.signature_valid
        and disclosure.trusted
        and disclosure.bound
    ):
        disclosed = Disclosed(
            disclosure.provider, disclosure.summary, tuple(disclosure.training_bases)
        )
    trusted_origin = origin.present and origin.trusted
    return Recording(
        path=path,
        title=title or path.name,
        duration=report.duration,
        # The signer picks the label: an untrusted one could copy a trusted track's.
        manifest_label=report.integrity.manifest_label if producer.trusted else None,
        artist=(producer.organization or producer.common_name) if producer.trusted else None,
        contains_ai=_CONTRIBUTION.get(origin.digital_source_type or "") if trusted_origin else None,
        model=origin.model_id if trusted_origin else None,
        provider=origin.provider if trusted_origin else None,
        disclosure=disclosed,
    )


def iso_duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration the way ERN writes them: ``PT1M30.5S``."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _text(parent: ET.Element, tag: str, value: object, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    child.text = inert(value)  # XML 1.0 forbids control characters; ElementTree escapes markup
    return child


@dataclass
class _Parties:
    """The PartyList being built: one Party per distinct name, referenced as P1, P2, ..."""

    by_name: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def ref(self, name: str, dpid: str | None = None) -> str:
        key = inert(name)
        if key not in self.by_name:
            self.by_name[key] = f"P{len(self.by_name) + 1}"
            if dpid:
                self.ids[key] = dpid
        return self.by_name[key]

    def element(self) -> ET.Element:
        parties = ET.Element("PartyList")
        for name, ref in self.by_name.items():
            party = ET.SubElement(parties, "Party")
            _text(party, "PartyReference", ref)
            _text(ET.SubElement(party, "PartyName"), "FullName", name)
            if name in self.ids:
                _text(ET.SubElement(party, "PartyId"), "DPID", self.ids[name])
        return parties


def _messaging_party(parent: ET.Element, tag: str, party: MessageParty) -> None:
    element = ET.SubElement(parent, tag)
    _text(element, "PartyId", party.dpid)
    if party.name:
        _text(ET.SubElement(element, "PartyName"), "FullName", party.name)


def _titles(parent: ET.Element, title: str) -> None:
    _text(parent, "DisplayTitleText", title)
    _text(ET.SubElement(parent, "DisplayTitle"), "TitleText", title)


def _artist(parent: ET.Element, name: str, ref: str) -> None:
    _text(parent, "DisplayArtistName", name)
    artist = ET.SubElement(parent, "DisplayArtist")
    _text(artist, "ArtistPartyReference", ref)
    _text(artist, "DisplayArtistRole", "MainArtist")


def _credit(parent: ET.Element, text: str, refs: Iterable[str]) -> None:
    credits = ET.SubElement(parent, "DisplayCredits")
    _text(credits, "DisplayCreditText", text)
    for ref in refs:
        _text(credits, "DisplayCreditParty", ref)


def _ai_contributor(parent: ET.Element, recording: Recording, parties: _Parties) -> None:
    """The ``GenerativeAI`` Contributor, crediting the model, its provider and the disclosure.

    ERN lets a ``ContainsAI`` of All name no other kind of contributor, so the model and the
    provider are credited as Parties of this one's ``DisplayCredits``, not as contributors.
    """
    contributor = ET.SubElement(parent, "Contributor")
    _text(contributor, "SpecialContributor", "GenerativeAI")
    _text(contributor, "AiContribution", recording.contains_ai)
    made_by = [n for n in (recording.model, recording.provider) if n]
    if made_by:
        text = f"Generated by {recording.model or 'a model'}"
        if recording.provider:
            text += f" (provider: {recording.provider})"
        _credit(contributor, text, [parties.ref(n) for n in made_by])
    disclosed = recording.disclosure
    if disclosed:
        bases = ", ".join(disclosed.training_bases) or "not stated"
        text = f"Training data, per the provider's signed disclosure: {bases}"
        if disclosed.summary:
            text += f" ({disclosed.summary})"
        _credit(contributor, text, [parties.ref(disclosed.provider)] if disclosed.provider else [])


def _sound_recording(
    parent: ET.Element, recording: Recording, index: int, label: str, parties: _Parties
) -> None:
    sound = ET.SubElement(parent, "SoundRecording")
    _text(sound, "ResourceReference", f"A{index}")
    _text(sound, "Type", "MusicalWorkSoundRecording")
    edition = ET.SubElement(sound, "SoundRecordingEdition")
    resource_id = ET.SubElement(edition, "ResourceId")
    if recording.manifest_label:
        _text(resource_id, "ProprietaryId", recording.manifest_label, Namespace=MANIFEST_NAMESPACE)
    _titles(sound, recording.title)
    artist = recording.artist or label
    _artist(sound, artist, parties.ref(artist))
    if recording.contains_ai in ("All", "Partly"):
        _ai_contributor(sound, recording, parties)
    _text(sound, "Duration", iso_duration(recording.duration))
    if recording.contains_ai:
        _text(sound, "ContainsAI", recording.contains_ai)


def _release_contains_ai(recordings: Sequence[Recording]) -> str | None:
    values = {r.contains_ai for r in recordings}
    if len(values) == 1:
        return values.pop()
    # Mixed: some of the release is machine-made only if a trusted layer says so of a track.
    return "Partly" if values & {"All", "Partly"} else None


def _release(
    parent: ET.Element,
    recordings: Sequence[Recording],
    *,
    title: str,
    genre: str,
    message_id: str,
    sender: MessageParty,
    label_ref: str,
    artist: tuple[str, str],
) -> None:
    release = ET.SubElement(ET.SubElement(parent, "ReleaseList"), "Release")
    _text(release, "ReleaseReference", "R0")
    _text(release, "ReleaseType", "Single" if len(recordings) == 1 else "Album")
    release_id = ET.SubElement(release, "ReleaseId")
    _text(release_id, "ProprietaryId", message_id, Namespace=f"DPID:{sender.dpid}")
    _titles(release, title)
    _artist(release, *artist)
    _text(release, "ReleaseLabelReference", label_ref)
    _text(release, "Duration", iso_duration(sum(r.duration for r in recordings)))
    _text(ET.SubElement(release, "DisplayGenre"), "GenreText", genre)
    # The schema takes one of the two compilation flags: this release is no compilation.
    _text(release, "IsMultiArtistCompilation", "false")
    group = ET.SubElement(release, "ResourceGroup")
    for index, _ in enumerate(recordings, start=1):
        item = ET.SubElement(group, "ResourceGroupContentItem")
        _text(item, "SequenceNumber", index)
        _text(item, "ReleaseResourceReference", f"A{index}")
    contains = _release_contains_ai(recordings)
    if contains:
        _text(release, "ContainsAI", contains)


def build_message(
    recordings: Sequence[Recording],
    *,
    sender: MessageParty,
    recipient: MessageParty,
    message_id: str | None = None,
    created: dt.datetime | None = None,
    title: str | None = None,
    genre: str = "Unknown",
    language: str = "en",
) -> ET.Element:
    """The NewReleaseMessage (its root) for ``recordings``: one Release of every recording.

    The label (and the artist, when no trusted producer names one) is the sender. ``title``
    defaults to the only recording's title, or "N recordings".
    """
    if not recordings:
        raise InvalidArgumentError("a release needs at least one recording")
    message_id = message_id or uuid.uuid4().hex
    created = created or dt.datetime.now(dt.UTC)
    ET.register_namespace("ern", ERN_NAMESPACE)
    root = ET.Element(
        f"{{{ERN_NAMESPACE}}}NewReleaseMessage",
        {"AvsVersionId": AVS_VERSION, "LanguageAndScriptCode": language},
    )
    header = ET.SubElement(root, "MessageHeader")
    _text(header, "MessageId", message_id)
    _messaging_party(header, "MessageSender", sender)
    _messaging_party(header, "MessageRecipient", recipient)
    _text(header, "MessageCreatedDateTime", created.isoformat(timespec="seconds"))
    parties = _Parties()
    label = sender.name or sender.dpid
    label_ref = parties.ref(label, sender.dpid)
    resources = ET.Element("ResourceList")
    for index, recording in enumerate(recordings, start=1):
        _sound_recording(resources, recording, index, label, parties)
    artists = {r.artist or label for r in recordings}
    artist = artists.pop() if len(artists) == 1 else label
    releases = ET.Element("root")
    _release(
        releases,
        recordings,
        title=title
        or (recordings[0].title if len(recordings) == 1 else f"{len(recordings)} recordings"),
        genre=genre,
        message_id=message_id,
        sender=sender,
        label_ref=label_ref,
        artist=(artist, parties.ref(artist)),
    )
    # The schema's order: header, parties (complete only now), resources, releases.
    root.extend([parties.element(), resources, *releases])
    ET.indent(root)
    return root


@functools.cache
def _schema(path: Path) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(path))


def validate_message(message: ET.Element, schema: str | Path) -> None:
    """Raise :class:`OutputError` naming the first problem if ``message`` breaks ``schema``."""
    xsd = _schema(Path(schema).resolve())
    error = next(iter(xsd.iter_errors(message)), None)
    if error is not None:
        where = error.path or "the message"
        raise OutputError(
            f"the DDEX message does not validate against {Path(schema).name} at {where}: "
            f"{error.reason or error.message}",
            path=Path(schema),
        )


def export_ddex(
    paths: Iterable[str | Path],
    out: str | Path,
    *,
    sender: MessageParty,
    recipient: MessageParty,
    schema: str | Path,
    trust: TrustConfig,
    policy: Policy | None = None,
    at: dt.datetime | None = None,
    title: str | None = None,
    genre: str = "Unknown",
    message_id: str | None = None,
    created: dt.datetime | None = None,
) -> ExportResult:
    """Verify each file and write the ERN message of those that pass to ``out``.

    A file that fails (or cannot be read) is left out and returned in ``rejected``; when none
    passes nothing is written. The message is validated against ``schema`` (the ERN 4.3.2
    ``release-notification.xsd``) before ``out`` is written, atomically: a message that does
    not validate raises :class:`OutputError` and leaves ``out`` as it was.
    """
    from provsdk.errors import InputError
    from provsdk.sign.atomic import atomic_output, check_destination
    from provsdk.verify.policy import DEFAULT_POLICY
    from provsdk.verify.verifier import verify_evidence

    dest = Path(out)
    check_destination(dest)  # fail now, not after verifying a whole catalogue
    recordings: list[Recording] = []
    rejected: list[Rejected] = []
    for path in paths:
        try:
            evidence, report = verify_evidence(
                path, trust=trust, policy=policy or DEFAULT_POLICY, at=at
            )
        except InputError as exc:
            rejected.append(Rejected(Path(path), exc.message))
            continue
        found = recording_from(evidence, report)
        if isinstance(found, Rejected):
            rejected.append(found)
        else:
            recordings.append(found)
    if not recordings:
        return ExportResult((), tuple(rejected))
    message_id = message_id or uuid.uuid4().hex
    message = build_message(
        recordings,
        sender=sender,
        recipient=recipient,
        message_id=message_id,
        created=created,
        title=title,
        genre=genre,
    )
    validate_message(message, schema)
    with atomic_output(dest) as tmp:
        ET.ElementTree(message).write(tmp, encoding="utf-8", xml_declaration=True)
    return ExportResult(tuple(recordings), tuple(rejected), dest, message_id)
