"""The disclosure rules the CLI used to hold: building one from plain facts (its summary and
training list bound by hash) and judging an inclusion proof against a signed one."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from provsdk.credentials import Role, TrustConfig, TrustStore, load_signer
from provsdk.disclosure import (
    InclusionProof,
    TrainingList,
    check_inclusion,
    create_disclosure,
    read_disclosure,
    sign_disclosure,
)
from provsdk.errors import ConfigurationError, InputError
from provsdk.home import ProvsdkHome
from provsdk.models.disclosure import Dataset, Disclosure

TRACKS = ("Harbor Lights - Tide", "Kestrel - Upstairs", "Salt - Río")


@pytest.fixture
def lists(tmp_path: Path) -> tuple[Path, Path]:
    summary, tracks = tmp_path / "summary.pdf", tmp_path / "tracks.txt"
    summary.write_bytes(b"%PDF-1.7 the full public summary")
    tracks.write_text("\n".join(TRACKS) + "\n", encoding="utf-8")
    return summary, tracks


def _disclosure(summary: Path, tracks: Path) -> Disclosure:
    return create_disclosure(
        provider="Harbor AI",
        model="harbor-music",
        model_version="2.1",
        size="3 tracks",
        datasets=[Dataset("Harbor catalogue", "licensed", licensor="Harbor Music")],
        crawled_licensed=True,
        crawl_domains=["catalogue.harbor.example"],
        user_data="opt-in uploads",
        summary_url="https://harbor.example/summary.pdf",
        summary_file=summary,
        training_list=tracks,
    )


def test_create_disclosure_binds_summary_and_training_list(lists: tuple[Path, Path]) -> None:
    summary, tracks = lists
    d = _disclosure(summary, tracks)
    assert d.public_summary is not None
    assert d.public_summary.sha256 == hashlib.sha256(summary.read_bytes()).hexdigest()
    assert d.training_list is not None
    expected = TrainingList(TRACKS).commitment()
    assert (d.training_list.count, d.training_list.root) == (expected.count, expected.root)
    assert d.crawled_data.used and d.crawled_data.licensed  # licensed crawling is crawling
    assert d.user_data.used and not d.synthetic_data.used
    assert Disclosure.from_dict(d.to_dict()) == d
    assert d.issued_at is not None


def test_create_disclosure_refusals(tmp_path: Path) -> None:
    facts = {"provider": "Harbor AI", "model": "m", "model_version": "1"}
    with pytest.raises(ConfigurationError, match="summary URL needs its document"):
        create_disclosure(**facts, summary_url="https://harbor.example/s.pdf")
    with pytest.raises(InputError, match="cannot read") as missing:
        create_disclosure(
            **facts, summary_url="https://harbor.example/s.pdf", summary_file=tmp_path / "no"
        )
    assert missing.value.path == tmp_path / "no"
    with pytest.raises(InputError, match="no such file"):
        create_disclosure(**facts, training_list=tmp_path / "absent.txt")


def test_check_inclusion_needs_both_the_proof_and_a_trusted_provider(
    dev_home: ProvsdkHome, trust: TrustConfig, lists: tuple[Path, Path]
) -> None:
    provider = load_signer(Role.PROVIDER, home=dev_home, use_env=False)
    signed = read_disclosure(sign_disclosure(_disclosure(*lists), provider))
    proof = TrainingList(TRACKS).prove("Kestrel - Upstairs")

    verdict = check_inclusion(signed, proof, trust.provider)
    assert (verdict.included, verdict.trusted, verdict.passed) == (True, True, True)
    assert (verdict.entry, verdict.model) == ("Kestrel - Upstairs", "harbor-music")

    forged = replace(proof, entry="Unlisted Artist - Not Here")
    assert check_inclusion(signed.token, forged, trust.provider).passed is False

    untrusted = check_inclusion(signed, proof, TrustStore(Role.PROVIDER))
    assert (untrusted.included, untrusted.trusted, untrusted.passed) == (True, False, False)
    # A provider's key is trusted as a provider only, never through another role's anchors.
    assert not check_inclusion(signed, proof, trust.licensor).trusted

    bare = create_disclosure(provider="Harbor AI", model="m", model_version="1")
    with pytest.raises(ConfigurationError, match="commits to no training list") as none:
        check_inclusion(sign_disclosure(bare, provider), proof, trust.provider, source="d.jws")
    assert none.value.path == Path("d.jws")
    assert InclusionProof.from_dict(proof.to_dict()) == proof
