"""Development PKI, certificate profile, signers from files / environment / callbacks, trust."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provsdk.credentials import (
    Algorithm,
    CallbackSigner,
    Role,
    TrustConfig,
    TrustStore,
    init_dev_pki,
    is_dev_certificate,
    load_signer,
    signer_from_env,
    signer_from_files,
)
from provsdk.credentials.devpki import issue_leaf, make_root
from provsdk.credentials.profile import profile_problems
from provsdk.errors import ConfigurationError, CredentialError
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState
from provsdk.sign import sign_file
from provsdk.verify import verify_file

KEY_ENV, CERT_ENV = "PROVSDK_SIGNING_KEY", "PROVSDK_SIGNING_CERT"


def _pem_body(pem: str) -> list[str]:
    """The base64 lines of a PEM block: what must never appear in a message or repr."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _assert_no_key_material(text: str, key_pem: str) -> None:
    squashed = "".join(text.split())
    for line in _pem_body(key_pem):
        assert line not in text
        assert line not in squashed
    assert "PRIVATE KEY" not in text


def _write_key(path: Path, key: object) -> Path:
    path.write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)  # as a careful user keeps a key: these tests are not about permissions
    return path


def _write_certs(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


# --- init_dev_pki ---------------------------------------------------------------------------


def test_init_dev_pki_writes_documented_layout(dev_home: ProvsdkHome) -> None:
    root = dev_home.root
    for role in Role.signing():
        key = root / "keys" / f"{role.value}.key"
        chain = root / "keys" / f"{role.value}.pem"
        root_key = root / "ca" / f"{role.value}-root.key"
        anchors = root / "trust" / f"{role.value}.pem"
        assert (key, chain, root_key, anchors) == (
            dev_home.key_path(role),
            dev_home.chain_path(role),
            dev_home.root_key_path(role),
            dev_home.anchors_path(role),
        )
        for private in (key, root_key):
            assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
            assert private.stat().st_mode & 0o777 == 0o600, private
        leaf_certs = x509.load_pem_x509_certificates(chain.read_bytes())
        anchor_certs = x509.load_pem_x509_certificates(anchors.read_bytes())
        assert len(leaf_certs) == 1 and len(anchor_certs) == 1
        leaf, anchor = leaf_certs[0], anchor_certs[0]
        assert leaf.issuer == anchor.subject
        assert anchor.issuer == anchor.subject
        assert anchor.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        leaf.verify_directly_issued_by(anchor)
        assert is_dev_certificate(leaf) and is_dev_certificate(anchor)
        assert profile_problems(leaf) == []
        assert role.value in leaf.subject.rfc4514_string()
    # No temporary files left behind.
    leftovers = [p.name for p in root.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert leftovers == []


def test_init_dev_pki_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    home = ProvsdkHome(tmp_path / "home")
    first = init_dev_pki(home)
    assert set(first.subjects) == set(Role.signing())
    before = {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()}
    with pytest.raises(ConfigurationError) as info:
        init_dev_pki(home)
    assert "\n" not in str(info.value)
    assert {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()} == before

    init_dev_pki(home, force=True)
    for role in Role.signing():
        assert home.key_path(role).read_bytes() != before[home.key_path(role)]
        assert home.key_path(role).stat().st_mode & 0o777 == 0o600


def test_init_dev_pki_uses_provsdk_home_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVSDK_HOME", str(tmp_path / "envhome"))
    pki = init_dev_pki()
    assert pki.home.root == tmp_path / "envhome"
    assert (tmp_path / "envhome" / "keys" / "producer.key").is_file()


def test_private_key_is_0600_even_with_a_stale_temporary_file(tmp_path: Path) -> None:
    home = ProvsdkHome(tmp_path / "home")
    stale = home.key_path(Role.PRODUCER).with_name(".producer.key.tmp")
    stale.parent.mkdir(parents=True)
    stale.write_text("left over from a crash")
    stale.chmod(0o644)
    init_dev_pki(home)
    assert home.key_path(Role.PRODUCER).stat().st_mode & 0o777 == 0o600


# --- algorithms -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "algorithm",
    [
        Algorithm.ES256,
        Algorithm.ES384,
        Algorithm.ED25519,
        Algorithm.PS256,
        Algorithm.ES512,
    ],
    ids=lambda a: a.value,
)
def test_each_algorithm_signs_a_wav_that_verifies_trusted(
    tmp_path: Path, vectors: Path, spec: ManifestSpec, algorithm: Algorithm
) -> None:
    home = ProvsdkHome(tmp_path / "home")
    pki = init_dev_pki(home, algorithm)
    assert pki.algorithm is algorithm
    signer = load_signer(Role.PRODUCER, home=home, use_env=False)
    assert signer.algorithm is algorithm
    assert algorithm.fits(signer.leaf.public_key())  # type: ignore[arg-type]
    out = tmp_path / "signed.wav"
    sign_file(vectors / "sample1.wav", out, spec, signer)
    report = verify_file(out, trust=TrustConfig.load(home))
    assert report.integrity.state is C2paState.TRUSTED, report.to_dict()
    assert report.passed
    assert (report.producer.algorithm or "").upper().replace("-", "") == algorithm.value.upper()


def test_algorithm_parse() -> None:
    assert Algorithm.parse("es256") is Algorithm.ES256
    assert Algorithm.parse("ED25519") is Algorithm.ED25519
    assert Algorithm.parse("PS-256") is Algorithm.PS256
    with pytest.raises(CredentialError, match="unknown signature algorithm"):
        Algorithm.parse("HS256")


def test_explicit_algorithm_that_does_not_fit_the_key(dev_home: ProvsdkHome) -> None:
    with pytest.raises(CredentialError, match="cannot sign"):
        signer_from_files(
            dev_home.key_path(Role.PRODUCER), dev_home.chain_path(Role.PRODUCER), Algorithm.ES384
        )


# --- certificate profile ------------------------------------------------------------------


def _custom_leaf(
    issuer_key: object,
    issuer: x509.Certificate,
    *,
    ca: bool = False,
    digital_signature: bool = True,
    ekus: list[x509.ObjectIdentifier] | None = None,
    not_before: dt.datetime | None = None,
    days: int = 30,
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custom leaf")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=not digital_signature,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if ekus is None:
        ekus = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def test_root() -> tuple[object, x509.Certificate]:
    return make_root("tests root", Algorithm.ES256)


def test_profile_accepts_a_dev_leaf(test_root: tuple[object, x509.Certificate]) -> None:
    root_key, root = test_root
    _, leaf = issue_leaf(root_key, root, "fine", Algorithm.ES256)  # type: ignore[arg-type]
    assert profile_problems(leaf) == []
    # The baseline the next test breaks one rule at a time: a leaf the root really signed
    # (this raises if its signature does not check) and one the profile accepts as it is.
    custom = _custom_leaf(root_key, root)
    custom.verify_directly_issued_by(root)
    assert not custom.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert profile_problems(custom) == []


def test_profile_flags_each_broken_rule(test_root: tuple[object, x509.Certificate]) -> None:
    root_key, root = test_root
    assert any("CA certificate" in p for p in profile_problems(root))
    assert any(
        "CA certificate" in p for p in profile_problems(_custom_leaf(root_key, root, ca=True))
    )
    no_sign = profile_problems(_custom_leaf(root_key, root, digital_signature=False))
    assert any("digitalSignature" in p for p in no_sign)
    no_eku = profile_problems(_custom_leaf(root_key, root, ekus=[]))
    assert any("extended key usage" in p for p in no_eku)
    wrong_eku = profile_problems(
        _custom_leaf(root_key, root, ekus=[ExtendedKeyUsageOID.SERVER_AUTH])
    )
    assert any("extended key usage" in p for p in wrong_eku)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    expired = profile_problems(_custom_leaf(root_key, root, not_before=past, days=10))
    assert any("expired" in p for p in expired)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    assert any(
        "not valid before" in p
        for p in profile_problems(_custom_leaf(root_key, root, not_before=future))
    )


def test_expired_leaf_cannot_make_a_signer(
    tmp_path: Path, test_root: tuple[object, x509.Certificate]
) -> None:
    root_key, root = test_root
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    key, leaf = issue_leaf(root_key, root, "old", Algorithm.ES256, not_before=past, days=10)  # type: ignore[arg-type]
    key_path = _write_key(tmp_path / "old.key", key)
    chain_path = _write_certs(tmp_path / "old.pem", leaf)
    with pytest.raises(CredentialError, match="expired") as info:
        signer_from_files(key_path, chain_path)
    _assert_no_key_material(str(info.value), key_path.read_text())


# --- signers from files and environment --------------------------------------------------


def test_signer_from_env_with_pem_text(dev_home: ProvsdkHome) -> None:
    key_pem = dev_home.key_path(Role.PRODUCER).read_text()
    env = {KEY_ENV: key_pem, CERT_ENV: dev_home.chain_path(Role.PRODUCER).read_text()}
    signer = signer_from_env(env)
    assert signer is not None
    assert signer.algorithm is Algorithm.ES256
    assert "producer" in signer.leaf.subject.rfc4514_string()
    _assert_no_key_material(repr(signer), key_pem)
    _assert_no_key_material(str(signer), key_pem)


def test_signer_from_env_with_paths(dev_home: ProvsdkHome) -> None:
    env = {
        KEY_ENV: str(dev_home.key_path(Role.PRODUCER)),
        CERT_ENV: str(dev_home.chain_path(Role.PRODUCER)),
    }
    signer = signer_from_env(env)
    assert signer is not None
    assert signer.leaf == x509.load_pem_x509_certificate(
        dev_home.chain_path(Role.PRODUCER).read_bytes()
    )


def test_signer_from_env_unset_is_none() -> None:
    assert signer_from_env({}) is None
    assert signer_from_env({KEY_ENV: "", CERT_ENV: ""}) is None
    assert signer_from_env() is None  # the autouse fixture cleared os.environ


def test_load_signer_prefers_the_environment_for_the_producer(
    tmp_path: Path, home: ProvsdkHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = ProvsdkHome(tmp_path / "other")
    init_dev_pki(other)
    monkeypatch.setenv(KEY_ENV, other.key_path(Role.PRODUCER).read_text())
    monkeypatch.setenv(CERT_ENV, str(other.chain_path(Role.PRODUCER)))
    from_env = load_signer(Role.PRODUCER)
    expected = x509.load_pem_x509_certificate(other.chain_path(Role.PRODUCER).read_bytes())
    assert from_env.leaf == expected
    # Not for the other roles, and not when asked to ignore it.
    home_leaf = x509.load_pem_x509_certificate(home.chain_path(Role.PRODUCER).read_bytes())
    assert load_signer(Role.PRODUCER, use_env=False).leaf == home_leaf
    provider_leaf = x509.load_pem_x509_certificate(home.chain_path(Role.PROVIDER).read_bytes())
    assert load_signer(Role.PROVIDER).leaf == provider_leaf


@pytest.mark.parametrize("present", [KEY_ENV, CERT_ENV])
def test_only_one_env_variable_is_an_error(
    dev_home: ProvsdkHome, monkeypatch: pytest.MonkeyPatch, present: str
) -> None:
    value = (
        dev_home.key_path(Role.PRODUCER).read_text()
        if present == KEY_ENV
        else str(dev_home.chain_path(Role.PRODUCER))
    )
    missing = CERT_ENV if present == KEY_ENV else KEY_ENV
    with pytest.raises(CredentialError, match=missing) as info:
        signer_from_env({present: value})
    _assert_no_key_material(str(info.value), dev_home.key_path(Role.PRODUCER).read_text())
    monkeypatch.setenv(present, value)
    with pytest.raises(CredentialError, match=missing):
        load_signer(Role.PRODUCER, home=dev_home)


def test_key_not_matching_the_certificate(dev_home: ProvsdkHome) -> None:
    producer_key = dev_home.key_path(Role.PRODUCER)
    provider_chain = dev_home.chain_path(Role.PROVIDER)
    with pytest.raises(CredentialError, match="does not match") as info:
        signer_from_files(producer_key, provider_chain)
    _assert_no_key_material(str(info.value), producer_key.read_text())
    with pytest.raises(CredentialError, match="does not match") as info:
        signer_from_env({KEY_ENV: producer_key.read_text(), CERT_ENV: provider_chain.read_text()})
    _assert_no_key_material(str(info.value), producer_key.read_text())
    with pytest.raises(CredentialError, match="does not match"):
        load_signer(Role.PRODUCER, key=producer_key, cert=provider_chain)


def test_load_signer_errors(tmp_path: Path, dev_home: ProvsdkHome) -> None:
    with pytest.raises(CredentialError, match="both"):
        load_signer(Role.PRODUCER, key=dev_home.key_path(Role.PRODUCER))
    with pytest.raises(CredentialError, match="no producer credentials") as info:
        load_signer(Role.PRODUCER, home=ProvsdkHome(tmp_path / "empty"), use_env=False)
    assert info.value.hint and "keys init" in info.value.hint
    with pytest.raises(CredentialError, match="no such file"):
        signer_from_files(tmp_path / "missing.key", dev_home.chain_path(Role.PRODUCER))


GARBAGE = "Zm9vYmFyIHRoaXMgaXMgZ2FyYmFnZSBub3QgYSBrZXk="


def test_garbage_pem_is_a_credential_error_without_the_garbage(
    tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    framed_key = f"-----BEGIN PRIVATE KEY-----\n{GARBAGE}\n-----END PRIVATE KEY-----\n"
    framed_cert = f"-----BEGIN CERTIFICATE-----\n{GARBAGE}\n-----END CERTIFICATE-----\n"
    real_key = dev_home.key_path(Role.PRODUCER).read_text()
    real_chain = dev_home.chain_path(Role.PRODUCER).read_text()
    attempts = [
        lambda: signer_from_env({KEY_ENV: framed_key, CERT_ENV: real_chain}),
        lambda: signer_from_env({KEY_ENV: real_key, CERT_ENV: framed_cert}),
        lambda: signer_from_env({KEY_ENV: real_chain, CERT_ENV: real_key}),  # swapped
        lambda: signer_from_files(tmp_path / "g.key", dev_home.chain_path(Role.PRODUCER)),
        lambda: signer_from_files(dev_home.key_path(Role.PRODUCER), tmp_path / "g.pem"),
        lambda: signer_from_files(dev_home.key_path(Role.PRODUCER), tmp_path / "empty.pem"),
    ]
    (tmp_path / "g.key").write_text(framed_key)
    (tmp_path / "g.key").chmod(0o600)
    (tmp_path / "g.pem").write_text(framed_cert)
    (tmp_path / "empty.pem").write_text("")
    for attempt in attempts:
        with pytest.raises(CredentialError) as info:
            attempt()
        message = str(info.value)
        assert "\n" not in message
        assert GARBAGE not in message
        assert GARBAGE not in info.value.diagnostics()
        _assert_no_key_material(message, real_key)


def test_encrypted_key_without_password(
    tmp_path: Path, dev_home: ProvsdkHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = serialization.load_pem_private_key(
        dev_home.key_path(Role.PRODUCER).read_bytes(), password=None
    )
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter2"),
        )
    )
    encrypted.chmod(0o600)
    chain = dev_home.chain_path(Role.PRODUCER)
    with pytest.raises(CredentialError, match="PROVSDK_KEY_PASSWORD"):
        signer_from_files(encrypted, chain)
    monkeypatch.setenv("PROVSDK_KEY_PASSWORD", "wrong")
    with pytest.raises(CredentialError) as info:
        signer_from_files(encrypted, chain)
    assert "wrong" not in str(info.value)
    monkeypatch.setenv("PROVSDK_KEY_PASSWORD", "hunter2")
    assert signer_from_files(encrypted, chain).algorithm is Algorithm.ES256


def test_unarmoured_key_in_environment_is_not_echoed(dev_home: ProvsdkHome) -> None:
    key_pem = dev_home.key_path(Role.PRODUCER).read_text()
    body = "\n".join(_pem_body(key_pem))
    env = {KEY_ENV: body, CERT_ENV: dev_home.chain_path(Role.PRODUCER).read_text()}
    with pytest.raises(CredentialError) as info:
        signer_from_env(env)
    _assert_no_key_material(str(info.value), key_pem)
    _assert_no_key_material(info.value.diagnostics(), key_pem)
    assert "\n" not in str(info.value)


def test_error_with_newline_in_path_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as info:
        signer_from_files(tmp_path / "two\nlines.key", tmp_path / "chain.pem")
    assert "\n" not in str(info.value)


def test_repr_never_contains_the_key(producer_signer, dev_home: ProvsdkHome) -> None:
    key_pem = dev_home.key_path(Role.PRODUCER).read_text()
    for text in (repr(producer_signer), str(producer_signer), f"{producer_signer!r}"):
        _assert_no_key_material(text, key_pem)
        assert "ES256" in text
        assert "provsdk dev producer" in text
    key_repr = repr(producer_signer.key)
    assert key_repr not in repr(producer_signer)


# --- callback signer (key held elsewhere) ---------------------------------------------------


def _external_key(dev_home: ProvsdkHome) -> ec.EllipticCurvePrivateKey:
    # Stands for a KMS: the key is loaded here and only ever used through the callback.
    key = serialization.load_pem_private_key(
        dev_home.key_path(Role.PRODUCER).read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


@pytest.mark.parametrize("encoding", ["der", "raw"])
def test_callback_signer_signs_a_file_that_verifies_trusted(
    tmp_path: Path,
    vectors: Path,
    dev_home: ProvsdkHome,
    trust: TrustConfig,
    spec: ManifestSpec,
    encoding: str,
) -> None:
    key = _external_key(dev_home)
    calls: list[int] = []

    def kms_sign(data: bytes) -> bytes:
        calls.append(len(data))
        der = key.sign(data, ec.ECDSA(hashes.SHA256()))
        if encoding == "der":
            return der
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    chain = tuple(x509.load_pem_x509_certificates(dev_home.chain_path(Role.PRODUCER).read_bytes()))
    signer = CallbackSigner(algorithm=Algorithm.ES256, chain=chain, source="kms", callback=kms_sign)
    _assert_no_key_material(repr(signer), dev_home.key_path(Role.PRODUCER).read_text())
    raw = signer.sign(b"hello")
    assert len(raw) == 64  # DER normalised to r||s
    out = tmp_path / "kms.wav"
    result = sign_file(vectors / "sample1.wav", out, spec, signer)
    assert calls
    assert result.signer_subject == chain[0].subject.rfc4514_string()
    report = verify_file(out, trust=trust)
    assert report.integrity.state is C2paState.TRUSTED
    assert report.passed


def test_callback_signer_without_callback(dev_home: ProvsdkHome) -> None:
    chain = tuple(x509.load_pem_x509_certificates(dev_home.chain_path(Role.PRODUCER).read_bytes()))
    with pytest.raises(CredentialError, match="no signing callback"):
        CallbackSigner(algorithm=Algorithm.ES256, chain=chain, source="kms").sign(b"x")


# --- trust stores per role ------------------------------------------------------------------


def _fingerprints(store: TrustStore) -> set[bytes]:
    return {a.fingerprint(hashes.SHA256()) for a in store.anchors}


def test_each_role_has_its_own_anchors(dev_home: ProvsdkHome, trust: TrustConfig) -> None:
    stores = {role: trust.for_role(role) for role in Role.signing()}
    for role, store in stores.items():
        assert store.role is role
        assert len(store.anchors) == 1
        anchor_file = x509.load_pem_x509_certificates(dev_home.anchors_path(role).read_bytes())
        assert _fingerprints(store) == {c.fingerprint(hashes.SHA256()) for c in anchor_file}
    assert not _fingerprints(stores[Role.PRODUCER]) & _fingerprints(stores[Role.PROVIDER])
    assert not _fingerprints(stores[Role.PRODUCER]) & _fingerprints(stores[Role.LICENSOR])
    assert not _fingerprints(stores[Role.PROVIDER]) & _fingerprints(stores[Role.LICENSOR])


def test_provider_key_is_not_trusted_as_a_producer(
    tmp_path: Path, vectors: Path, dev_home: ProvsdkHome, trust: TrustConfig, spec: ManifestSpec
) -> None:
    provider = load_signer(Role.PROVIDER, home=dev_home, use_env=False)
    out = tmp_path / "by-provider.wav"
    sign_file(vectors / "sample1.wav", out, spec, provider)
    report = verify_file(out, trust=trust)
    assert report.integrity.state is C2paState.VALID
    assert not report.passed
    assert any(r.code.startswith("signingCredential.untrusted") for r in report.reasons)
    # The same file against a store that *does* hold the provider root is trusted: the
    # difference above is the role separation, not a broken signature.
    as_producer = TrustConfig(producer=TrustStore(Role.PRODUCER, trust.provider.anchors))
    assert verify_file(out, trust=as_producer).integrity.state is C2paState.TRUSTED


def test_trust_store_adding_deduplicates_and_empty_store_trusts_nothing(
    tmp_path: Path, vectors: Path, dev_home: ProvsdkHome, signed_files: dict[str, Path]
) -> None:
    store = TrustStore.from_home(Role.PRODUCER, dev_home)
    again = store.adding_files([dev_home.anchors_path(Role.PRODUCER)])
    assert len(again.anchors) == len(store.anchors) == 1
    assert TrustStore.from_home(Role.PRODUCER, ProvsdkHome(tmp_path / "none")).anchors == ()
    empty = TrustConfig()
    report = verify_file(signed_files["wav"], trust=empty)
    assert report.integrity.state is C2paState.VALID
    assert not report.passed
    copy = tmp_path / "anchors.pem"
    shutil.copyfile(vectors / "c2pa-test-trust-anchors.pem", copy)
    assert len(TrustStore(Role.PRODUCER).adding_files([copy]).anchors) == 9
