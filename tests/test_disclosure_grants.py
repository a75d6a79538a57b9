"""Disclosures and grants as records, documents and signed statements; attaching grants.

Library level. One development PKI whose leaves name "Game Studio" is made per module, and two
2-second tracks are generated once; tests that change a file work on a copy.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provsdk.attach import attach_grant
from provsdk.audio.codec import encode
from provsdk.audio.essence import essence_digest
from provsdk.audio.formats import AudioFormat
from provsdk.client import Client
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.disclosure import check_disclosure, parse_disclosure, sign_disclosure
from provsdk.disclosure.merkle import (
    Commitment,
    EntryNotFoundError,
    InclusionProof,
    TrainingList,
    verify_inclusion,
)
from provsdk.errors import ConfigurationError, InputError, ProvsdkError
from provsdk.grants import contract_document, create_grant, parse_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest.build import ManifestSpec
from provsdk.models.disclosure import (
    CrawledData,
    Dataset,
    DataSource,
    Disclosure,
    ModelIdentity,
    OptOutPolicy,
    ProviderIdentity,
    PublicSummary,
    TrainingListCommitment,
)
from provsdk.models.grant import SCOPE_UID, Constraint, Grant, Party, Rule, Target
from provsdk.models.origin import DigitalSourceType, SoftwareAgent
from provsdk.schemas import validate
from provsdk.sign import sign_file
from provsdk.verify import verify_file
from provsdk.verify.read import read_evidence

MODEL = "provsdk-local 2.0"
STUDIO = "Game Studio"
TRACKS = ("Harbor Lights - Tide", "Kestrel - Upstairs", "Mira Okafor - Ninth Floor", "Salt - Río")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Studio:
    home: ProvsdkHome
    trust: TrustConfig
    producer: KeySigner
    provider: KeySigner
    licensor: KeySigner
    track_a: Path
    track_b: Path


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    root = tmp_path_factory.mktemp("studio")
    home = ProvsdkHome(root / "home")
    init_dev_pki(home, organization=STUDIO)
    trust = TrustConfig.load(home)
    producer = load_signer(Role.PRODUCER, home=home, use_env=False)
    client = Client(home=home, signer=producer, trust=trust)
    tracks = root / "tracks"
    tracks.mkdir()
    for name, seed in (("a.wav", 1), ("b.wav", 2)):
        assert client.generate(
            "warm lofi beat", out=tracks / name, duration=2, seed=seed
        ).report.passed
    return Studio(
        home=home,
        trust=trust,
        producer=producer,
        provider=load_signer(Role.PROVIDER, home=home, use_env=False),
        licensor=load_signer(Role.LICENSOR, home=home, use_env=False),
        track_a=tracks / "a.wav",
        track_b=tracks / "b.wav",
    )


def scope_grant(**terms: Any) -> Grant:
    args: dict[str, Any] = {
        "licensor": "Harbor Music",
        "licensee": STUDIO,
        "purposes": ["commercial"],
        "territories": ["US"],
        "until": "2030-12-31",
        "scope_model": MODEL,
    }
    args.update(terms)
    return create_grant(**args)


def full_disclosure() -> Disclosure:
    return Disclosure(
        provider=ProviderIdentity(
            "Harbor AI", contact="legal@harbor.example", url="https://harbor.example"
        ),
        model=ModelIdentity("harbor-music", "2.1", release_date="2025-06-01"),
        modalities=("audio", "symbolic-music"),
        training_data_size="12,000 tracks / 800 h",
        datasets=(
            Dataset("Harbor catalogue", "licensed", licensor="Harbor Music", licence="contract 7"),
            Dataset("Old masters", "public-domain", size="300 h", url="https://pd.example/set"),
        ),
        crawled_data=CrawledData(
            used=True,
            licensed=True,
            period_start="2023-01-01",
            period_end="2024-12-31",
            domains=("catalogue.harbor.example",),
            description="licensed catalogue site",
        ),
        user_data=DataSource(True, "opt-in uploads"),
        synthetic_data=DataSource(False),
        private_data=DataSource(True, "studio sessions"),
        opt_out=OptOutPolicy(True, "robots.txt and TDMRep honoured"),
        latest_collection_date="2024-12-31",
        public_summary=PublicSummary("https://harbor.example/summary.pdf", "ab" * 32),
        training_list=TrainingListCommitment(count=4, root="cd" * 32),
        issued_at="2026-01-01T00:00:00+00:00",
    )


def minimal_disclosure(**changes: Any) -> Disclosure:
    base = Disclosure(
        provider=ProviderIdentity("Harbor AI"),
        model=ModelIdentity("harbor-music", "2.1"),
        modalities=("audio",),
        training_data_size=None,
    )
    return replace(base, **changes)


# --- records and documents ---------------------------------------------------------------------


def test_disclosure_round_trips_through_its_document() -> None:
    for d in (full_disclosure(), minimal_disclosure()):
        data = d.to_dict()
        validate("training-disclosure", data)
        assert Disclosure.from_dict(data) == d
        assert Disclosure.from_dict(copy.deepcopy(data)).to_dict() == data


def test_disclosure_document_has_no_nulls() -> None:
    def nulls(value: Any) -> bool:
        if isinstance(value, dict):
            return any(v is None or nulls(v) for v in value.values())
        if isinstance(value, list):
            return any(nulls(v) for v in value)
        return False

    data = minimal_disclosure().to_dict()
    assert not nulls(data)
    assert "training_data_size" not in data and "public_summary" not in data


def test_disclosure_round_trips_through_a_signed_statement(studio: Studio) -> None:
    d = full_disclosure()
    token = sign_disclosure(d, studio.provider)
    assert parse_disclosure(token) == d
    checked = check_disclosure(token, studio.trust.provider)
    assert checked.disclosure == d
    assert checked.check.trusted is True
    # The provider store, and no other, vouches for a disclosure.
    assert check_disclosure(token, studio.trust.licensor).check.trusted is False


def test_grant_round_trips_through_its_document(tmp_path: Path, studio: Studio) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(b"%PDF-1.4 the signed contract")
    grants = [
        scope_grant(
            territories=["us", "ca"],
            since="2026-01-01",
            channels=["streaming", "games"],
            prohibited=["political", "advertising"],
            attribution="Music by Harbor",
            indemnification="Harbor indemnifies the licensee against third-party claims.",
            document=contract,
        ),
        create_grant(
            licensor="Harbor Music", licensee=STUDIO, purposes=["promo"], target_file=studio.track_a
        ),
    ]
    for g in grants:
        data = g.to_odrl()
        validate("rights-grant", data)
        assert Grant.from_odrl(data) == g
        token = sign_grant(g, studio.licensor)
        assert parse_grant(token) == g
    g = grants[0]
    assert g.territories() == ["CA", "US"]  # territories are ISO codes, upper case
    assert g.document is not None
    assert g.document.name == "contract.pdf"
    assert g.document.media_type == "application/pdf"
    assert g.document.sha256 == sha(contract)
    assert (g.valid_from, g.valid_until) == ("2026-01-01", "2030-12-31")
    assert grants[1].target.uid == essence_digest(studio.track_a)


# --- schemas -----------------------------------------------------------------------------------


def _grant_doc() -> dict[str, Any]:
    return scope_grant().to_odrl()


def _constraint(doc: dict[str, Any], left: str) -> dict[str, Any]:
    return next(c for c in doc["permission"][0]["constraint"] if c["leftOperand"] == left)


def _set(path: str, value: Any):  # type: ignore[no-untyped-def]
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


def _date(value: Any):  # type: ignore[no-untyped-def]
    def mutate(doc: dict[str, Any]) -> None:
        _constraint(doc, "dateTime")["rightOperand"] = value

    return mutate


DISCLOSURE_REJECTS = {
    "unknown-field": (_set("sponsor", "x"), "/"),
    "unknown-nested-field": (_set("provider/phone", "x"), "/provider"),
    "basis-unknown": (_set("datasets/0/basis", "scraped"), "/datasets/0/basis"),
    "basis-none-for-a-dataset": (_set("datasets/0/basis", "none"), "/datasets/0/basis"),
    "root-upper-hex": (_set("training_list/root", "CD" * 32), "/training_list/root"),
    "root-short-hex": (_set("training_list/root", "cd" * 31), "/training_list/root"),
    "summary-not-hex": (_set("public_summary/sha256", "zz" * 32), "/public_summary/sha256"),
    "missing-opt-out": (_set("opt_out", KeyError), "/"),
    "missing-model-version": (_set("model/version", KeyError), "/model"),
    "missing-provider": (_set("provider", KeyError), "/"),
    "wrong-type": (_set("type", "provsdk.training-disclosure/v2"), "/type"),
    "date-not-a-date": (_set("latest_collection_date", "last year"), "/latest_collection_date"),
    "impossible-date": (_set("model/release_date", "2025-02-30"), "/model/release_date"),
    "negative-count": (_set("training_list/count", -1), "/training_list/count"),
    "count-not-integer": (_set("training_list/count", "4"), "/training_list/count"),
    "no-modalities": (_set("modalities", []), "/modalities"),
}


@pytest.mark.parametrize("case", list(DISCLOSURE_REJECTS))
def test_disclosure_schema_rejects(case: str) -> None:
    mutate, where = DISCLOSURE_REJECTS[case]
    data = full_disclosure().to_dict()
    mutate(data)
    with pytest.raises(InputError) as caught:
        Disclosure.from_dict(data)
    message = str(caught.value)
    assert f"training-disclosure schema at {where}:" in message
    assert "\n" not in message


GRANT_REJECTS = {
    "unknown-field": (_set("provsdk:royalty", "5%"), "/"),
    "unknown-party-field": (_set("assignee/email", "a@b.example"), "/assignee"),
    "missing-assigner": (_set("assigner", KeyError), "/"),
    "missing-permission": (_set("permission", KeyError), "/"),
    "empty-permission": (_set("permission", []), "/permission"),
    "uid-upper-hex": (
        _set("target", {"@type": "Asset", "uid": "urn:provsdk:audio-sha256:" + "AB" * 32}),
        "/target/uid",
    ),
    "uid-short-hex": (
        _set("target", {"@type": "Asset", "uid": "urn:provsdk:audio-sha256:" + "ab" * 31}),
        "/target/uid",
    ),
    "uid-other-scheme": (
        _set("target", {"@type": "Asset", "uid": "urn:isrc:USRC17607839"}),
        "/target/uid",
    ),
    "contract-not-hex": (
        _set("provsdk:contract", {"name": "c.pdf", "mediaType": "application/pdf", "sha256": "x"}),
        "/provsdk:contract/sha256",
    ),
    "date-a-word": (_date({"@value": "soon", "@type": "xsd:date"}), "/permission/0/constraint"),
    "date-impossible": (
        _date({"@value": "2030-13-45", "@type": "xsd:date"}),
        "/permission/0/constraint",
    ),
    "date-a-date-time": (
        _date({"@value": "2030-12-31T00:00:00Z", "@type": "xsd:date"}),
        "/permission/0/constraint",
    ),
    "date-a-plain-string": (_date("2030-12-31"), "/permission/0/constraint"),
    "date-wrong-type": (
        _date({"@value": "2030-12-31", "@type": "xsd:dateTime"}),
        "/permission/0/constraint",
    ),
    "unknown-left-operand": (
        _set("permission/0/constraint/0/leftOperand", "mood"),
        "/permission/0/constraint/0/leftOperand",
    ),
}


@pytest.mark.parametrize("case", list(GRANT_REJECTS))
def test_grant_schema_rejects(case: str) -> None:
    mutate, where = GRANT_REJECTS[case]
    data = _grant_doc()
    mutate(data)
    with pytest.raises(InputError) as caught:
        Grant.from_odrl(data, source="grant.json")
    message = str(caught.value)
    assert message.startswith("grant.json: ")
    assert f"rights-grant schema at {where}" in message
    assert "\n" not in message


def _errors(validator: Any, data: Any) -> list[tuple[list[Any], str]]:
    return sorted((list(e.absolute_path), e.message) for e in validator.iter_errors(data))


@pytest.mark.parametrize(
    ("name", "case"),
    [("training-disclosure", c) for c in DISCLOSURE_REJECTS]
    + [("rights-grant", c) for c in GRANT_REJECTS],
)
def test_inlined_schema_finds_what_the_published_one_finds(name: str, case: str) -> None:
    # Validation applies the schema with its $refs inlined (for speed); it must reject the
    # same documents, at the same places, with the same words, as the published file does.
    import jsonschema

    from provsdk.schemas import _validator, schema

    if name == "training-disclosure":
        mutate, _ = DISCLOSURE_REJECTS[case]
        data = full_disclosure().to_dict()
    else:
        mutate, _ = GRANT_REJECTS[case]
        data = _grant_doc()
    mutate(data)
    inlined = _validator(name)
    published = type(inlined)(schema(name), format_checker=inlined.format_checker)
    if name == "training-disclosure":  # (the grant's constraints nest: that $ref stays)
        assert "$ref" not in json.dumps(inlined.schema["properties"])
    assert isinstance(inlined, jsonschema.protocols.Validator)
    found = _errors(inlined, data)
    assert found, "the reject case must be rejected"
    assert found == _errors(published, data)
    assert not inlined.is_valid(data)


def test_date_time_constraint_with_a_set_operator_is_rejected() -> None:
    data = _grant_doc()
    _constraint(data, "dateTime")["operator"] = "isAnyOf"
    with pytest.raises(InputError, match="rights-grant schema"):
        Grant.from_odrl(data)


@pytest.mark.parametrize(
    ("schema", "mutate"),
    [
        ("training-disclosure", _set("issued_at", "not a timestamp")),
        ("rights-grant", _set("provsdk:issued", "not a timestamp")),
        ("training-disclosure", _set("provider/url", "not a uri")),
    ],
    ids=["disclosure-issued_at", "grant-provsdk:issued", "disclosure-provider-url"],
)
def test_published_formats_are_enforced(schema: str, mutate: Any) -> None:
    data = full_disclosure().to_dict() if schema == "training-disclosure" else _grant_doc()
    mutate(data)
    with pytest.raises(InputError):
        validate(schema, data)


# --- training bases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "bases"),
    [
        ({}, {"none"}),
        ({"datasets": (Dataset("Harbor catalogue", "licensed"),)}, {"licensed"}),
        ({"crawled_data": CrawledData(used=True)}, {"crawled-unlicensed"}),
        ({"crawled_data": CrawledData(used=True, licensed=True)}, {"licensed"}),
        ({"crawled_data": CrawledData(used=False, licensed=True)}, {"none"}),
        (
            {
                "datasets": (Dataset("PD", "public-domain"), Dataset("CC", "open-licence")),
                "user_data": DataSource(True),
                "synthetic_data": DataSource(True),
                "private_data": DataSource(True),
            },
            {"public-domain", "open-licence", "user-data", "synthetic", "private"},
        ),
    ],
    ids=["none", "licensed", "crawled-unlicensed", "licensed-crawl", "crawl-not-used", "mixed"],
)
def test_training_bases(changes: dict[str, Any], bases: set[str]) -> None:
    d = minimal_disclosure(**changes)
    assert d.training_bases() == frozenset(bases)
    # The bases survive the document round trip, which is what a verifier reads.
    assert Disclosure.from_dict(d.to_dict()).training_bases() == frozenset(bases)
    assert ", ".join(sorted(bases)) in d.summary()


# --- what a grant permits, and when ------------------------------------------------------------


def _grant(permissions: tuple[Rule, ...], prohibitions: tuple[Rule, ...] = ()) -> Grant:
    return Grant(
        uid="urn:uuid:test",
        assigner=Party("Harbor Music"),
        assignee=Party(STUDIO),
        target=Target(uid=SCOPE_UID, model=MODEL, licensee=STUDIO),
        permissions=permissions,
        prohibitions=prohibitions,
    )


def test_world_covers_every_territory() -> None:
    g = scope_grant(territories=["WORLD"])
    assert g.territories() == ["WORLD"]
    for territory in ("US", "de", "JP", "BR"):
        assert g.permits(purpose="commercial", territory=territory)
    assert not g.permits(purpose="political", territory="US")


def test_listed_territories_only_and_case_insensitive() -> None:
    g = scope_grant(territories=["US", "CA"])
    assert g.permits(purpose="commercial", territory="us")
    assert g.permits(purpose="commercial", territory="CA")
    assert not g.permits(purpose="commercial", territory="DE")
    assert not g.permits(purpose="commercial", territory="WORLD")


def test_channels() -> None:
    g = scope_grant(channels=["streaming"])
    assert g.permits(purpose="commercial", territory="US", channel="streaming")
    assert not g.permits(purpose="commercial", territory="US", channel="broadcast")
    assert g.permits(purpose="commercial", territory="US")  # no channel asked: not restricted


def test_term_is_inclusive_of_both_days() -> None:
    g = scope_grant(since="2026-03-01", until="2026-03-31", allow_past=True)
    assert not g.in_force(dt.date(2026, 2, 28))
    assert g.in_force(dt.date(2026, 3, 1))
    assert g.in_force(dt.date(2026, 3, 31))
    assert not g.in_force(dt.date(2026, 4, 1))
    one_day = scope_grant(since="2026-03-01", until="2026-03-01", allow_past=True)
    assert one_day.in_force(dt.date(2026, 3, 1)) and not one_day.in_force(dt.date(2026, 3, 2))
    endless = scope_grant(until=None)
    assert endless.valid_until is None and endless.in_force(dt.date(2999, 1, 1))


def test_strict_date_operators() -> None:
    g = _grant(
        (
            Rule(
                "use",
                (
                    Constraint("dateTime", "gt", ("2026-01-01",)),
                    Constraint("dateTime", "lt", ("2026-01-03",)),
                ),
            ),
        )
    )
    assert [g.in_force(dt.date(2026, 1, d)) for d in (1, 2, 3)] == [False, True, False]


def test_is_none_of_permission() -> None:
    g = _grant((Rule("use", (Constraint("purpose", "isNoneOf", ("political", "adult")),)),))
    assert g.permits(purpose="commercial")
    assert not g.permits(purpose="political")
    assert not g.permits(purpose="adult")


def test_prohibitions_override_permissions() -> None:
    g = scope_grant(purposes=["commercial", "political"], prohibited=["political"])
    assert g.permits(purpose="commercial", territory="US")
    assert not g.permits(purpose="political", territory="US")
    territorial = _grant(
        (Rule("use"),), (Rule("use", (Constraint("spatial", "isAnyOf", ("DE",)),)),)
    )
    assert territorial.permits(purpose="commercial", territory="US")
    assert not territorial.permits(purpose="commercial", territory="de")
    everywhere = _grant(
        (Rule("use"),), (Rule("use", (Constraint("spatial", "isAnyOf", ("WORLD",)),)),)
    )
    assert not everywhere.permits(purpose="commercial", territory="US")


def test_a_prohibition_only_forbids_what_it_names() -> None:
    g = scope_grant(prohibited=["political"])  # commercial in US, but never political use
    assert g.permits(purpose="commercial", territory="US")
    # A policy asking only for the territory ([[grant]] territory = "US") is answered by the
    # commercial permission; the political prohibition does not forbid use in the US.
    assert g.permits(territory="US")


def test_a_grant_without_permission_for_the_purpose_permits_nothing() -> None:
    g = scope_grant(purposes=["promo"])
    assert not g.permits(purpose="commercial", territory="US")
    assert g.purposes() == ["promo"]


# --- create_grant refusals ---------------------------------------------------------------------


def test_create_grant_refusals(studio: Studio) -> None:
    with pytest.raises(ConfigurationError, match="at least one purpose"):
        scope_grant(purposes=[])
    with pytest.raises(ConfigurationError, match="exactly one target"):
        scope_grant(target_file=studio.track_a)
    with pytest.raises(ConfigurationError, match="exactly one target"):
        scope_grant(scope_model=None)
    with pytest.raises(ConfigurationError, match="end before it starts"):
        scope_grant(since="2031-01-01", until="2030-12-31")
    with pytest.raises(ConfigurationError, match="--until"):
        scope_grant(until="31/12/2030")
    with pytest.raises(ConfigurationError, match="--from"):
        scope_grant(since="next week")
    with pytest.raises(InputError):
        create_grant(
            licensor="L", licensee=STUDIO, purposes=["commercial"], target_file="missing.wav"
        )


# --- contract documents ------------------------------------------------------------------------


def test_contract_document_binding(tmp_path: Path, studio: Studio) -> None:
    contract = tmp_path / "contract.txt"
    contract.write_text("Harbor Music licenses Game Studio ...")
    other = tmp_path / "other.txt"
    other.write_text("A different agreement.")
    token = sign_grant(scope_grant(purposes=["promo"], document=contract), studio.licensor)

    def attach(out: Path, contract: Any = None) -> None:
        attach_grant(
            [studio.track_a],
            token,
            signer=studio.producer,
            trust=studio.trust,
            out=out,
            contract=contract,
        )

    bound = tmp_path / "bound.wav"
    attach(bound, contract_document(contract))
    report = verify_file(bound, trust=studio.trust)
    assert report.passed, report.reasons
    (finding,) = report.grants.grants
    assert finding.contract == "contract.txt"
    assert finding.problems == ()

    wrong = tmp_path / "wrong.wav"
    for given in (other, contract_document(other)):  # a file, or as read
        with pytest.raises(InputError, match="does not bind this document") as refused:
            attach(wrong, given)
        assert refused.value.path is not None and Path(refused.value.path).name == "other.txt"
    assert not wrong.exists()  # refused before anything was written

    # Attached without its contract, the grant names a document the file does not carry.
    attach(wrong)
    report = verify_file(wrong, trust=studio.trust)
    (finding,) = report.grants.grants
    assert finding.contract is None
    assert [p.code for p in finding.problems] == ["grant.contract-missing"]
    assert not report.passed


def test_a_contract_is_matched_by_its_bytes_not_its_label(tmp_path: Path, studio: Studio) -> None:
    contract = tmp_path / "contract.txt"
    contract.write_text("the real terms")
    token = sign_grant(scope_grant(document=contract), studio.licensor)
    doc, _ = contract_document(contract)
    spec = ManifestSpec(
        title="liar.wav",
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("tests", "1"),
        grants=(token,),
        contracts=((doc, b"other terms, labelled with the real digest"),),
    )
    out = tmp_path / "liar.wav"
    sign_file(studio.track_a, out, spec, studio.producer, anchors=studio.trust.producer)
    (finding,) = verify_file(out, trust=studio.trust).grants.grants
    assert "grant.contract-missing" in [p.code for p in finding.problems]


# --- attaching grants --------------------------------------------------------------------------


def test_attach_twice_in_place_writes_nothing_the_second_time(
    tmp_path: Path, studio: Studio
) -> None:
    track = tmp_path / "track.wav"
    shutil.copyfile(studio.track_a, track)
    token = sign_grant(scope_grant(), studio.licensor)
    (first,) = attach_grant(
        [track], token, signer=studio.producer, trust=studio.trust, in_place=True
    )
    assert (first.attached, first.grants, first.output) == (True, 1, track)
    stamp, digest = track.stat().st_mtime_ns, sha(track)
    (second,) = attach_grant(
        [track], token, signer=studio.producer, trust=studio.trust, in_place=True
    )
    assert (second.attached, second.grants) == (False, 1)
    assert track.stat().st_mtime_ns == stamp
    assert sha(track) == digest
    report = verify_file(track, trust=studio.trust)
    assert report.grants.count == 1
    assert report.passed, report.reasons
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.wav"]  # no leftovers


def test_attach_again_to_an_output_copies_it_unchanged(tmp_path: Path, studio: Studio) -> None:
    token = sign_grant(scope_grant(), studio.licensor)
    once, twice = tmp_path / "once.wav", tmp_path / "twice.wav"
    attach_grant([studio.track_a], token, signer=studio.producer, trust=studio.trust, out=once)
    (result,) = attach_grant([once], token, signer=studio.producer, trust=studio.trust, out=twice)
    assert result.attached is False
    assert twice.read_bytes() == once.read_bytes()


def test_attach_several_files_into_a_folder(tmp_path: Path, studio: Studio) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = {p: sha(p) for p in (studio.track_a, studio.track_b)}
    token = sign_grant(scope_grant(), studio.licensor)
    results = attach_grant(
        [studio.track_a, studio.track_b],
        token,
        signer=studio.producer,
        trust=studio.trust,
        out=out,
    )
    assert [r.output for r in results] == [out / "a.wav", out / "b.wav"]
    assert all(r.attached and r.grants == 1 for r in results)
    for r in results:
        report = verify_file(r.output, trust=studio.trust)
        assert report.passed, report.reasons
        assert report.grants.count == 1
    assert {p: sha(p) for p in before} == before  # the inputs are untouched


def test_attach_several_files_needs_a_folder(tmp_path: Path, studio: Studio) -> None:
    token = sign_grant(scope_grant(), studio.licensor)
    with pytest.raises(ConfigurationError, match="existing folder"):
        attach_grant(
            [studio.track_a, studio.track_b],
            token,
            signer=studio.producer,
            trust=studio.trust,
            out=tmp_path / "not-there",
        )
    with pytest.raises(ConfigurationError):
        attach_grant([studio.track_a], token, signer=studio.producer, trust=studio.trust)


def test_attach_to_a_folder_never_overwrites_one_output_with_another(
    tmp_path: Path, studio: Studio
) -> None:
    for sub, source in (("x", studio.track_a), ("y", studio.track_b)):
        (tmp_path / sub).mkdir()
        shutil.copyfile(source, tmp_path / sub / "t.wav")
    out = tmp_path / "out"
    out.mkdir()
    token = sign_grant(scope_grant(), studio.licensor)
    try:
        results = attach_grant(
            [tmp_path / "x" / "t.wav", tmp_path / "y" / "t.wav"],
            token,
            signer=studio.producer,
            trust=studio.trust,
            out=out,
        )
    except ProvsdkError:
        return  # refusing the clash is fine
    outputs = [r.output for r in results]
    assert len(set(outputs)) == len(outputs)


def test_attach_refuses_a_file_without_a_manifest(tmp_path: Path, studio: Studio) -> None:
    raw = tmp_path / "raw.wav"
    samples = (np.sin(np.linspace(0, 440 * 2 * np.pi, 22050)) * 8000).astype(np.int16)
    encode(np.stack([samples, samples], axis=1), 22050, AudioFormat.WAV, raw)
    token = sign_grant(scope_grant(), studio.licensor)
    with pytest.raises(InputError, match="no C2PA manifest") as caught:
        attach_grant(
            [raw], token, signer=studio.producer, trust=studio.trust, out=tmp_path / "o.wav"
        )
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize(
    ("terms", "why"),
    [
        ({"scope_model": "another-model 2.0"}, "another-model 2.0"),
        ({"licensee": "Other Studio"}, "Other Studio"),
    ],
    ids=["other-model", "other-licensee"],
)
def test_attach_refuses_a_scope_grant_that_does_not_cover_the_file(
    tmp_path: Path, studio: Studio, terms: dict[str, str], why: str
) -> None:
    token = sign_grant(scope_grant(**terms), studio.licensor)
    out = tmp_path / "o.wav"
    with pytest.raises(InputError, match="does not cover") as caught:
        attach_grant([studio.track_a], token, signer=studio.producer, trust=studio.trust, out=out)
    assert why in str(caught.value)
    assert not out.exists()


def test_grant_made_out_to_another_studio_names_the_producer_found_and_the_fix(
    tmp_path: Path, studio: Studio
) -> None:
    # The user's mistake: a grant for "Other Studio" on files signed with keys naming STUDIO.
    token = sign_grant(scope_grant(licensee="Other Studio"), studio.licensor)
    with pytest.raises(InputError, match="does not cover") as caught:
        attach_grant(
            [studio.track_a], token, signer=studio.producer, trust=studio.trust, out=tmp_path / "o"
        )
    message = str(caught.value)
    assert repr(STUDIO) in message  # the organisation actually found in the producer certificate
    assert "--licensee" in message and "keys init --org 'Other Studio'" in message


def test_grant_licensee_with_shell_syntax_is_quoted_in_the_suggested_command(
    tmp_path: Path, studio: Studio
) -> None:
    # The attack: a grant whose licensee is "it's $(touch PWNED)" gets its text into the
    # command the error suggests; pasted into a shell, that command must not run anything.
    evil = "it's $(touch PWNED)"
    token = sign_grant(scope_grant(licensee=evil), studio.licensor)
    with pytest.raises(InputError, match="does not cover") as caught:
        attach_grant(
            [studio.track_a], token, signer=studio.producer, trust=studio.trust, out=tmp_path / "o"
        )
    suggested = str(caught.value).split("for development keys: ", 1)[1].rstrip(")")
    assert shlex.split(suggested)[:5] == ["provsdk", "keys", "init", "--org", evil]
    subprocess.run(["bash", "-c", f"echo {suggested}"], cwd=tmp_path, check=True)
    assert not (tmp_path / "PWNED").exists()


def test_a_recording_bound_grant_covers_only_that_recording(tmp_path: Path, studio: Studio) -> None:
    g = create_grant(
        licensor="Harbor Music",
        licensee=STUDIO,
        purposes=["commercial"],
        territories=["US"],
        target_file=studio.track_a,
    )
    token = sign_grant(g, studio.licensor)
    with pytest.raises(InputError, match="another recording"):
        attach_grant(
            [studio.track_b],
            token,
            signer=studio.producer,
            trust=studio.trust,
            out=tmp_path / "b.wav",
        )
    # The binding is to the coded audio, so it survives re-signing the recording.
    once = tmp_path / "a1.wav"
    attach_grant([studio.track_a], token, signer=studio.producer, trust=studio.trust, out=once)
    assert essence_digest(once) == essence_digest(studio.track_a) == g.target.uid
    report = verify_file(once, trust=studio.trust)
    assert report.passed, report.reasons
    assert report.grants.grants[0].covers is True


def test_attach_refuses_a_grant_whose_signature_does_not_verify(
    tmp_path: Path, studio: Studio
) -> None:
    import base64

    token = sign_grant(scope_grant(territories=["DE"]), studio.licensor)
    header, payload, signature = token.split(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b'"DE"', b'"US"')
    forged = ".".join((header, base64.urlsafe_b64encode(text).decode().rstrip("="), signature))
    assert parse_grant(forged).territories() == ["US"]
    with pytest.raises(InputError, match="signature does not verify"):
        attach_grant(
            [studio.track_a],
            forged,
            signer=studio.producer,
            trust=studio.trust,
            out=tmp_path / "o.wav",
        )
    assert not (tmp_path / "o.wav").exists()


def test_attach_carries_the_disclosure_and_earlier_grants_forward(
    tmp_path: Path, studio: Studio
) -> None:
    first = sign_grant(scope_grant(), studio.licensor)
    second = sign_grant(
        scope_grant(licensor="Kestrel Records", purposes=["promo"], territories=["WORLD"]),
        studio.licensor,
    )
    one, two = tmp_path / "one.wav", tmp_path / "two.wav"
    attach_grant([studio.track_a], first, signer=studio.producer, trust=studio.trust, out=one)
    (result,) = attach_grant([one], second, signer=studio.producer, trust=studio.trust, out=two)
    assert (result.attached, result.grants) == (True, 2)

    report = verify_file(two, trust=studio.trust)
    assert report.passed, report.reasons
    assert report.grants.count == 2
    assert {g.licensor for g in report.grants.grants} == {"Harbor Music", "Kestrel Records"}
    assert all(g.trusted and g.covers and g.in_force for g in report.grants.grants)
    assert report.disclosure.present and report.disclosure.trusted
    assert report.disclosure.training_bases == ("none",)
    assert report.origin.model == MODEL and report.origin.ai_generated is True

    evidence = read_evidence(two, studio.trust.producer)
    store = evidence.store
    assert store is not None and store.active is not None
    # The active manifest itself holds the full set, not just the newest grant.
    assert len(store.active.assertions_named("io.provsdk.rights-grant")) == 2
    assert len(store.active.assertions_named("io.provsdk.training-disclosure")) == 1
    (parent,) = store.active.ingredients
    assert parent.relationship == "parentOf"
    assert parent.failures == ()
    assert store.ingredient_failures == ()
    assert parent.active_manifest in store.manifests
    # ...and the earlier manifest, one grant, is still there as history.
    earlier = store.manifests[parent.active_manifest]
    assert len(earlier.assertions_named("io.provsdk.rights-grant")) == 1
    assert len(store.manifests) == 3
    assert report.integrity.history_failures == ()


def test_attach_judges_coverage_for_the_producer_who_signs(tmp_path: Path, studio: Studio) -> None:
    other = ProvsdkHome(tmp_path / "other-home")
    init_dev_pki(other, organization="Other Studio")
    other_producer = load_signer(Role.PRODUCER, home=other, use_env=False)
    trust = TrustConfig(
        producer=studio.trust.producer.adding_files([other.anchors_path(Role.PRODUCER)]),
        provider=studio.trust.provider,
        licensor=studio.trust.licensor,
    )
    token = sign_grant(scope_grant(), studio.licensor)  # for outputs made for Game Studio
    out = tmp_path / "o.wav"
    try:
        attach_grant([studio.track_a], token, signer=other_producer, trust=trust, out=out)
    except InputError:
        return  # refusing is consistent with what verification will say
    report = verify_file(out, trust=trust)
    assert report.producer.organization == "Other Studio"
    assert report.passed, report.reasons


# --- training list -----------------------------------------------------------------------------


def test_inclusion_proof_from_a_signed_disclosures_training_list(studio: Studio) -> None:
    tracks = TrainingList(TRACKS)
    c = tracks.commitment()
    d = minimal_disclosure(
        datasets=(Dataset("Harbor catalogue", "licensed"),),
        training_list=TrainingListCommitment(count=c.count, root=c.root, algorithm=c.algorithm),
    )
    checked = check_disclosure(sign_disclosure(d, studio.provider), studio.trust.provider)
    assert checked.check.trusted
    committed = checked.disclosure.training_list
    assert committed is not None and committed.count == len(TRACKS)
    commitment = Commitment(committed.count, committed.root, committed.algorithm)

    proof = tracks.prove("Kestrel - Upstairs")
    assert verify_inclusion(InclusionProof.from_dict(proof.to_dict()), commitment)
    assert verify_inclusion(tracks.prove("Salt - Río"), commitment)

    with pytest.raises(EntryNotFoundError):
        tracks.prove("Unlisted Artist - Not Here")
    # Someone else's proof for a listed track does not carry over to an unlisted one.
    assert not verify_inclusion(replace(proof, entry="Unlisted Artist - Not Here"), commitment)
    # Nor does a proof from another list with the same entry.
    other = TrainingList(["Kestrel - Upstairs", "Unlisted Artist - Not Here"])
    assert not verify_inclusion(other.prove("Unlisted Artist - Not Here"), commitment)
