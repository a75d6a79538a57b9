"""Recovery by sound: a copy that lost its manifest finds it again in a repository, shown as a
soft binding and counted only by a policy that accepts it, and only for what is signed.

Everything is real: files signed by c2pa, a SQLite repository, ffmpeg re-encodes that strip the
manifest. The attacks are a repository that lies, a forged store, a tampered file hoping a
recovered manifest will speak for it, and a manifest from a signer nobody trusts.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli

from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState, Verdict
from provsdk.models.report import SoftBindingState
from provsdk.registration import embedded_store, register_file
from provsdk.repository import Match, Repository, open_repository
from provsdk.sign import sign_file
from provsdk.sign.writer import sound_binding
from provsdk.softbinding import Fingerprint, audio_code, fingerprint_file
from provsdk.softbinding.signed_fingerprint import fingerprint_assertion, read_signed_fingerprint
from provsdk.verify import verify_file
from provsdk.verify.policy_file import policy_from_dict

ACCEPTING = policy_from_dict({"recovery": {"accept": True}}, name="accepting")


@dataclass(frozen=True)
class Shop:
    """Signed tracks, a repository, and a way to strip a copy by re-encoding it."""

    tmp: Path
    trust: TrustConfig
    signer: KeySigner
    spec: ManifestSpec
    ffmpeg: str
    repo_path: Path

    def sign(self, source: Path, name: str, signer: KeySigner | None = None) -> Path:
        out = self.tmp / name
        sign_file(source, out, self.spec, signer or self.signer, anchors=self.trust.producer)
        return out

    def strip(self, path: Path, name: str, *args: str) -> Path:
        out = self.tmp / name
        subprocess.run(
            [
                self.ffmpeg,
                "-v",
                "error",
                "-y",
                "-i",
                str(path),
                "-map_metadata",
                "-1",
                *args,
                str(out),
            ],
            check=True,
            timeout=120,
        )
        return out

    def repository(self) -> Repository:
        return open_repository(self.repo_path, create=True)

    def verify(self, path: Path, **kwargs: Any) -> Any:
        return verify_file(path, trust=self.trust, repository=self.repo_path, **kwargs)


@pytest.fixture
def shop(
    tmp_path: Path, trust: TrustConfig, producer_signer: KeySigner, spec: ManifestSpec, ffmpeg: Any
) -> Shop:
    return Shop(tmp_path, trust, producer_signer, spec, ffmpeg.exe, tmp_path / "repo.sqlite")


def _other(vectors: Path, shop: Shop) -> Path:
    """Another recording: sample1.mp3's sound, 30 s of it, as a WAV."""
    return shop.strip(vectors / "sample1.mp3", "other.wav", "-t", "30")


def test_stripped_reencode_is_recovered_and_shown_not_counted(vectors: Path, shop: Shop) -> None:
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    registered = register_file(shop.repository(), signed)
    copy = shop.strip(signed, "copy.mp3", "-b:a", "128k")
    report = shop.verify(copy)
    assert report.integrity.state is C2paState.ABSENT  # these bytes carry nothing
    found = report.soft_binding
    assert found.state is SoftBindingState.RECOVERED and found.bound
    assert found.manifest == registered.manifest
    assert found.recovered is not None and found.recovered.producer.trusted
    assert report.verdict is Verdict.FAIL  # the default policy does not accept recovery
    assert any(n.code == "soft-binding.recovered" for n in report.notes)
    entry = report.to_dict()
    assert entry["c2pa"]["state"] == "Absent"
    assert entry["soft_binding"]["state"] == "recovered"
    assert entry["soft_binding"]["manifest"] == registered.manifest
    assert entry["soft_binding"]["recovered"]["c2pa"]["binding"] == "soft"


def test_a_policy_that_accepts_recovery_passes_on_the_recovered_manifest(
    vectors: Path, shop: Shop
) -> None:
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    register_file(shop.repository(), signed)
    copy = shop.strip(signed, "copy.wav")
    report = shop.verify(copy, policy=ACCEPTING)
    assert report.verdict is Verdict.PASS
    assert report.integrity.state is C2paState.ABSENT  # never Trusted: the binding is soft


def test_an_excerpt_is_bound_by_the_fingerprint_its_producer_signed(
    vectors: Path, shop: Shop
) -> None:
    """A 20 s excerpt's 64-bit code is not the track's; the signed fingerprint still aligns."""
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    register_file(shop.repository(), signed)
    excerpt = shop.strip(signed, "excerpt.mp3", "-ss", "8", "-t", "20", "-b:a", "128k")
    report = shop.verify(excerpt, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert report.soft_binding.bound
    assert report.verdict is Verdict.PASS


def test_a_manifest_signed_without_a_fingerprint_is_bound_by_its_code_only(
    vectors: Path, shop: Shop
) -> None:
    """Manifests that carry only the code (other producers', or provsdk's before it signed the
    fingerprint): a whole copy is bound by the code alone, another recording is not."""
    spec = dataclasses.replace(shop.spec, soft_binding=None)
    code, _ = sound_binding(vectors / "sample1.wav")
    older = dataclasses.replace(spec, soft_binding=code)  # the code, no signed fingerprint
    signed = shop.tmp / "older.wav"
    sign_file(vectors / "sample1.wav", signed, older, shop.signer, anchors=shop.trust.producer)
    register_file(shop.repository(), signed)
    whole = shop.verify(shop.strip(signed, "whole.wav"), policy=ACCEPTING)
    assert whole.soft_binding.bound and whole.verdict is Verdict.PASS
    stranger = _other(vectors, shop)
    label = register_file(shop.repository(), signed).manifest
    lying = _Ranked(shop.repository(), [label])  # whatever the sound
    report = verify_file(stranger, trust=shop.trust, repository=lying, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert not report.soft_binding.bound and report.verdict is Verdict.FAIL


def test_a_fingerprint_assertion_that_inflates_without_end_is_not_read() -> None:
    bomb = base64.b64encode(zlib.compress(b"\0" * 50_000_000)).decode()
    assert read_signed_fingerprint({"alg": "chromaprint-1", "count": 10, "values": bomb}) is None
    assert read_signed_fingerprint({"alg": "chromaprint-1", "count": 10**9, "values": bomb}) is None
    fine = fingerprint_assertion(Fingerprint((1, 2, 3)))["data"]
    assert read_signed_fingerprint(fine) == Fingerprint((1, 2, 3))
    assert read_signed_fingerprint({**fine, "alg": "other"}) is None


def test_a_file_whose_own_manifest_holds_is_not_looked_up(vectors: Path, shop: Shop) -> None:
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    register_file(shop.repository(), signed)
    report = shop.verify(signed)
    assert report.soft_binding.state is SoftBindingState.NOT_SEARCHED
    assert report.verdict is Verdict.PASS


def test_an_unregistered_sound_finds_nothing(vectors: Path, shop: Shop) -> None:
    register_file(shop.repository(), shop.sign(vectors / "sample1.wav", "signed.wav"))
    stranger = _other(vectors, shop)
    report = shop.verify(stranger, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.NO_MATCH
    assert report.verdict is Verdict.FAIL


def test_repository_pairing_a_trusted_manifest_with_another_sound_is_not_counted(
    vectors: Path, shop: Shop
) -> None:
    """The repository is not trusted: it registers a real, trusted manifest under the sound of
    another recording. The manifest's own signed code is not that sound's, so it is shown as
    not bound and no policy counts it."""
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    stranger = _other(vectors, shop)
    store = embedded_store(signed)
    assert store is not None
    label = register_file(shop.repository(), signed).manifest
    lying = _Ranked(shop.repository(), [label])  # whatever the sound
    report = verify_file(stranger, trust=shop.trust, repository=lying, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert not report.soft_binding.bound
    assert report.verdict is Verdict.FAIL


def test_repository_answering_with_another_manifest_than_it_matched_is_not_believed(
    vectors: Path, shop: Shop
) -> None:
    first = register_file(shop.repository(), shop.sign(vectors / "sample1.wav", "a.wav"))
    other = shop.sign(_other(vectors, shop), "b.wav")
    second = register_file(shop.repository(), other)
    copy = shop.strip(shop.tmp / "a.wav", "copy.wav")
    swapped = _Swapped(shop.repository(), {first.manifest: second.manifest})
    report = verify_file(copy, trust=shop.trust, repository=swapped, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.REJECTED
    assert any(r.code == "soft-binding.label" for r in report.soft_binding.reasons)
    assert report.verdict is Verdict.FAIL


def test_recovered_store_with_a_forged_signature_is_rejected(vectors: Path, shop: Shop) -> None:
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    store = embedded_store(signed)
    assert store is not None
    label = register_file(open_repository(shop.tmp / "good.sqlite", create=True), signed).manifest
    forged = bytearray(store)
    at = forged.rfind(b"c2pa.signature")
    forged[len(forged) - 40] ^= 0xFF  # inside the COSE signature at the end of the store
    assert at > 0
    fingerprint = fingerprint_file(signed)
    shop.repository().publish(bytes(forged), label, audio_code(fingerprint), fingerprint)
    report = shop.verify(shop.strip(signed, "copy.wav"), policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.REJECTED
    assert report.verdict is Verdict.FAIL


def test_a_tampered_file_cannot_stand_on_its_recovered_manifest(vectors: Path, shop: Shop) -> None:
    """Its own manifest fails: that is evidence of tampering, which a manifest recovered for a
    similar sound does not outweigh, even under a policy that accepts recovery."""
    signed = shop.sign(vectors / "sample1.wav", "signed.wav")
    register_file(shop.repository(), signed)
    data = bytearray(signed.read_bytes())
    data[20_000] ^= 0x01  # one audio sample
    tampered = shop.tmp / "tampered.wav"
    tampered.write_bytes(data)
    report = shop.verify(tampered, policy=ACCEPTING)
    assert report.integrity.state is C2paState.INVALID
    assert report.soft_binding.state is SoftBindingState.RECOVERED  # shown...
    assert report.verdict is Verdict.FAIL  # ...never counted


def test_a_recovered_manifest_from_an_untrusted_signer_does_not_pass(
    vectors: Path, shop: Shop, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stranger_home = ProvsdkHome(tmp_path_factory.mktemp("stranger"))
    init_dev_pki(stranger_home)
    theirs = load_signer(Role.PRODUCER, home=stranger_home, use_env=False)
    signed = shop.sign(vectors / "sample1.wav", "signed.wav", signer=theirs)
    register_file(shop.repository(), signed)
    report = shop.verify(shop.strip(signed, "copy.wav"), policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert report.soft_binding.recovered is not None
    assert not report.soft_binding.recovered.producer.trusted
    assert report.verdict is Verdict.FAIL


def test_a_repository_ranking_an_unbound_manifest_first_does_not_hide_the_bound_one(
    vectors: Path, shop: Shop
) -> None:
    """The repository puts a real, valid manifest of another recording ahead of this sound's
    own. The first candidate that holds is not taken blindly: the bound one is found behind
    it, and the policy that accepts recovery counts that one."""
    mine = register_file(shop.repository(), shop.sign(vectors / "sample1.wav", "a.wav"))
    decoy = register_file(shop.repository(), shop.sign(_other(vectors, shop), "b.wav"))
    copy = shop.strip(shop.tmp / "a.wav", "copy.wav")
    ranked = _Ranked(shop.repository(), [decoy.manifest, mine.manifest])
    report = verify_file(copy, trust=shop.trust, repository=ranked, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert report.soft_binding.manifest == mine.manifest
    assert report.soft_binding.bound
    assert report.verdict is Verdict.PASS


def test_only_unbound_candidates_are_shown_as_not_bound(vectors: Path, shop: Shop) -> None:
    decoy = register_file(shop.repository(), shop.sign(_other(vectors, shop), "b.wav"))
    copy = shop.strip(shop.sign(vectors / "sample1.wav", "a.wav"), "copy.wav")
    ranked = _Ranked(shop.repository(), [decoy.manifest])
    report = verify_file(copy, trust=shop.trust, repository=ranked, policy=ACCEPTING)
    assert report.soft_binding.state is SoftBindingState.RECOVERED
    assert report.soft_binding.manifest == decoy.manifest and not report.soft_binding.bound
    assert report.verdict is Verdict.FAIL


class _Ranked:
    """A repository that answers every content query with these manifests, in this order."""

    def __init__(self, inner: Repository, labels: list[str]) -> None:
        self._inner, self._labels = inner, labels

    def publish(self, *args: Any) -> None:
        raise AssertionError("not used")

    def matches_by_binding(self, alg: str, value: str) -> list[Match]:
        return []

    def matches_by_content(self, fingerprint: Fingerprint, *, limit: int = 5) -> list[Match]:
        return [Match(label, 0.9, 0.0) for label in self._labels[:limit]]

    def manifest_store(self, manifest: str) -> bytes | None:
        return self._inner.manifest_store(manifest)


class _Swapped:
    """A repository that hands out another manifest's store than the one it matched."""

    def __init__(self, inner: Repository, swap: dict[str, str]) -> None:
        self._inner, self._swap = inner, swap

    def publish(self, *args: Any) -> None:
        raise AssertionError("not used")

    def matches_by_binding(self, alg: str, value: str) -> list[Match]:
        return self._inner.matches_by_binding(alg, value)

    def matches_by_content(self, fingerprint: Fingerprint, *, limit: int = 5) -> list[Match]:
        return self._inner.matches_by_content(fingerprint, limit=limit)

    def manifest_store(self, manifest: str) -> bytes | None:
        return self._inner.manifest_store(self._swap.get(manifest, manifest))


def test_cli_generate_register_strip_and_recover(
    dev_home: ProvsdkHome, tmp_path: Path, ffmpeg: Any
) -> None:
    """The whole story from the command line: a repository, a generated track registered as
    it is made, a re-encode that strips its manifest, and verify finding it again."""
    repo = tmp_path / "repo.sqlite"
    home = dev_home.root
    assert run_cli("repo", "init", repo, home=home).returncode == 0
    track = tmp_path / "track.wav"
    made = run_cli(
        "generate",
        "warm lofi beat",
        "-o",
        track,
        "--duration",
        "20",
        "--seed",
        "7",
        "--repository",
        repo,
        home=home,
    )
    assert made.returncode == 0, made.stderr
    assert "registered" in made.stdout
    copy = tmp_path / "copy.mp3"
    subprocess.run(
        [
            ffmpeg.exe,
            "-v",
            "error",
            "-i",
            str(track),
            "-map_metadata",
            "-1",
            "-b:a",
            "128k",
            str(copy),
        ],
        check=True,
        timeout=120,
    )
    plain = run_cli("verify", copy, "--json", home=home)
    assert plain.returncode == 1
    assert json.loads(plain.stdout)["files"][0]["soft_binding"]["state"] == "not-searched"
    found = run_cli("verify", copy, "--repository", repo, "--json", home=home)
    entry = json.loads(found.stdout)["files"][0]
    assert entry["c2pa"]["state"] == "Absent"
    assert entry["soft_binding"]["state"] == "recovered" and entry["soft_binding"]["bound"]
    text = run_cli("verify", copy, "--repository", repo, home=home, env={"PROVSDK_REPOSITORY": ""})
    assert "recovered" in text.stdout and "soft binding" in text.stdout
    policy = tmp_path / "accept.toml"
    policy.write_text("[recovery]\naccept = true\n")
    accepted = run_cli(
        "verify", copy, "--policy", policy, home=home, env={"PROVSDK_REPOSITORY": str(repo)}
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_cli_recovers_from_a_repository_served_over_http(
    vectors: Path, shop: Shop, dev_home: ProvsdkHome
) -> None:
    """`provsdk serve --repository`'s API on 127.0.0.1, as `verify --repository URL` uses it:
    registered over HTTP by `sign`, looked up by fingerprint, the store fetched and checked."""
    pytest.importorskip("fastapi")
    from provsdk.server import ServerConfig, ServerThread

    key = "recovery-test-key-0123456789"
    assert run_cli("repo", "init", shop.repo_path, home=dev_home.root).returncode == 0
    config = ServerConfig(
        home=dev_home, api_keys=frozenset({key}), rate_limit=1000.0, repository=shop.repo_path
    )
    with ServerThread(config) as server:
        env = {"PROVSDK_REPOSITORY_API_KEY": key}
        signed = shop.tmp / "signed.wav"
        made = run_cli(
            "sign",
            vectors / "sample1.wav",
            "-o",
            signed,
            "--source-type",
            "digitalCapture",
            "--repository",
            server.url,
            home=dev_home.root,
            env=env,
        )
        assert made.returncode == 0, made.stderr
        copy = shop.strip(signed, "copy.mp3", "-b:a", "128k")
        found = run_cli(
            "verify", copy, "--repository", server.url, "--json", home=dev_home.root, env=env
        )
        refused = run_cli("verify", copy, "--repository", server.url, home=dev_home.root)
    entry = json.loads(found.stdout)["files"][0]
    assert entry["soft_binding"]["state"] == "recovered" and entry["soft_binding"]["bound"]
    # Without the key the repository refuses: a remote service's failure (exit 3), in one line
    # and its hint, never a silent "no match".
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "401" in refused.stderr and "hint: check the API key" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 2
