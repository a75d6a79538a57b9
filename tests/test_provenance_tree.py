"""The provenance tree a report shows: real signing histories, and stores built to loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from provsdk.attach import attach_grant
from provsdk.client import Client
from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.manifest.build import ACTIONS
from provsdk.models.report import C2paState, StatusEntry
from provsdk.models.store import Certificate, Ingredient, Manifest, ManifestStore
from provsdk.sign import sign_file
from provsdk.verify.history import MAX_HISTORY
from provsdk.verify.provenance import MAX_INGREDIENTS, MAX_TEXT, provenance_tree
from provsdk.verify.read import read_evidence


def _tree(path: Path, trust: TrustConfig) -> dict:
    tree = provenance_tree(read_evidence(path, trust.producer, trust.timestamp).store)
    assert tree is not None
    json.dumps(tree)  # travels in every record of a run: must be JSON as it is
    return tree


def _nodes(tree: dict) -> list[dict]:
    out = [tree]
    for item in tree["ingredients"]:
        if item["manifest"] is not None:
            out += _nodes(item["manifest"])
    return out


def test_a_re_signed_file_shows_its_parent_and_who_signed_each(
    signed_files: dict[str, Path],
    producer_signer: KeySigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    again = tmp_path / "again.wav"
    sign_file(
        signed_files["wav"], again, ManifestSpec(title="remaster"), producer_signer,
        anchors=trust.producer,
    )  # fmt: skip
    root = _tree(again, trust)
    assert root["title"] == "remaster"
    assert root["trusted"] is True
    assert root["action"]["action"] == "c2pa.opened"
    assert root["signer"]["common_name"] == "provsdk dev producer (not for production)"
    assert "CN=provsdk dev producer root" in root["signer"]["issuer"]
    assert root["claim_generator"][0]["name"] == "provsdk"
    (parent,) = root["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["title"] == "signed.wav"
    created = parent["manifest"]
    assert created["title"] == "test"
    assert created["trusted"] is True
    assert created["action"] == {
        "action": "c2pa.created",
        "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
        "software_agent": "tests 1",
    }
    assert created["ingredients"] == []


def test_an_untrusted_reader_sees_every_signer_as_not_trusted(
    signed_files: dict[str, Path], producer_signer: KeySigner, trust: TrustConfig, tmp_path: Path
) -> None:
    # The same history read by someone who trusts nobody: shown in full, trusted nowhere.
    again = tmp_path / "again.wav"
    sign_file(signed_files["wav"], again, ManifestSpec(title="remaster"), producer_signer)
    nobody = TrustConfig.load(ProvsdkHome(tmp_path / "empty-home"))
    root = _tree(again, nobody)
    assert [n["trusted"] for n in _nodes(root)] == [False, False]
    assert root["ingredients"][0]["manifest"]["signer"]["organization"] == "provsdk development PKI"


@pytest.mark.slow
def test_a_grant_attached_to_a_generated_track_adds_a_manifest_on_top(
    dev_home: ProvsdkHome, tmp_path: Path, harbor_grant: Callable[[str], str]
) -> None:
    trust = TrustConfig.load(dev_home)
    producer = load_signer(Role.PRODUCER, home=dev_home, use_env=False)
    track = tmp_path / "track.wav"
    Client(home=dev_home, signer=producer, trust=trust).generate(
        "warm lofi beat", out=track, duration=2, seed=1
    )
    token = harbor_grant("provsdk-local 2.0")
    granted = tmp_path / "granted.wav"
    attach_grant([track], token, signer=producer, trust=trust, out=granted)
    root = _tree(granted, trust)
    assert root["action"]["action"] == "c2pa.opened"
    assert root["trusted"] is True
    created = root["ingredients"][0]["manifest"]
    assert created["action"]["action"] == "c2pa.created"
    assert created["action"]["software_agent"].startswith("provsdk-local")
    assert created["trusted"] is True


def test_a_file_without_a_manifest_has_no_tree(vectors: Path, trust: TrustConfig) -> None:
    store = read_evidence(vectors / "sample1.wav", trust.producer, trust.timestamp).store
    assert provenance_tree(store) is None
    assert provenance_tree(None) is None


# -- stores built by hand: what a hostile file's manifests can say --

_CERT = Certificate(subject={"CN": "someone", "O": "Somewhere"}, issuer={"CN": "a root"})
_TRUSTED_SIGNER = (StatusEntry("signingCredential.trusted", "trusted"),)


def _manifest(label: str, *ingredients: Ingredient, title: str | None = None) -> Manifest:
    return Manifest(
        label=label,
        title=title or label,
        claim_generator=({"name": "forger", "version": "9"},),
        assertions=((ACTIONS, {"actions": [{"action": "c2pa.opened"}]}),),
        algorithm="ES256",
        signed_at=None,
        certificate=_CERT,
        ingredients=ingredients,
    )


def _parent(label: str, trusted: bool = True) -> Ingredient:
    return Ingredient(label, "parentOf", label, successes=_TRUSTED_SIGNER if trusted else ())


def _store(
    active: Manifest, *others: Manifest, state: C2paState = C2paState.TRUSTED
) -> ManifestStore:
    manifests = {m.label: m for m in (active, *others)}
    return ManifestStore(state=state, active=active, manifests=manifests)


def test_a_manifest_that_names_itself_as_its_parent_does_not_loop() -> None:
    me = _manifest("urn:me", _parent("urn:me"))
    tree = provenance_tree(_store(me))
    assert tree is not None
    (item,) = tree["ingredients"]
    assert item["manifest"] is None and item["stop"] == "cycle"


def test_manifests_that_name_each_other_as_parents_do_not_loop() -> None:
    a = _manifest("urn:a", _parent("urn:b"))
    b = _manifest("urn:b", _parent("urn:a"))
    tree = provenance_tree(_store(a, b))
    assert tree is not None
    child = tree["ingredients"][0]["manifest"]
    assert child["label"] == "urn:b"
    assert child["ingredients"][0]["stop"] == "cycle"


def test_a_diamond_of_manifests_naming_one_another_many_times_stays_small() -> None:
    # Each level names the next twice: expanded naively, 2**40 nodes. Each manifest is shown
    # once; later mentions point back to it.
    levels = 40
    manifests = [_manifest(f"urn:{i}") for i in range(levels)]
    for i in range(levels - 1):
        nxt = f"urn:{i + 1}"
        manifests[i] = _manifest(
            f"urn:{i}", Ingredient("x", "componentOf", nxt), Ingredient("y", "componentOf", nxt)
        )
    tree = provenance_tree(_store(*manifests))
    assert tree is not None
    nodes = _nodes(tree)
    assert len(nodes) <= MAX_HISTORY
    assert len(nodes) == len({n["label"] for n in nodes})
    assert tree["ingredients"][1]["stop"] == "shown"
    assert len(json.dumps(tree)) < 100_000


def test_a_history_deeper_than_the_bound_is_cut() -> None:
    chain = [_manifest(f"urn:{i}", _parent(f"urn:{i + 1}")) for i in range(MAX_HISTORY * 3)]
    tree = provenance_tree(_store(*chain))
    assert tree is not None
    nodes = _nodes(tree)
    assert len(nodes) == MAX_HISTORY
    assert nodes[-1]["ingredients"][0]["stop"] == "too deep"


def test_thousands_of_ingredients_are_counted_not_shown() -> None:
    many = tuple(Ingredient(f"i{n}", "componentOf", None) for n in range(5000))
    tree = provenance_tree(_store(_manifest("urn:wide", *many)))
    assert tree is not None
    assert len(tree["ingredients"]) == MAX_INGREDIENTS
    assert tree["ingredients_omitted"] == 5000 - MAX_INGREDIENTS
    assert tree["ingredients"][0]["stop"] == "none"


def test_a_megabyte_title_is_cut() -> None:
    tree = provenance_tree(_store(_manifest("urn:long", title="x" * 1_000_000)))
    assert tree is not None
    assert len(tree["title"]) == MAX_TEXT + 1


def test_trust_is_judged_along_the_parent_chain_and_not_guessed_elsewhere() -> None:
    # A trusted active manifest over an untrusted parent, with a component beside it: the
    # parent's facts are shown as not trusted, the component's trust is not judged at all.
    parent = _manifest("urn:parent")
    component = _manifest("urn:component")
    active = _manifest(
        "urn:active",
        _parent("urn:parent", trusted=False),
        Ingredient("sample", "componentOf", "urn:component", successes=_TRUSTED_SIGNER),
        Ingredient("gone", "componentOf", "urn:not-in-store"),
    )
    tree = provenance_tree(_store(active, parent, component))
    assert tree is not None
    assert tree["trusted"] is True
    by_title = {i["title"]: i for i in tree["ingredients"]}
    assert by_title["urn:parent"]["manifest"]["trusted"] is False
    assert by_title["sample"]["manifest"]["trusted"] is None
    assert by_title["gone"]["stop"] == "missing"


def test_an_active_manifest_of_a_valid_but_untrusted_store_is_not_trusted() -> None:
    tree = provenance_tree(_store(_manifest("urn:x"), state=C2paState.VALID))
    assert tree is not None and tree["trusted"] is False
