"""`provsdk export ddex`: an ERN 4.3.2 message of verified files, with their AI disclosure.

Real files: tracks generated and signed by the local generator under a development PKI whose
leaves name "Game Studio", verified for real, and every message validated with xmlschema
against the ERN 4.3.2 XSD copied under tests/ddex (see SOURCE.md there).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import xmlschema
from cli_runner import run_cli

from provsdk.audio.containers import probe
from provsdk.client import Client
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.errors import OutputError
from provsdk.export.ddex import ERN_NAMESPACE, MessageParty, export_ddex, iso_duration
from provsdk.home import ProvsdkHome
from provsdk.verify import policy_from_dict

XSD = Path(__file__).parent / "ddex" / "ern432" / "release-notification.xsd"
SENDER = MessageParty("PADPIDA2014120301X", "Game Studio Distribution")
RECIPIENT = MessageParty("PADPIDA2011072101T", "Shop")
STUDIO = "Game Studio"
# Control characters, markup, an entity, a bidirectional override: all an attacker can name.
HOSTILE = "a<b>&amp;\x1b[31m\x07\u202e.wav"


@dataclass(frozen=True)
class Studio:
    home: ProvsdkHome
    trust: TrustConfig
    track_a: Path
    track_b: Path
    hostile: Path
    stranger: Path  # generated and signed under another studio's PKI: untrusted here
    stranger_provider: Path  # that PKI's provider anchor


def _generate(home: ProvsdkHome, out: Path, seed: int) -> Path:
    trust = TrustConfig.load(home)
    client = Client(
        home=home, signer=load_signer(Role.PRODUCER, home=home, use_env=False), trust=trust
    )
    assert client.generate("warm lofi beat", out=out, duration=2, seed=seed).report.passed
    return out


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    root = tmp_path_factory.mktemp("ddex")
    home = ProvsdkHome(root / "home")
    init_dev_pki(home, organization=STUDIO)
    other = ProvsdkHome(root / "other")
    init_dev_pki(other, organization="Someone Else")
    tracks = root / "tracks"
    tracks.mkdir()
    return Studio(
        home=home,
        trust=TrustConfig.load(home),
        track_a=_generate(home, tracks / "a.wav", 1),
        track_b=_generate(home, tracks / "b.wav", 2),
        hostile=_generate(home, tracks / HOSTILE, 3),
        stranger=_generate(other, tracks / "stranger.wav", 4),
        stranger_provider=other.root / "trust" / "provider.pem",
    )


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def export(studio: Studio, paths: list[Path], out: Path, **options: object):  # type: ignore[no-untyped-def]
    return export_ddex(
        paths,
        out,
        sender=SENDER,
        recipient=RECIPIENT,
        schema=XSD,
        trust=studio.trust,
        **options,  # type: ignore[arg-type]
    )


def recordings(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{ERN_NAMESPACE}}}NewReleaseMessage"
    return root.findall("ResourceList/SoundRecording")


def party_names(path: Path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    return {
        p.findtext("PartyReference", ""): p.findtext("PartyName/FullName", "")
        for p in root.findall("PartyList/Party")
    }


def tampered(source: Path, dest: Path) -> Path:
    """A copy of ``source`` with one byte of its audio changed, its manifest left as it was."""
    ranges = probe(source).essence
    assert ranges
    offset, length = ranges[0]
    data = bytearray(source.read_bytes())
    data[offset + length // 2] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def test_two_generated_tracks_validate_and_carry_the_ai_disclosure(
    studio: Studio, schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    out = tmp_path / "release.xml"
    result = export(studio, [studio.track_a, studio.track_b], out)
    assert result.complete and result.written == out
    schema.validate(str(out))  # independently of the check before writing
    sounds = recordings(out)
    assert [s.findtext("DisplayTitleText") for s in sounds] == ["a.wav", "b.wav"]
    names = party_names(out)
    for sound in sounds:
        assert sound.findtext("ContainsAI") == "All"
        assert sound.findtext("Duration") == "PT2S"
        assert sound.findtext("DisplayArtistName") == STUDIO  # the trusted producer
        label = sound.find("SoundRecordingEdition/ResourceId/ProprietaryId")
        assert label is not None and label.get("Namespace") == "C2PA"
        assert (label.text or "").startswith("urn:c2pa:")
        contributor = sound.find("Contributor")
        assert contributor is not None
        assert contributor.findtext("SpecialContributor") == "GenerativeAI"
        assert contributor.findtext("AiContribution") == "All"
        credits = contributor.findall("DisplayCredits")
        model = [names[p.text or ""] for p in credits[0].findall("DisplayCreditParty")]
        assert model == ["provsdk-local 2.0", "local"]  # the model and its provider
        disclosure = credits[1].findtext("DisplayCreditText") or ""
        assert "signed disclosure: none" in disclosure  # its training bases
        assert "trained on none" in disclosure  # and its summary
        assert [names[p.text or ""] for p in credits[1].findall("DisplayCreditParty")] == [
            "provsdk"
        ]
    release = ET.parse(out).getroot().find("ReleaseList/Release")
    assert release is not None and release.findtext("ContainsAI") == "All"
    assert release.findtext("Duration") == "PT4S"
    items = release.findall("ResourceGroup/ResourceGroupContentItem/ReleaseResourceReference")
    assert [i.text for i in items] == ["A1", "A2"]


def test_a_tampered_track_is_reported_and_left_out(
    studio: Studio, schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    bad = tampered(studio.track_b, tmp_path / "bad.wav")
    out = tmp_path / "release.xml"
    result = export(studio, [studio.track_a, bad], out)
    assert not result.complete
    assert [r.path for r in result.rejected] == [bad]
    assert result.rejected[0].reason  # the first reason verification gave
    schema.validate(str(out))
    assert [s.findtext("DisplayTitleText") for s in recordings(out)] == ["a.wav"]


def test_an_untrusted_signers_ai_claims_are_not_exported_as_facts(
    studio: Studio, schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    # A policy that lets an intact but untrusted file through, and its disclosure's provider
    # trusted (so the statement verifies): the producer's claims still are no facts.
    lenient = policy_from_dict({"producer": {"require": "valid"}})
    trust = replace(
        studio.trust, provider=studio.trust.provider.adding_files([studio.stranger_provider])
    )
    out = tmp_path / "release.xml"
    result = export_ddex(
        [studio.stranger],
        out,
        sender=SENDER,
        recipient=RECIPIENT,
        schema=XSD,
        trust=trust,
        policy=lenient,
    )
    assert result.complete, result.rejected
    schema.validate(str(out))
    (sound,) = recordings(out)
    assert sound.find("ContainsAI") is None  # unknown, not "All" on a stranger's word
    assert sound.find("Contributor") is None
    # Its title is the file name, and the sender stands as artist: not its producer's claim.
    assert sound.findtext("DisplayTitleText") == "stranger.wav"
    assert sound.findtext("DisplayArtistName") == SENDER.name
    text = out.read_text(encoding="utf-8")
    # Neither the model, nor its producer, nor the disclosure its manifests carry.
    for claim in ("provsdk-local", "Someone Else", "GenerativeAI", "trained on"):
        assert claim not in text
    release = ET.parse(out).getroot().find("ReleaseList/Release")
    assert release is not None and release.find("ContainsAI") is None


def test_hostile_text_in_a_title_still_gives_a_valid_message(
    studio: Studio, schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    out = tmp_path / "release.xml"
    export(studio, [studio.hostile], out, title="<Release/>\x00\x1b]0;owned\x07")
    schema.validate(str(out))  # parses, and validates: no markup or control character got in
    (sound,) = recordings(out)
    title = sound.findtext("DisplayTitleText") or ""
    assert title == "a<b>&amp;\\x1b[31m\\x07\\u202e.wav"  # escaped as text, nothing lost
    release = ET.parse(out).getroot().find("ReleaseList/Release")
    assert release is not None
    assert release.findtext("DisplayTitleText") == "<Release/>\\x00\\x1b]0;owned\\x07"


def test_no_file_is_written_when_no_track_passes(studio: Studio, tmp_path: Path) -> None:
    out = tmp_path / "release.xml"
    bad = tampered(studio.track_a, tmp_path / "bad.wav")
    result = export(studio, [bad, tmp_path / "missing.wav"], out)
    assert result.written is None and not result.recordings
    assert [r.path.name for r in result.rejected] == ["bad.wav", "missing.wav"]
    assert list(tmp_path.iterdir()) == [bad]


def test_a_message_that_fails_validation_leaves_the_old_file_alone(
    studio: Studio, tmp_path: Path
) -> None:
    # A schema whose root is another element: every message fails it, after verification.
    strict = tmp_path / "strict.xsd"
    strict.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="{ERN_NAMESPACE}"><xs:element name="Other"/></xs:schema>',
        encoding="utf-8",
    )
    out = tmp_path / "release.xml"
    out.write_text("previous release", encoding="utf-8")
    with pytest.raises(OutputError, match="does not validate"):
        export_ddex(
            [studio.track_a],
            out,
            sender=SENDER,
            recipient=RECIPIENT,
            schema=strict,
            trust=studio.trust,
        )
    assert out.read_text(encoding="utf-8") == "previous release"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release.xml", "strict.xsd"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.0, "PT2S"), (90.5, "PT1M30.5S"), (3723.0, "PT1H2M3S"), (0.0004, "PT0S")],
)
def test_durations_are_iso_8601_as_ern_writes_them(seconds: float, text: str) -> None:
    assert iso_duration(seconds) == text


def test_a_sender_that_is_not_a_dpid_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="DDEX Party Identifier"):
        MessageParty("Game Studio")


@pytest.mark.slow
def test_cli_exports_the_passing_tracks_and_names_the_failed_one(
    studio: Studio, schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    bad = tampered(studio.track_b, tmp_path / "bad.wav")
    out = tmp_path / "release.xml"
    args = ["--sender", SENDER.dpid, "--recipient", RECIPIENT.dpid, "--schema", XSD]
    result = run_cli("export", "ddex", studio.track_a, bad, "-o", out, *args, home=studio.home.root)
    assert result.returncode == 1, result.stderr  # mixed: written, but not everything
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "bad.wav" in lines[0] and "not exported" in lines[0]
    schema.validate(str(out))
    assert len(recordings(out)) == 1


@pytest.mark.slow
def test_cli_writes_nothing_and_fails_when_every_track_fails(
    studio: Studio, tmp_path: Path
) -> None:
    bad = tampered(studio.track_a, tmp_path / "bad.wav")
    out = tmp_path / "release.xml"
    args = ["--sender", SENDER.dpid, "--recipient", RECIPIENT.dpid, "--schema", XSD]
    result = run_cli("export", "ddex", bad, "-o", out, *args, home=studio.home.root)
    assert result.returncode == 1
    assert "bad.wav" in result.stderr and "was not written" in result.stderr
    assert not out.exists()
