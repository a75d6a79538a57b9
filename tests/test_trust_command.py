"""``provsdk trust`` and the per-role ``verify`` anchor options: trusting a second PKI.

Two development PKIs are made per module: "studio" is the home under test, "other" stands for
an outside provider and licensor. One file is signed by the studio's producer and carries a
disclosure and a grant signed by the other PKI. Tests that change a home work on a copy.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provsdk.credentials import Algorithm, Role, init_dev_pki, load_signer
from provsdk.credentials.devpki import make_root
from provsdk.credentials.trust_store_file import fingerprint, remove_anchor
from provsdk.disclosure import sign_disclosure
from provsdk.errors import ConfigurationError
from provsdk.grants import create_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.models.disclosure import Disclosure, ModelIdentity, ProviderIdentity
from provsdk.sign import sign_file
from provsdk_cli.main import cli

STUDIO = "Game Studio"


@dataclass(frozen=True)
class World:
    studio: ProvsdkHome
    other: ProvsdkHome
    signed: Path  # producer: studio; disclosure and grant: other


@pytest.fixture(scope="module")
def world(vectors: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("trust-world")
    studio, other = ProvsdkHome(root / "studio"), ProvsdkHome(root / "other")
    init_dev_pki(studio, organization=STUDIO)
    init_dev_pki(other, organization="Harbor AI")
    disclosure = Disclosure(
        provider=ProviderIdentity("Harbor AI"),
        model=ModelIdentity("provsdk-local", "2.0"),
        modalities=("audio",),
        training_data_size=None,
    )
    grant = create_grant(
        licensor="Harbor Music",
        licensee=STUDIO,
        purposes=["commercial"],
        territories=["US"],
        until="2030-12-31",
        scope_model="provsdk-local 2.0",
    )
    spec = ManifestSpec(
        title="t",
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("provsdk-local", "2.0"),
        disclosure=sign_disclosure(
            disclosure, load_signer(Role.PROVIDER, home=other, use_env=False)
        ),
        grants=(sign_grant(grant, load_signer(Role.LICENSOR, home=other, use_env=False)),),
    )
    signed = root / "signed.wav"
    producer = load_signer(Role.PRODUCER, home=studio, use_env=False)
    sign_file(vectors / "sample1.wav", signed, spec, producer)
    return World(studio, other, signed)


@pytest.fixture
def home(world: World, tmp_path: Path) -> ProvsdkHome:
    """A copy of the studio's home that the test may change."""
    copy = tmp_path / "home"
    shutil.copytree(world.studio.root, copy)
    return ProvsdkHome(copy)


def run(home: ProvsdkHome, *args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home.root), *map(str, args)])


def verify_json(home: ProvsdkHome, path: Path, *options: str | Path) -> dict[str, Any]:
    result = run(home, "verify", "--json", *options, path)
    assert result.exit_code in (0, 1), result.output
    files: list[dict[str, Any]] = json.loads(result.stdout)["files"]
    return files[0]


def anchors_in(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes()) if path.exists() else []


def one_line_error(result: Result) -> str:
    """The error's one line; a ``hint:`` line may follow it, nothing else."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("provsdk: "), result.stderr
    assert all(line.startswith("hint: ") for line in lines[1:]) and len(lines) <= 2, result.stderr
    return lines[0]


def test_trust_add_a_leaf_is_refused(home: ProvsdkHome, world: World) -> None:
    before = home.anchors_path(Role.PROVIDER).read_bytes()
    leaf_chain = world.other.chain_path(Role.PROVIDER)  # the provider's own certificate
    line = one_line_error(run(home, "trust", "add", "--role", "provider", leaf_chain))
    assert str(leaf_chain) in line and "leaf" in line and "CA" in line
    assert home.anchors_path(Role.PROVIDER).read_bytes() == before


def test_trust_add_twice_does_not_duplicate(home: ProvsdkHome, world: World) -> None:
    root_pem = world.other.anchors_path(Role.PROVIDER)
    (root,) = anchors_in(root_pem)
    first = run(home, "trust", "add", "--role", "provider", root_pem)
    assert first.exit_code == 0, first.output
    assert f"added   provider anchor {fingerprint(root)}" in first.stdout
    second = run(home, "trust", "add", "--role", "provider", root_pem)
    assert second.exit_code == 0, second.output
    assert "already trusted" in second.stdout and "added" not in second.stdout
    stored = [fingerprint(c) for c in anchors_in(home.anchors_path(Role.PROVIDER))]
    assert len(stored) == 2 and stored.count(fingerprint(root)) == 1


def test_trust_add_then_verify_trusts_the_provider(home: ProvsdkHome, world: World) -> None:
    assert verify_json(home, world.signed)["disclosure"]["trusted"] is False
    added = run(home, "trust", "add", "--role", "provider", world.other.anchors_path(Role.PROVIDER))
    assert added.exit_code == 0, added.output
    after = verify_json(home, world.signed)["disclosure"]
    assert after["trusted"] is True, after["problems"]
    # The provider store is the provider's only: the producer's and licensor's are unchanged.
    assert len(anchors_in(home.anchors_path(Role.PRODUCER))) == 1
    assert verify_json(home, world.signed)["grants"]["items"][0]["trusted"] is False


def test_trust_remove_by_fingerprint_prefix(home: ProvsdkHome, world: World) -> None:
    (other_root,) = anchors_in(world.other.anchors_path(Role.LICENSOR))
    (own_root,) = anchors_in(home.anchors_path(Role.LICENSOR))
    run(home, "trust", "add", "--role", "licensor", world.other.anchors_path(Role.LICENSOR))
    # Typed as a browser shows it: upper case, colons, only the first bytes.
    prefix = ":".join(fingerprint(other_root)[i : i + 2] for i in range(0, 12, 2)).upper()
    result = run(home, "trust", "remove", "--role", "licensor", prefix)
    assert result.exit_code == 0, result.output
    assert f"removed licensor anchor {fingerprint(other_root)}" in result.stdout
    left = anchors_in(home.anchors_path(Role.LICENSOR))
    assert [fingerprint(c) for c in left] == [fingerprint(own_root)]
    # Too short, or not hex: refused before anything is read.
    assert "8 hex digits" in one_line_error(
        run(home, "trust", "remove", "--role", "licensor", "ab")
    )
    # Unknown: refused, naming the store.
    line = one_line_error(run(home, "trust", "remove", "--role", "licensor", prefix))
    assert "no licensor trust anchor" in line and str(home.anchors_path(Role.LICENSOR)) in line


def _roots_sharing_a_prefix(digits: int) -> tuple[x509.Certificate, x509.Certificate]:
    seen: dict[str, x509.Certificate] = {}
    for i in range(2000):
        _, root = make_root(f"collider {i}", Algorithm.ES256)
        twin = seen.setdefault(fingerprint(root)[:digits], root)
        if twin is not root:
            return twin, root
    raise AssertionError("no two roots shared a prefix")


def test_trust_remove_ambiguous_prefix_is_refused(home: ProvsdkHome, tmp_path: Path) -> None:
    # Eight digits never collide by chance; two digits do after a few dozen roots. The library
    # takes the minimum as a keyword, so the ambiguity path is the one the command runs.
    a, b = _roots_sharing_a_prefix(2)
    pem = tmp_path / "two.pem"
    pem.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (a, b)))
    assert run(home, "trust", "add", "--role", "producer", pem).exit_code == 0
    store = home.anchors_path(Role.PRODUCER)
    before = store.read_bytes()
    with pytest.raises(ConfigurationError) as refused:
        remove_anchor(Role.PRODUCER, fingerprint(a)[:2], home, min_prefix=2)
    message = str(refused.value)
    assert "matches 2 producer trust anchors" in message
    assert fingerprint(a) in message and fingerprint(b) in message and str(store) in message
    assert store.read_bytes() == before


def test_trust_list_json(home: ProvsdkHome, world: World) -> None:
    run(home, "trust", "add", "--role", "provider", world.other.anchors_path(Role.PROVIDER))
    result = run(home, "trust", "list", "--json")
    assert result.exit_code == 0, result.output
    anchors = json.loads(result.stdout)["anchors"]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for a in anchors:
        by_role.setdefault(a["role"], []).append(a)
    assert sorted(by_role) == ["licensor", "producer", "provider"]  # no timestamp anchors
    assert len(by_role["provider"]) == 2
    (producer_root,) = anchors_in(home.anchors_path(Role.PRODUCER))
    (entry,) = by_role["producer"]
    assert entry["fingerprint"] == fingerprint(producer_root)
    assert len(entry["fingerprint"]) == 64 and ":" not in entry["fingerprint"]
    assert entry["subject"] == producer_root.subject.rfc4514_string()
    assert entry["not_after"] == producer_root.not_valid_after_utc.isoformat()
    assert entry["expired"] is False
    only = json.loads(run(home, "trust", "list", "--role", "licensor", "--json").stdout)
    assert [a["role"] for a in only["anchors"]] == ["licensor"]
    text = run(home, "trust", "list").stdout
    assert "timestamp" in text and "no anchors" in text and fingerprint(producer_root) in text


def test_verify_licensor_anchors_flag_trusts_a_grant(home: ProvsdkHome, world: World) -> None:
    assert verify_json(home, world.signed)["grants"]["items"][0]["trusted"] is False
    flag = ("--licensor-anchors", world.other.anchors_path(Role.LICENSOR))
    grant = verify_json(home, world.signed, *flag)["grants"]["items"][0]
    assert grant["trusted"] is True, grant["problems"]
    # One run only: the home's store is unchanged.
    assert len(anchors_in(home.anchors_path(Role.LICENSOR))) == 1
    flag = ("--provider-anchors", world.other.anchors_path(Role.PROVIDER))
    assert verify_json(home, world.signed, *flag)["disclosure"]["trusted"] is True


def test_empty_provider_store_message_names_the_file_and_command(
    home: ProvsdkHome, world: World
) -> None:
    (own,) = anchors_in(home.anchors_path(Role.PROVIDER))
    assert run(home, "trust", "remove", "--role", "provider", fingerprint(own)).exit_code == 0
    assert not home.anchors_path(Role.PROVIDER).exists()
    problems = verify_json(home, world.signed)["disclosure"]["problems"]
    empty = [p for p in problems if "chain.no-anchors" in p]
    assert empty, problems
    assert str(home.anchors_path(Role.PROVIDER)) in empty[0]
    assert "provsdk trust add --role provider ROOT.pem" in empty[0]
    assert "--provider-anchors" in empty[0]


def test_trust_add_garbage_pem_is_one_line_error(home: ProvsdkHome, tmp_path: Path) -> None:
    garbage = tmp_path / "root.pem"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )
    before = home.anchors_path(Role.PROVIDER).read_bytes()
    line = one_line_error(run(home, "trust", "add", "--role", "provider", garbage))
    assert str(garbage) in line and "not a readable PEM certificate" in line
    empty = tmp_path / "empty.pem"
    empty.write_text("just words\n")
    line = one_line_error(run(home, "trust", "add", "--role", "provider", empty))
    assert str(empty) in line
    assert home.anchors_path(Role.PROVIDER).read_bytes() == before


def test_trust_add_of_the_producer_root_as_licensor_is_refused(home: ProvsdkHome) -> None:
    # The attack (or slip): the producer's root as a licensor anchor lets producer keys sign
    # grants that verify as a licensor's. The store of roles must stay apart.
    before = home.anchors_path(Role.LICENSOR).read_bytes()
    producer_root = home.anchors_path(Role.PRODUCER)
    line = one_line_error(run(home, "trust", "add", "--role", "licensor", producer_root))
    assert "already a producer trust anchor" in line
    assert home.anchors_path(Role.LICENSOR).read_bytes() == before


def test_trust_add_to_a_symlinked_store_changes_the_shared_file(
    home: ProvsdkHome, world: World, tmp_path: Path
) -> None:
    # A store linked to a centrally kept file stays linked: a private copy would keep trusting
    # roots the shared file later drops.
    shared = tmp_path / "shared-provider.pem"
    shutil.copyfile(home.anchors_path(Role.PROVIDER), shared)
    link = home.anchors_path(Role.PROVIDER)
    link.unlink()
    link.symlink_to(shared)
    added = run(home, "trust", "add", "--role", "provider", world.other.anchors_path(Role.PROVIDER))
    assert added.exit_code == 0, added.output
    assert link.is_symlink() and len(anchors_in(shared)) == 2


def test_trust_store_too_large_for_c2pa_is_refused(home: ProvsdkHome, tmp_path: Path) -> None:
    # c2pa cannot load an anchors string over about 1 MiB, and every file would then read as
    # unreadable: the store refuses to grow past what verification can use.
    many = b"".join(
        make_root(f"root {i}", Algorithm.ES256)[1].public_bytes(serialization.Encoding.PEM)
        for i in range(1800)
    )
    bulk = tmp_path / "bulk.pem"
    bulk.write_bytes(many)
    before = home.anchors_path(Role.PRODUCER).read_bytes()
    line = one_line_error(run(home, "trust", "add", "--role", "producer", bulk))
    assert "c2pa" in line and "nothing was changed" in line
    assert home.anchors_path(Role.PRODUCER).read_bytes() == before
