"""Certificate path validation against a role's trust store (provsdk.credentials.chain).

Every certificate is made here, so each test shows the exact shape of the chain it judges.
EC P-256 is the default because its keys cost nothing; RSA keys are made once per module.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provsdk.credentials import Algorithm, Role, TrustStore, chain
from provsdk.credentials.chain import (
    MAX_PATH,
    MAX_X5C,
    ChainCheck,
    chain_from_x5c,
    validate_chain,
    x5c_from_chain,
)
from provsdk.credentials.devpki import issue_leaf, make_root
from provsdk.credentials.profile import DOCUMENT_SIGNING

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _ec() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Node:
    """A certificate and the key its subject holds (so it can issue more)."""

    key: CertificateIssuerPrivateKeyTypes
    cert: x509.Certificate


def _cert(
    subject: str,
    issuer: Node | None,
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    signer: CertificateIssuerPrivateKeyTypes | None = None,
    ca: bool | None = True,
    path_length: int | None = None,
    usage: x509.KeyUsage | None = None,
    no_usage: bool = False,
    eku: bool = False,
    not_before: dt.datetime | None = None,
    days: float = 365,
    extra: x509.ExtensionType | None = None,
    pss: bool = False,
) -> Node:
    """One certificate. ``issuer=None`` makes it self-signed; defaults make a CA.

    ``signer`` overrides the key that signs it while the issuer's name stays: a forgery.
    """
    key = key or _ec()
    sign_key = signer or (issuer.key if issuer else key)
    start = not_before or NOW - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                (issuer.key if issuer else key).public_key()
            ),
            critical=False,
        )
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
        )
    if not no_usage:
        builder = builder.add_extension(
            usage or _usage(sign=not ca, cert_sign=bool(ca)), critical=True
        )
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
    if extra is not None:
        builder = builder.add_extension(extra, critical=True)
    if isinstance(sign_key, ed25519.Ed25519PrivateKey):
        return Node(key, builder.sign(sign_key, None))
    if pss:
        rsa_padding = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return Node(key, builder.sign(sign_key, hashes.SHA256(), rsa_padding=rsa_padding))
    return Node(key, builder.sign(sign_key, hashes.SHA256()))


def _leaf(
    issuer: Node,
    *,
    signer: CertificateIssuerPrivateKeyTypes | None = None,
    usage: x509.KeyUsage | None = None,
    not_before: dt.datetime | None = None,
    days: float = 365,
    extra: x509.ExtensionType | None = None,
    pss: bool = False,
) -> Node:
    """A leaf that meets the signing profile (not a CA, digitalSignature, EKU, key ids)."""
    return _cert(
        "signer",
        issuer,
        ca=False,
        eku=True,
        signer=signer,
        usage=usage,
        not_before=not_before,
        days=days,
        extra=extra,
        pss=pss,
    )


def _devpki(pair: tuple[PrivateKeyTypes, x509.Certificate]) -> Node:
    """A make_root / issue_leaf result as a Node (their key type is the wider PrivateKeyTypes)."""
    key, cert = pair
    assert isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
    return Node(key, cert)


def _store(*anchors: x509.Certificate, role: Role = Role.PRODUCER) -> TrustStore:
    return TrustStore(role, anchors)


def _check(
    chain: list[x509.Certificate], *anchors: x509.Certificate, at: dt.datetime | None = None
) -> ChainCheck:
    return validate_chain(chain, _store(*anchors), at)


def _trusted(result: ChainCheck, anchor: x509.Certificate) -> None:
    assert result.problems == ()
    assert result.codes == ()
    assert result.trusted
    assert result.anchor == anchor.subject.rfc4514_string()


def _refused(result: ChainCheck) -> tuple[str, ...]:
    """The problem codes of a chain that must not be trusted (and checks it is not)."""
    assert not result.trusted
    assert result.anchor is None
    assert result.problems, "an untrusted chain must say why"
    assert all(re.fullmatch(r"chain\.[a-z-]+: \S.*", str(p)) for p in result.problems)
    return result.codes


@pytest.fixture(scope="module")
def root() -> Node:
    """A root that allows intermediates (make_root's roots carry pathLen 0)."""
    return _cert("root", None)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- trusted paths -------------------------------------------------------------------------


def test_leaf_directly_under_an_anchor() -> None:
    root_key, root = make_root("producer root", Algorithm.ES256)
    _, leaf = issue_leaf(root_key, root, "producer", Algorithm.ES256)
    result = validate_chain([leaf], _store(root))
    _trusted(result, root)
    assert result.subject == leaf.subject.rfc4514_string()


def test_anchor_included_in_the_chain_is_fine() -> None:
    root_key, root = make_root("producer root", Algorithm.ES256)
    _, leaf = issue_leaf(root_key, root, "producer", Algorithm.ES256)
    _trusted(validate_chain([leaf, root], _store(root)), root)


def test_leaf_under_one_intermediate(root: Node) -> None:
    mid = _cert("intermediate", root, path_length=0)
    leaf = _leaf(mid)
    _trusted(_check([leaf.cert, mid.cert], root.cert), root.cert)


def test_devpki_leaf_under_an_intermediate(root: Node) -> None:
    mid = _cert("intermediate", root)
    _, leaf = issue_leaf(mid.key, mid.cert, "producer", Algorithm.ES256)
    _trusted(_check([leaf, mid.cert], root.cert), root.cert)


def test_an_intermediate_may_itself_be_the_anchor(root: Node) -> None:
    mid = _cert("intermediate", root)
    leaf = _leaf(mid)
    _trusted(_check([leaf.cert, mid.cert], mid.cert), mid.cert)


def test_re_issued_anchor_matches_by_name_and_key(root: Node) -> None:
    # The same root name and key with other dates: a renewed root still anchors old leaves.
    renewed = _cert("root", None, key=root.key, days=3000)
    assert renewed.cert != root.cert
    leaf = _leaf(root)
    _trusted(_check([leaf.cert, root.cert], renewed.cert), renewed.cert)


def test_anchor_name_without_its_key_is_not_the_anchor(root: Node) -> None:
    # A self-signed certificate that copies the anchor's name (and meets the signing profile)
    # must not be taken for the anchor: the match needs the key as well as the name.
    impostor = _cert("root", None, ca=False, eku=True)
    result = _check([impostor.cert], root.cert)
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")


@pytest.mark.parametrize(
    "algorithm",
    [Algorithm.ES256, Algorithm.ES384, Algorithm.ES512, Algorithm.ED25519, Algorithm.PS256],
)
def test_every_algorithm(algorithm: Algorithm) -> None:
    root_key, root = make_root(f"{algorithm.value} root", algorithm)
    _, leaf = issue_leaf(root_key, root, f"{algorithm.value} signer", algorithm)
    _trusted(validate_chain([leaf], _store(root)), root)


@pytest.mark.parametrize("algorithm", [Algorithm.ES384, Algorithm.ES512, Algorithm.ED25519])
def test_every_algorithm_refuses_a_forgery(algorithm: Algorithm) -> None:
    _, root = make_root("root", algorithm)
    other_key, _ = make_root("root", algorithm)
    _, forged = issue_leaf(other_key, root, "signer", algorithm)
    result = validate_chain([forged], _store(root))
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")


def test_rsa_pss_signed_certificates(rsa_key: rsa.RSAPrivateKey) -> None:
    root = _cert("rsa root", None, key=rsa_key, pss=True)
    leaf = _leaf(root, pss=True)
    assert isinstance(leaf.cert.signature_algorithm_parameters, padding.PSS)
    _trusted(_check([leaf.cert], root.cert), root.cert)


def test_mixed_algorithms_along_a_path(rsa_key: rsa.RSAPrivateKey) -> None:
    root = _cert("ed root", None, key=ed25519.Ed25519PrivateKey.generate())
    mid = _cert("rsa intermediate", root, key=rsa_key)
    leaf = _leaf(mid)
    _trusted(_check([leaf.cert, mid.cert], root.cert), root.cert)


# --- no path to an anchor ------------------------------------------------------------------


def test_leaf_of_another_role_is_untrusted() -> None:
    _, producer_root = make_root("provsdk dev producer root", Algorithm.ES256)
    licensor_key, licensor_root = make_root("provsdk dev licensor root", Algorithm.ES256)
    _, licensor_leaf = issue_leaf(licensor_key, licensor_root, "licensor", Algorithm.ES256)
    result = validate_chain([licensor_leaf], TrustStore(Role.PRODUCER, (producer_root,)))
    assert _refused(result) == ("chain.untrusted",)
    assert not result.trusted
    assert result.anchor is None
    assert "producer trust store" in result.problems[0].message


def test_empty_store_fails_closed() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW)
    _, leaf = issue_leaf(root_key, root, "signer", Algorithm.ES256)
    result = validate_chain([leaf], TrustStore(Role.LICENSOR))
    assert _refused(result) == ("chain.no-anchors",)
    assert not result.trusted
    assert "licensor" in result.problems[0].message


def test_empty_chain() -> None:
    _, root = make_root("root", Algorithm.ES256, now=NOW)
    result = validate_chain([], _store(root))
    assert _refused(result) == ("chain.empty",)
    assert result.subject is None
    assert _refused(validate_chain([], TrustStore(Role.PRODUCER))) == (
        "chain.empty",
        "chain.no-anchors",
    )


def test_forged_issuer_name_is_a_bad_signature(root: Node) -> None:
    # Signed by another key but naming the trusted root as its issuer.
    forged = _leaf(root, signer=_ec())
    result = _check([forged.cert], root.cert)
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")
    assert "another key" in result.problems[1].message


def test_someone_elses_dev_pki_with_the_same_names() -> None:
    # Every `keys init` names its roots alike; a leaf from another machine must not pass.
    _, mine = make_root("provsdk dev producer root", Algorithm.ES256)
    theirs_key, theirs = make_root("provsdk dev producer root", Algorithm.ES256)
    _, their_leaf = issue_leaf(theirs_key, theirs, "producer", Algorithm.ES256)
    result = validate_chain([their_leaf], _store(mine))
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")


def test_forged_intermediate_with_the_real_name(root: Node) -> None:
    fake_mid = _cert("intermediate", root, signer=_ec())
    leaf = _leaf(fake_mid)
    result = _check([leaf.cert, fake_mid.cert], root.cert)
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")
    assert str(result.problems[1]).startswith("chain.bad-signature: CN=intermediate ")


def test_weak_issuer_key_is_refused() -> None:
    weak = _cert("weak root", None, key=rsa.generate_private_key(65537, 1024))
    leaf = _leaf(weak)
    result = _check([leaf.cert], weak.cert)
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")
    assert "1024-bit" in result.problems[1].message


def test_cross_signed_loop_terminates(root: Node) -> None:
    # A and B certify each other and neither is trusted: the search must not go round.
    a_key, b_key = _ec(), _ec()
    a_self = Node(a_key, _cert("A", None, key=a_key).cert)
    b_self = Node(b_key, _cert("B", None, key=b_key).cert)
    a_by_b = _cert("A", b_self, key=a_key)
    b_by_a = _cert("B", a_self, key=b_key)
    leaf = _leaf(a_self)
    started = time.perf_counter()
    result = _check([leaf.cert, a_by_b.cert, b_by_a.cert], root.cert)
    assert _refused(result) == ("chain.untrusted",)
    assert time.perf_counter() - started < 1


def test_search_budget_fails_closed(root: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    # With room for one candidate only, the impostor listed first uses it up: no path, and the
    # answer says the search was cut short rather than pretending the chain is fine.
    mid = _cert("intermediate", root)
    impostor = _cert("intermediate", root)
    leaf = _leaf(mid)
    monkeypatch.setattr(chain, "_MAX_STEPS", 1)
    result = _check([leaf.cert, impostor.cert, mid.cert], root.cert)
    assert _refused(result) == ("chain.untrusted", "chain.bad-signature")
    assert "search stopped" in result.problems[0].message


def test_path_longer_than_the_limit(root: Node) -> None:
    # leaf + (MAX_PATH - 1) intermediates + root is one certificate too many.
    mids = [root]
    for i in range(MAX_PATH - 1):
        mids.append(_cert(f"intermediate {i}", mids[-1]))
    too_long = _leaf(mids[-1])
    result = _check([too_long.cert, *(m.cert for m in mids[1:])], root.cert)
    assert _refused(result) == ("chain.untrusted", "chain.path-length")
    # One intermediate fewer fits exactly.
    fits = _leaf(mids[-2])
    _trusted(_check([fits.cert, *(m.cert for m in mids[1:-1])], root.cert), root.cert)


# --- a path exists but breaks a rule -------------------------------------------------------


def test_expired_leaf_now_but_trusted_earlier() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW - 60 * DAY)
    _, leaf = issue_leaf(
        root_key, root, "signer", Algorithm.ES256, not_before=NOW - 40 * DAY, days=10
    )
    result = validate_chain([leaf], _store(root), NOW)
    assert _refused(result) == ("chain.expired",)
    assert "CN=signer" in result.problems[0].message
    _trusted(validate_chain([leaf], _store(root), NOW - 35 * DAY), root)


def test_default_time_is_now() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW - 60 * DAY)
    _, leaf = issue_leaf(
        root_key, root, "signer", Algorithm.ES256, not_before=NOW - 40 * DAY, days=10
    )
    assert _refused(validate_chain([leaf], _store(root))) == ("chain.expired",)


def test_not_yet_valid_leaf() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW)
    _, leaf = issue_leaf(root_key, root, "signer", Algorithm.ES256, not_before=NOW + DAY)
    assert _refused(validate_chain([leaf], _store(root), NOW)) == ("chain.not-yet-valid",)
    _trusted(validate_chain([leaf], _store(root), NOW + 2 * DAY), root)


def test_expired_anchor() -> None:
    # The leaf is still within its dates; the root it hangs from is not.
    old_root = _cert("old root", None, not_before=NOW - 30 * DAY, days=20)
    leaf = _leaf(old_root, not_before=NOW - 25 * DAY)
    result = _check([leaf.cert], old_root.cert)
    assert _refused(result) == ("chain.expired",)
    assert "CN=old root" in result.problems[0].message


def test_before_everything_was_valid() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW)
    _, leaf = issue_leaf(root_key, root, "signer", Algorithm.ES256)
    # A day before the root's and the leaf's notBefore: both are reported, leaf first.
    result = validate_chain([leaf], _store(root), NOW - DAY)
    assert _refused(result) == ("chain.not-yet-valid", "chain.not-yet-valid")
    assert "CN=signer" in result.problems[0].message
    assert "CN=root" in result.problems[1].message


def test_expired_intermediate(root: Node) -> None:
    mid = _cert("intermediate", root, not_before=NOW - 10 * DAY, days=5)
    leaf = _leaf(mid, not_before=NOW - 9 * DAY)
    result = _check([leaf.cert, mid.cert], root.cert, at=NOW)
    assert _refused(result) == ("chain.expired",)
    assert "CN=intermediate" in result.problems[0].message


def test_naive_time_is_utc() -> None:
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    root_key, root = make_root("root", Algorithm.ES256, now=start - DAY)
    _, leaf = issue_leaf(root_key, root, "signer", Algorithm.ES256, not_before=start)
    minute = dt.timedelta(minutes=1)
    naive = start.replace(tzinfo=None)
    assert _refused(validate_chain([leaf], _store(root), naive - minute)) == (
        "chain.not-yet-valid",
    )
    _trusted(validate_chain([leaf], _store(root), naive + minute), root)
    # The same instant written in another zone gives the same answer.
    plus5 = dt.timezone(dt.timedelta(hours=5))
    early = (start - minute).astimezone(plus5)
    assert _refused(validate_chain([leaf], _store(root), early)) == ("chain.not-yet-valid",)


def test_devpki_root_allows_no_intermediate() -> None:
    root_key, root = make_root("root", Algorithm.ES256, now=NOW)  # pathLen 0
    mid = _cert("intermediate", _devpki((root_key, root)))
    leaf = _leaf(mid)
    result = validate_chain([leaf.cert, mid.cert], _store(root))
    assert _refused(result) == ("chain.path-length",)
    assert "allows 0" in result.problems[0].message


def test_path_length_of_an_intermediate(root: Node) -> None:
    upper = _cert("upper", root, path_length=0)
    lower = _cert("lower", upper)
    leaf = _leaf(lower)
    result = _check([leaf.cert, lower.cert, upper.cert], root.cert)
    assert _refused(result) == ("chain.path-length",)
    assert "CN=upper" in result.problems[0].message


def test_intermediate_that_is_not_a_ca(root: Node) -> None:
    not_ca = _cert("not a ca", root, ca=False, usage=_usage(sign=True, cert_sign=True))
    leaf = _leaf(not_ca)
    assert _refused(_check([leaf.cert, not_ca.cert], root.cert)) == ("chain.not-a-ca",)


def test_intermediate_without_basic_constraints(root: Node) -> None:
    bare = _cert("bare", root, ca=None, usage=_usage(sign=False, cert_sign=True))
    leaf = _leaf(bare)
    assert _refused(_check([leaf.cert, bare.cert], root.cert)) == ("chain.not-a-ca",)


def test_intermediate_without_key_cert_sign(root: Node) -> None:
    no_sign = _cert("no cert sign", root, usage=_usage(sign=True, cert_sign=False))
    no_usage = _cert("no usage", root, no_usage=True)
    for mid in (no_sign, no_usage):
        leaf = _leaf(mid)
        assert _refused(_check([leaf.cert, mid.cert], root.cert)) == ("chain.not-a-ca",)


def test_unprocessed_critical_extension(root: Node) -> None:
    constrained = _cert(
        "constrained",
        root,
        extra=x509.NameConstraints(
            permitted_subtrees=[x509.DirectoryName(_name("elsewhere"))], excluded_subtrees=None
        ),
    )
    leaf = _leaf(constrained)
    result = _check([leaf.cert, constrained.cert], root.cert)
    assert _refused(result) == ("chain.unsupported-extension",)
    assert "NameConstraints" in result.problems[0].message

    odd = _leaf(
        root, extra=x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"")
    )
    result = _check([odd.cert], root.cert)
    assert _refused(result) == ("chain.unsupported-extension",)
    assert "1.3.6.1.4.1.99999.1" in result.problems[0].message


def test_problems_of_one_path_are_all_reported(root: Node) -> None:
    mid = _cert(
        "tired",
        root,
        ca=False,
        usage=_usage(sign=True, cert_sign=False),
        not_before=NOW - 10 * DAY,
        days=5,
    )
    leaf = _leaf(mid, not_before=NOW - 9 * DAY, days=3)
    result = _check([leaf.cert, mid.cert], root.cert)
    assert _refused(result) == (
        "chain.expired",
        "chain.expired",
        "chain.not-a-ca",
        "chain.not-a-ca",
    )


# --- order and junk ------------------------------------------------------------------------


def test_wrong_order_and_junk_still_validate(root: Node) -> None:
    upper = _cert("upper", root)
    lower = _cert("lower", upper)
    leaf = _leaf(lower)
    stranger = _cert("stranger root", None)
    stranger_leaf = _leaf(stranger)
    chain = [leaf.cert, stranger.cert, root.cert, upper.cert, stranger_leaf.cert, lower.cert]
    _trusted(_check(chain, root.cert), root.cert)


def test_impostor_intermediate_before_the_real_one(root: Node) -> None:
    # A junk certificate with the intermediate's name but another key comes first; the search
    # must get past it to the real one.
    mid = _cert("intermediate", root)
    impostor = _cert("intermediate", root)
    leaf = _leaf(mid)
    _trusted(_check([leaf.cert, impostor.cert, mid.cert], root.cert), root.cert)


def test_leaf_is_always_the_first_certificate(root: Node) -> None:
    # x5c[0] holds the key that signed the statement, so a reversed chain is judged as if the
    # intermediate had signed: a path exists, but that certificate is no signing leaf.
    mid = _cert("intermediate", root)
    leaf = _leaf(mid)
    result = _check([mid.cert, leaf.cert], root.cert)
    assert _refused(result) == ("chain.profile", "chain.profile", "chain.profile")
    assert result.subject == "CN=intermediate"


# --- the leaf's profile --------------------------------------------------------------------


def test_ca_leaf_breaks_the_profile(root: Node) -> None:
    ca_leaf = _cert("ca leaf", root, eku=True, usage=_usage(sign=True, cert_sign=True))
    result = _check([ca_leaf.cert], root.cert)
    assert _refused(result) == ("chain.profile",)
    assert "CA certificate" in result.problems[0].message


def test_leaf_without_digital_signature(root: Node) -> None:
    leaf = _leaf(root, usage=_usage(sign=False, cert_sign=False))
    result = _check([leaf.cert], root.cert)
    assert _refused(result) == ("chain.profile",)
    assert "digitalSignature" in result.problems[0].message


def test_profile_and_path_problems_together() -> None:
    _, root = make_root("root", Algorithm.ES256, now=NOW)
    other = _devpki(make_root("other", Algorithm.ES256))
    stray = _cert("stray", other, ca=False, eku=False)
    result = validate_chain([stray.cert], _store(root))
    assert _refused(result) == ("chain.untrusted", "chain.profile")


def test_a_root_as_its_own_leaf_is_not_trusted() -> None:
    _, root = make_root("root", Algorithm.ES256, now=NOW)
    result = validate_chain([root], _store(root))
    # CA flag, no digitalSignature, no EKU, no AuthorityKeyIdentifier.
    assert _refused(result) == ("chain.profile",) * 4
    assert not result.trusted
    assert result.anchor is None


def test_pinned_self_signed_signer_that_meets_the_profile() -> None:
    key = _ec()
    pinned = _cert("pinned signer", None, key=key, ca=False, eku=True)
    _trusted(_check([pinned.cert], pinned.cert), pinned.cert)


# --- x5c -----------------------------------------------------------------------------------


def test_x5c_round_trip(root: Node) -> None:
    mid = _cert("intermediate", root)
    leaf = _leaf(mid)
    chain = [leaf.cert, mid.cert]
    x5c = x5c_from_chain(chain)
    assert x5c[0] == _b64(_der(leaf.cert))
    assert chain_from_x5c(x5c) == chain
    _trusted(_check(chain_from_x5c(x5c), root.cert), root.cert)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


BAD_X5C: list[tuple[str, Callable[[x509.Certificate], object], str]] = [
    ("empty", lambda c: [], "x5c is empty"),
    ("too-many", lambda c: [_b64(_der(c))] * (MAX_X5C + 1), f"at most {MAX_X5C} are accepted"),
    ("a-string", lambda c: _b64(_der(c)), "must be a list"),
    ("a-dict", lambda c: {"x5c": _b64(_der(c))}, "must be a list"),
    ("not-a-string", lambda c: [42], "x5c[0] is a int, not a base64 string"),
    ("not-base64", lambda c: ["!!!!"], "x5c[0] is not standard padded base64"),
    ("unpadded", lambda c: [_b64(b"hello").rstrip("=")], "x5c[0] is not standard"),
    ("line-break", lambda c: [_b64(_der(c))[:64] + "\n" + _b64(_der(c))[64:]], "not standard"),
    ("not-der", lambda c: [_b64(_der(c)), _b64(b"hello")], "x5c[1] is not a DER-encoded"),
    ("trailing-bytes", lambda c: [_b64(_der(c) + b"\0")], "x5c[0] is not a DER-encoded"),
    ("huge", lambda c: ["A" * 70000], "x5c[0] is longer than"),
]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD_X5C], ids=[b[0] for b in BAD_X5C])
def test_chain_from_x5c_refuses_bad_input(
    make: Callable[[x509.Certificate], object], message: str, root: Node
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        chain_from_x5c(make(root.cert))  # type: ignore[arg-type]


def test_chain_from_x5c_refuses_base64url() -> None:
    # Most DER certificates have a '+' or '/' in their base64; find one that does.
    text = next(
        t for t in (_b64(_der(_cert("url", None).cert)) for _ in range(50)) if "+" in t or "/" in t
    )
    with pytest.raises(ValueError, match="not base64url"):
        chain_from_x5c([text.replace("+", "-").replace("/", "_")])


def test_chain_from_x5c_accepts_the_maximum(root: Node) -> None:
    assert len(chain_from_x5c(x5c_from_chain([root.cert]) * MAX_X5C)) == MAX_X5C


def test_to_dict(root: Node) -> None:
    leaf = _leaf(root)
    assert _check([leaf.cert], root.cert).to_dict() == {
        "trusted": True,
        "problems": [],
        "subject": "CN=signer",
        "anchor": "CN=root",
    }
    untrusted = validate_chain([leaf.cert], TrustStore(Role.PROVIDER)).to_dict()
    assert untrusted["trusted"] is False
    assert untrusted["anchor"] is None
    assert isinstance(untrusted["problems"], list)
    assert untrusted["problems"][0].startswith("chain.no-anchors: ")


@pytest.mark.parametrize("where", ["subject", "issuer"])
def test_x5c_certificate_with_an_undecodable_name_is_refused_at_once(where: str) -> None:
    """Found by the atheris campaign: cryptography decodes names lazily, so a name holding a
    UTF8String that is not UTF-8 used to pass ``chain_from_x5c`` and crash the path search."""
    root = _cert("name-bomb root", None)
    leaf = _cert("name-bomb leaf", root, ca=False, eku=True)
    der = bytearray(leaf.cert.public_bytes(serialization.Encoding.DER))
    marker = b"name-bomb leaf" if where == "subject" else b"name-bomb root"
    der[der.index(marker) + 1] = 0xFF  # no longer valid UTF-8; the DER structure is intact
    with pytest.raises(ValueError, match=r"x5c\[0\] is not a DER-encoded X.509 certificate"):
        chain_from_x5c([base64.b64encode(bytes(der)).decode()])


def test_x5c_certificate_with_an_unknown_version_is_refused() -> None:
    """Found by the atheris campaign: cryptography raises InvalidVersion, not ValueError, for a
    certificate whose version field is not v1-v3, and it escaped chain_from_x5c."""
    root = _cert("version root", None)
    leaf = _cert("version leaf", root, ca=False, eku=True)
    der = bytearray(leaf.cert.public_bytes(serialization.Encoding.DER))
    # The explicit [0] version field: A0 03 02 01 02 (v3); make it 0x22.
    at = der.index(b"\xa0\x03\x02\x01\x02") + 4
    der[at] = 0x22
    with pytest.raises(ValueError, match=r"x5c\[0\] is not a DER-encoded X.509 certificate"):
        chain_from_x5c([base64.b64encode(bytes(der)).decode()])
