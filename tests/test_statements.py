"""Signed statements (provsdk.jws): compact JWS with the signer's chain in ``x5c``.

Every key is made here or by the session's development PKI. One root (P-256) certifies a leaf per
algorithm, so RSA costs one key. Tokens are taken apart and rebuilt by hand to show exactly
which byte changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from provsdk.credentials import Algorithm, Role, TrustConfig, TrustStore, load_signer
from provsdk.credentials.chain import x5c_from_chain
from provsdk.credentials.devpki import issue_leaf, make_root
from provsdk.credentials.signers import CallbackSigner, KeySigner
from provsdk.disclosure import DISCLOSURE_STATEMENT, check_disclosure
from provsdk.errors import InputError
from provsdk.grants import GRANT_STATEMENT
from provsdk.home import ProvsdkHome
from provsdk.jws import canonical_json, read_statement, sign_statement, verify_statement

ALGORITHMS = (Algorithm.ES256, Algorithm.ES384, Algorithm.ED25519, Algorithm.PS256)
TYPE = "provsdk-test-statement"
PAYLOAD = {"licensee": "Game Studio", "territory": "DE", "until": "2030-12-31", "n": 3}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segments(token: str) -> tuple[dict, bytes, str]:
    header, payload, signature = token.split(".")
    return json.loads(unb64url(header)), unb64url(payload), signature


def with_payload(token: str, payload: bytes) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64url(payload)}.{signature}"


def with_header(token: str, header: dict) -> str:
    _, payload, signature = token.split(".")
    return f"{b64url(json.dumps(header).encode())}.{payload}.{signature}"


@dataclass(frozen=True)
class Pki:
    root_key: PrivateKeyTypes
    root: x509.Certificate
    store: TrustStore
    signers: dict[Algorithm, KeySigner]


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_key, root = make_root("statements test root", Algorithm.ES256)
    signers = {}
    for alg in ALGORITHMS:
        key, leaf = issue_leaf(root_key, root, f"statements {alg.value} signer", alg)
        signers[alg] = KeySigner(algorithm=alg, chain=(leaf,), source=alg.value, key=key)
    return Pki(root_key, root, TrustStore(Role.LICENSOR, (root,)), signers)


@pytest.fixture(scope="module")
def tokens(pki: Pki) -> dict[Algorithm, str]:
    return {alg: sign_statement(PAYLOAD, s, TYPE) for alg, s in pki.signers.items()}


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS, ids=lambda a: a.value)
def test_round_trip_each_algorithm(pki: Pki, tokens: dict[Algorithm, str], alg: Algorithm) -> None:
    token = tokens[alg]
    assert token.count(".") == 2 and "=" not in token  # compact, unpadded base64url
    check = verify_statement(token, pki.store, expected_type=TYPE)
    assert check.signature_valid is True
    assert check.chain.trusted is True
    assert check.trusted is True
    assert check.problems() == ()
    assert check.statement.payload == PAYLOAD
    assert check.statement.statement_type == TYPE
    header, payload, _ = segments(token)
    assert header["alg"] == alg.value
    assert header["typ"] == TYPE
    assert header["x5c"] == x5c_from_chain(pki.signers[alg].chain)
    assert payload == canonical_json(PAYLOAD)  # the signed bytes are the canonical form
    assert check.signer == pki.signers[alg].leaf.subject.rfc4514_string()


def test_an_ed25519_signature_is_not_accepted_under_another_name(
    pki: Pki, tokens: dict[Algorithm, str]
) -> None:
    header, _, _ = segments(tokens[Algorithm.ED25519])
    for other in ("EdDSA", "ES256", "PS256", "HS256", "none"):
        forged = with_header(tokens[Algorithm.ED25519], {**header, "alg": other})
        assert verify_statement(forged, pki.store).signature_valid is False, other


# --- changed after signing ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS, ids=lambda a: a.value)
def test_payload_byte_changed_after_signing(
    pki: Pki, tokens: dict[Algorithm, str], alg: Algorithm
) -> None:
    _, payload, _ = segments(tokens[alg])
    changed = payload.replace(b'"DE"', b'"US"')
    assert changed != payload and len(changed) == len(payload)
    forged = with_payload(tokens[alg], changed)
    check = verify_statement(forged, pki.store, expected_type=TYPE)
    assert check.statement.payload["territory"] == "US"  # what the forger wanted read...
    assert check.signature_valid is False  # ...does not verify
    assert check.trusted is False
    assert check.chain.trusted is True  # the chain is untouched: the signature is the reason
    assert [p.code for p in check.problems()] == ["statement.bad-signature"]


def test_one_flipped_signature_character_fails(pki: Pki, tokens: dict[Algorithm, str]) -> None:
    header, payload, signature = tokens[Algorithm.ES256].split(".")
    flipped = ("B" if signature[10] == "A" else "A").join((signature[:10], signature[11:]))
    check = verify_statement(f"{header}.{payload}.{flipped}", pki.store)
    assert check.signature_valid is False and check.trusted is False


def test_x5c_replaced_by_another_trusted_chain_fails(
    pki: Pki, tokens: dict[Algorithm, str]
) -> None:
    # Another leaf under the same trusted root: its chain is fine, but it did not sign this.
    header, _, _ = segments(tokens[Algorithm.ES256])
    swapped = {**header, "x5c": x5c_from_chain(pki.signers[Algorithm.ES384].chain)}
    swapped["alg"] = "ES384"
    check = verify_statement(with_header(tokens[Algorithm.ES256], swapped), pki.store)
    assert check.chain.trusted is True
    assert check.signature_valid is False
    assert check.trusted is False


def test_a_signature_by_another_key_under_a_trusted_chain_fails(pki: Pki) -> None:
    # A forger signs with their own key and presents someone else's trusted certificate.
    victim = pki.signers[Algorithm.ES256]
    forger_key = ec.generate_private_key(ec.SECP256R1())
    forger = CallbackSigner(
        algorithm=Algorithm.ES256,
        chain=victim.chain,
        callback=lambda data: forger_key.sign(data, ec.ECDSA(hashes.SHA256())),
    )
    token = sign_statement(PAYLOAD, forger, TYPE)
    check = verify_statement(token, pki.store, expected_type=TYPE)
    assert check.chain.trusted is True
    assert check.signature_valid is False
    assert check.trusted is False


def test_someone_elses_pki_with_the_same_names_is_untrusted(pki: Pki) -> None:
    # A second PKI whose root and leaf carry exactly the names of ours.
    other_root_key, other_root = make_root("statements test root", Algorithm.ES256)
    key, leaf = issue_leaf(other_root_key, other_root, "statements ES256 signer", Algorithm.ES256)
    token = sign_statement(PAYLOAD, KeySigner(Algorithm.ES256, (leaf,), key=key), TYPE)
    check = verify_statement(token, pki.store)
    assert check.signature_valid is True  # it verifies with its own leaf...
    assert check.trusted is False  # ...which leads to no anchor of ours
    assert check.chain.codes[0] == "chain.untrusted"
    assert "chain.bad-signature" in check.chain.codes


def test_leaf_expired_at_the_check_date(pki: Pki, tokens: dict[Algorithm, str]) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
    check = verify_statement(tokens[Algorithm.ES256], pki.store, at=later)
    assert check.signature_valid is True
    assert check.trusted is False
    assert "chain.expired" in check.chain.codes


# --- roles -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def role_signers(dev_home: ProvsdkHome) -> dict[Role, KeySigner]:
    return {role: load_signer(role, home=dev_home, use_env=False) for role in Role.signing()}


@pytest.mark.parametrize(
    ("signed_as", "checked_as"),
    [(a, b) for a in Role.signing() for b in Role.signing() if a is not b],
    ids=lambda r: r.value,
)
def test_a_role_store_does_not_trust_another_roles_key(
    role_signers: dict[Role, KeySigner], trust: TrustConfig, signed_as: Role, checked_as: Role
) -> None:
    token = sign_statement(PAYLOAD, role_signers[signed_as], TYPE)
    wrong = verify_statement(token, trust.for_role(checked_as))
    assert wrong.signature_valid is True
    assert wrong.trusted is False
    assert wrong.chain.codes[0] == "chain.untrusted"
    assert f"{checked_as.value} trust store" in wrong.chain.problems[0].message
    assert verify_statement(token, trust.for_role(signed_as)).trusted is True


def test_empty_store_trusts_nothing(tokens: dict[Algorithm, str]) -> None:
    check = verify_statement(tokens[Algorithm.ES256], TrustStore(Role.LICENSOR))
    assert check.signature_valid is True
    assert check.trusted is False
    assert check.chain.codes == ("chain.no-anchors",)


# --- statement types ---------------------------------------------------------------------------


def test_expected_type_mismatch_is_an_input_error(pki: Pki, tokens: dict[Algorithm, str]) -> None:
    with pytest.raises(InputError) as caught:
        verify_statement(tokens[Algorithm.ES256], pki.store, expected_type=GRANT_STATEMENT)
    message = str(caught.value)
    assert "\n" not in message
    assert GRANT_STATEMENT in message and TYPE in message


def test_a_grant_is_not_read_as_a_disclosure(pki: Pki) -> None:
    grant_token = sign_statement(PAYLOAD, pki.signers[Algorithm.ES256], GRANT_STATEMENT)
    with pytest.raises(InputError, match="not a training-data disclosure"):
        check_disclosure(grant_token, pki.store)
    with pytest.raises(InputError, match=DISCLOSURE_STATEMENT):
        verify_statement(grant_token, pki.store, expected_type=DISCLOSURE_STATEMENT)


# --- hostile input -----------------------------------------------------------------------------


def _hostile(token: str) -> dict[str, str]:
    header_text, payload, signature = token.split(".")
    header = json.loads(unb64url(header_text))

    def hdr(**changes: object) -> str:
        fields = {k: v for k, v in {**header, **changes}.items() if v is not None}
        return f"{b64url(json.dumps(fields).encode())}.{payload}.{signature}"

    return {
        "empty": "",
        "whitespace": " \n\t ",
        "two-parts": f"{header_text}.{payload}",
        "four-parts": f"{token}.{signature}",
        "only-dots": "..",
        "garbage": "this is not a JWS at all!",
        "non-ascii": "é.ü.ß",
        "nul-bytes": "\x00.\x00.\x00",
        "huge": "A" * (6 * 1024 * 1024),
        "huge-payload": f"{header_text}.{'A' * (6 * 1024 * 1024)}.{signature}",
        "header-not-json": f"{b64url(b'{not json')}.{payload}.{signature}",
        "header-a-list": f"{b64url(b'[1, 2]')}.{payload}.{signature}",
        "payload-not-json": f"{header_text}.{b64url(b'not json')}.{signature}",
        "payload-a-list": f"{header_text}.{b64url(b'[1, 2]')}.{signature}",
        "payload-not-utf8": f"{header_text}.{b64url(bytes([0xFF, 0xFE, 0x00]))}.{signature}",
        "no-alg": hdr(alg=None),
        "no-x5c": hdr(x5c=None),
        "x5c-a-string": hdr(x5c=header["x5c"][0]),
        "x5c-empty": hdr(x5c=[]),
        "x5c-numbers": hdr(x5c=[1, 2]),
        "x5c-base64url": hdr(x5c=[header["x5c"][0].replace("+", "-").replace("/", "_") + "-_"]),
        "x5c-not-a-certificate": hdr(x5c=[base64.b64encode(b"hello world").decode()]),
        "x5c-too-many": hdr(x5c=header["x5c"] * 11),
        "b64-false": hdr(b64=False, crit=["b64"]),
    }


HOSTILE_NAMES = [
    "empty",
    "whitespace",
    "two-parts",
    "four-parts",
    "only-dots",
    "garbage",
    "non-ascii",
    "nul-bytes",
    "huge",
    "huge-payload",
    "header-not-json",
    "header-a-list",
    "payload-not-json",
    "payload-a-list",
    "payload-not-utf8",
    "no-alg",
    "no-x5c",
    "x5c-a-string",
    "x5c-empty",
    "x5c-numbers",
    "x5c-base64url",
    "x5c-not-a-certificate",
    "x5c-too-many",
    "b64-false",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_unreadable_tokens_are_one_line_input_errors(
    pki: Pki, tokens: dict[Algorithm, str], name: str
) -> None:
    token = _hostile(tokens[Algorithm.ES256])[name]
    with pytest.raises(InputError) as caught:
        verify_statement(token, pki.store, expected_type=TYPE, source="statement.jws")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith("statement.jws: ")
    assert len(message) < 1000  # never an echo of a huge input
    if "x5c" not in name:  # reading without verifying does not look at the chain
        with pytest.raises(InputError):
            read_statement(token)


@pytest.mark.parametrize(
    "alg",
    ["none", "HS256", "RS256", "EdDSA", "ES512", 5, None],
)
def test_unaccepted_algorithms_never_verify(
    pki: Pki, tokens: dict[Algorithm, str], alg: object
) -> None:
    token = tokens[Algorithm.ES256]
    payload = token.split(".")[1]
    fields = {**segments(token)[0], "alg": alg}
    if alg == "none":
        forged = f"{b64url(json.dumps(fields).encode())}.{payload}."
    elif alg == "HS256":
        # The classic confusion: an HMAC keyed with the signer's public certificate.
        secret = base64.b64decode(fields["x5c"][0])
        head = b64url(json.dumps(fields).encode())
        mac = hmac.new(secret, f"{head}.{payload}".encode(), "sha256").digest()
        forged = f"{head}.{payload}.{b64url(mac)}"
    else:
        forged = with_header(token, fields)
    try:
        check = verify_statement(forged, pki.store)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert check.signature_valid is False
    assert check.trusted is False


@pytest.mark.parametrize("signature", ["", "AA", "A" * 86, "A" * 2000, "!!!!"])
def test_malformed_signatures_are_reported_not_raised(
    pki: Pki, tokens: dict[Algorithm, str], signature: str
) -> None:
    header, payload, _ = tokens[Algorithm.ES256].split(".")
    check = verify_statement(f"{header}.{payload}.{signature}", pki.store)
    assert check.signature_valid is False
    assert "statement.bad-signature" in [p.code for p in check.problems()]


# --- canonical JSON ----------------------------------------------------------------------------


def test_canonical_json_is_stable() -> None:
    a = {"b": [1, {"z": 1, "a": None}], "a": "Café ♪", "c": {"y": True, "x": 1.5}}
    b = {"c": {"x": 1.5, "y": True}, "a": "Café ♪", "b": [1, {"a": None, "z": 1}]}
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) == (
        '{"a":"Café ♪","b":[1,{"a":null,"z":1}],"c":{"x":1.5,"y":true}}'.encode()
    )
    assert canonical_json(a) == canonical_json(json.loads(canonical_json(a)))
    assert b" " not in canonical_json({"k": [1, 2], "l": {"m": 0}})


def test_the_same_payload_in_any_key_order_signs_the_same_bytes(pki: Pki) -> None:
    signer = pki.signers[Algorithm.ED25519]  # deterministic signatures: whole tokens compare
    one = sign_statement({"a": 1, "b": {"d": 2, "c": 3}}, signer, TYPE)
    two = sign_statement({"b": {"c": 3, "d": 2}, "a": 1}, signer, TYPE)
    assert one == two


# --- a key held outside the process ------------------------------------------------------------


@pytest.mark.parametrize("alg", [Algorithm.ES256, Algorithm.ES384], ids=lambda a: a.value)
def test_callback_signer_returning_der_ecdsa_signs_statements_that_verify(
    pki: Pki, alg: Algorithm
) -> None:
    # The "KMS": the key lives in this closure; the signer only ever sees signatures (DER).
    kms_key, leaf = issue_leaf(pki.root_key, pki.root, f"kms {alg.value}", alg)
    digest = hashes.SHA256() if alg is Algorithm.ES256 else hashes.SHA384()
    asked: list[bytes] = []

    def kms_sign(data: bytes) -> bytes:
        asked.append(data)
        der = kms_key.sign(data, ec.ECDSA(digest))  # type: ignore[call-arg,union-attr]
        assert der[:1] == b"\x30"
        return der

    signer = CallbackSigner(algorithm=alg, chain=(leaf,), source="kms", callback=kms_sign)
    token = sign_statement(PAYLOAD, signer, TYPE)
    check = verify_statement(token, pki.store, expected_type=TYPE)
    assert check.trusted is True, check.problems()
    assert check.statement.payload == PAYLOAD
    header, payload, _ = token.split(".")
    assert asked == [f"{header}.{payload}".encode()]  # exactly the JWS signing input, once


# --- parsed once, handed on --------------------------------------------------------------------


def test_a_statement_read_once_checks_as_its_text_does(
    pki: Pki, tokens: dict[Algorithm, str]
) -> None:
    from provsdk.jws import check_statement

    token = tokens[Algorithm.ES256]
    statement = read_statement(f"  {token}\n")
    assert statement.text == token  # what a manifest embeds: the token as given, trimmed
    at = dt.datetime.now(dt.UTC)
    assert check_statement(statement, pki.store, at=at) == verify_statement(token, pki.store, at=at)


def test_a_grant_read_once_is_judged_without_reading_it_again(pki: Pki) -> None:
    from provsdk.grants import check_grant, create_grant, read_grant, sign_grant

    grant = create_grant(
        licensor="Harbor Music", licensee="Studio", purposes=["promo"], scope_model="m 1"
    )
    token = sign_grant(grant, pki.signers[Algorithm.ES256])
    signed = read_grant(token)
    assert signed.token == token and signed.grant == grant
    at = dt.datetime.now(dt.UTC)
    facts = {"at": at, "essence": None, "model": "m 1", "producer": {"Studio"}}
    once = check_grant(signed, pki.store, **facts)
    assert once == check_grant(token, pki.store, **facts)
    assert once.check.trusted and once.covers and once.problems() == ()
    with pytest.raises(InputError, match="not a rights grant"):
        read_grant(sign_statement(PAYLOAD, pki.signers[Algorithm.ES256], TYPE))
