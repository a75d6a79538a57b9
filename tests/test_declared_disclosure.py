"""A disclosure nobody signed (declared from a provider's public statements) is shown as such
and only satisfies a policy that says it accepts declared disclosures."""

from __future__ import annotations

from pathlib import Path

from provsdk.credentials import KeySigner, TrustConfig
from provsdk.manifest import ManifestSpec
from provsdk.models import DeclaredDisclosure, DigitalSourceType, SoftwareAgent
from provsdk.models.disclosure import Dataset, Disclosure, ModelIdentity, ProviderIdentity
from provsdk.sign import sign_file
from provsdk.verify import policy_from_dict, verify_file

SOURCE = "https://provider.example/training-data"


def _declared() -> DeclaredDisclosure:
    disclosure = Disclosure(
        provider=ProviderIdentity("Example Audio"),
        model=ModelIdentity("example-music", "2"),
        modalities=("audio",),
        training_data_size="licensed catalogue",
        datasets=(Dataset(name="Licensed catalogue", basis="licensed", licensor="A Library"),),
    )
    return DeclaredDisclosure(disclosure=disclosure, sources=(SOURCE,))


def test_declared_disclosure_is_reported_as_declared(
    vectors: Path, tmp_path: Path, producer_signer: KeySigner, trust: TrustConfig
) -> None:
    spec = ManifestSpec(
        title="declared.wav",
        source_type=DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("example-music", "2"),
        declared_disclosure=_declared(),
    )
    out = tmp_path / "declared.wav"
    sign_file(vectors / "sample1.wav", out, spec, producer_signer)

    default = verify_file(out, trust=trust)
    d = default.disclosure
    assert default.passed  # honest labelling is not a fault
    assert d.present and d.declared and d.trusted is False and d.signature_valid is None
    assert d.sources == (SOURCE,) and d.training_bases == ("licensed",)
    assert d.summary is not None and d.summary.startswith("declared, not signed by the provider")

    strict = policy_from_dict({"disclosure": {"require": True, "training": ["licensed"]}})
    refused = verify_file(out, trust=trust, policy=strict)
    assert not refused.passed
    # The training rule counts a declared disclosure only when the policy accepts declared ones.
    assert [r.code for r in refused.reasons] == ["policy.disclosure", "policy.training"]
    assert all("not signed by the provider" in r.message for r in refused.reasons)

    lenient = policy_from_dict(
        {"disclosure": {"require": True, "accept_declared": True, "training": ["licensed"]}}
    )
    assert verify_file(out, trust=trust, policy=lenient).passed
    crawled_only = policy_from_dict({"disclosure": {"accept_declared": True, "training": ["none"]}})
    assert [r.code for r in verify_file(out, trust=trust, policy=crawled_only).reasons] == [
        "policy.training"
    ]
