"""Trusted timestamps (RFC 3161), against a real time-stamp authority on 127.0.0.1.

The authority (``tsa_responder``) signs genuine tokens; c2pa asks it over HTTP when a manifest
is signed with a ``tsa_url``, and provsdk asks it for statements. Nothing here is mocked.

The must-show case is ``test_expired_certificate_*``: a producer certificate that expires a
few seconds after signing. c2pa judges manifests at the real time and has no check-date
setting, so the test waits those seconds; statements are judged at ``--at``, the check date.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from http_servers import Reply, ScriptedApp, serve_asgi, unused_port
from tsa_responder import TimestampAuthority, TsaCredentials, serve_tsa

from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.credentials.algorithms import Algorithm
from provsdk.credentials.devpki import issue_leaf
from provsdk.credentials.signers import KeySigner
from provsdk.credentials.trust import TrustStore
from provsdk.errors import ConfigurationError, InputError, TimestampError
from provsdk.home import ProvsdkHome
from provsdk.jws import (
    read_statement,
    sign_statement,
    timestamp_statement,
    verify_statement,
)
from provsdk.manifest import ManifestSpec
from provsdk.models.report import C2paState
from provsdk.sign import sign_file
from provsdk.timestamps import check_timestamp, request_timestamp
from provsdk.timestamps.request import REPLY_TYPE
from provsdk.verify import verify_file

NOW = dt.datetime.now(dt.UTC)
FAR_FUTURE = NOW + dt.timedelta(days=20 * 365)  # past every dev certificate, roots included
# How long after a certificate's notAfter the expiry waits end: validity times have one-second
# resolution, so one second past it is expired however c2pa rounds the clock, plus slack.
PAST_EXPIRY = 1.1


@pytest.fixture(scope="module")
def tsa() -> Iterator[tuple[str, TimestampAuthority]]:
    with serve_tsa() as served:
        yield served


@pytest.fixture(scope="module")
def tsa_store(tsa: tuple[str, TimestampAuthority]) -> TrustStore:
    return TrustStore(Role.TIMESTAMP, (tsa[1].credentials.root,))


@pytest.fixture(scope="module")
def tsa_pem(tsa: tuple[str, TimestampAuthority], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module authority's root as a PEM file, for --tsa-anchors."""
    path = tmp_path_factory.mktemp("tsa-anchors") / "tsa.pem"
    path.write_bytes(tsa[1].credentials.root_pem())
    return path


def _store(*roots: x509.Certificate) -> TrustStore:
    return TrustStore(Role.TIMESTAMP, roots)


# --- the token itself -----------------------------------------------------------------------


def test_round_trip_is_trusted_and_carries_the_authority_clock(
    tsa: tuple[str, TimestampAuthority], tsa_store: TrustStore
) -> None:
    url, authority = tsa
    when = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    authority.issue_at(when)
    try:
        token = request_timestamp(url, b"the bytes")
    finally:
        authority.clock = lambda: dt.datetime.now(dt.UTC)
    check = check_timestamp(token, b"the bytes", tsa_store)
    assert check.trusted, check.problems
    assert check.time == when
    assert check.authority is not None and "provsdk test TSA" in check.authority


def test_token_for_other_bytes_is_a_mismatch(
    tsa: tuple[str, TimestampAuthority], tsa_store: TrustStore
) -> None:
    token = request_timestamp(tsa[0], b"the bytes")
    check = check_timestamp(token, b"other bytes", tsa_store)
    assert not check.trusted
    assert check.problems[0].startswith("timestamp.mismatch")


def test_token_from_an_authority_nobody_trusts_is_untrusted(
    tsa: tuple[str, TimestampAuthority],
) -> None:
    token = request_timestamp(tsa[0], b"the bytes")
    other_root = TsaCredentials.make().root
    check = check_timestamp(token, b"the bytes", _store(other_root))
    assert not check.trusted
    assert check.problems[0].startswith("timestamp.untrusted")
    assert "\n" not in check.problems[0]
    empty = check_timestamp(token, b"the bytes", _store())
    assert empty.problems[0].startswith("timestamp.no-anchors")


def test_authority_without_time_stamping_usage_is_untrusted() -> None:
    """A certificate of the right root but made for e-mail cannot vouch for time."""
    credentials = TsaCredentials.make(usage=(ExtendedKeyUsageOID.EMAIL_PROTECTION,))
    with serve_tsa(TimestampAuthority(credentials)) as (url, _):
        token = request_timestamp(url, b"the bytes")
    check = check_timestamp(token, b"the bytes", _store(credentials.root))
    assert not check.trusted
    assert check.problems[0].startswith("timestamp.untrusted")


def test_forged_token_signature_is_untrusted(
    tsa: tuple[str, TimestampAuthority], tsa_store: TrustStore
) -> None:
    token = bytearray(request_timestamp(tsa[0], b"the bytes"))
    # The last bytes of the DER are the end of the CMS signature value.
    token[-3] ^= 0x01
    check = check_timestamp(bytes(token), b"the bytes", tsa_store)
    assert not check.trusted
    assert check.problems[0].split(":")[0] in {"timestamp.untrusted", "timestamp.malformed"}


@pytest.mark.parametrize(
    "token",
    [b"", b"\x30\x03\x02\x01", b"not der at all", b"\x30" + b"\x84\xff\xff\xff\xff"],
    ids=["empty", "truncated", "text", "length-bomb"],
)
def test_malformed_tokens_are_reported_not_raised(token: bytes, tsa_store: TrustStore) -> None:
    check = check_timestamp(token, b"the bytes", tsa_store)
    assert not check.trusted
    assert check.problems[0].startswith("timestamp.malformed")


def test_oversized_token_is_refused_before_parsing(tsa_store: TrustStore) -> None:
    check = check_timestamp(b"\x30" * (65 * 1024), b"x", tsa_store)
    assert check.problems[0].startswith("timestamp.malformed: larger than")


# --- asking an authority: every failure is one TimestampError --------------------------------


def test_refusing_authority_is_a_timestamp_error() -> None:
    refusing = serve_tsa(TimestampAuthority(status=2))
    with refusing as (url, _), pytest.raises(TimestampError, match="refused"):
        request_timestamp(url, b"x")


def test_unreachable_authority_is_a_timestamp_error_after_retries() -> None:
    with unused_port() as port, pytest.raises(TimestampError, match="after 3 attempts"):
        request_timestamp(f"http://127.0.0.1:{port}/tsa", b"x")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(404, body=b"no"), "HTTP 404"),
        (Reply(200, body=b"<html>", headers={"Content-Type": "text/html"}), "not application"),
        (Reply(200, body=b"\x30\x00", headers={"Content-Type": REPLY_TYPE}), "unreadable"),
        (
            Reply(200, body=b"\x30" * (70 * 1024), headers={"Content-Type": REPLY_TYPE}),
            "larger than",
        ),
    ],
    ids=["not-found", "html", "garbage", "oversized"],
)
def test_unusable_answers_are_timestamp_errors(reply: Reply, message: str) -> None:
    with serve_asgi(ScriptedApp(reply)) as base, pytest.raises(TimestampError, match=message):
        request_timestamp(f"{base}/tsa", b"x")


def test_busy_authority_is_asked_again(tsa: tuple[str, TimestampAuthority]) -> None:
    """A 503 then a real token (replayed from the real authority): the second try succeeds."""
    good = request_timestamp(tsa[0], b"x")
    app = ScriptedApp(Reply(503), Reply(200, body=good, headers={"Content-Type": REPLY_TYPE}))
    # The replayed token answers an earlier request (another nonce), which is refused too:
    # proof that the second answer was read and checked, not just accepted.
    replaying = serve_asgi(app)
    with replaying as base, pytest.raises(TimestampError, match="answers another request"):
        request_timestamp(f"{base}/tsa", b"x")
    assert len(app.seen) == 2


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://tsa.example", "http://", "http://[::"]
)
def test_unusable_tsa_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError, match="must be http"):
        request_timestamp(url, b"x")


@pytest.mark.slow
@pytest.mark.parametrize("url", ["ftp://tsa.example", "http://"])
def test_an_unusable_tsa_url_stops_signing_before_any_work(
    url: str, dev_home: ProvsdkHome, vectors: Path, tmp_path: Path
) -> None:
    out = tmp_path / "never.wav"
    run = run_cli(
        "sign", vectors / "sample1.wav", "-o", out, "--source-type", "algorithmicMedia",
        "--generator", "tests", "--tsa-url", url, home=dev_home.root,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == f"provsdk: time-stamp authority URL must be http(s): {url!r}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a certificate", "not a readable PEM certificate chain"), (None, "no such file")],
    ids=["junk", "missing"],
)
def test_unusable_tsa_anchors_are_one_line_errors(
    content: bytes | None,
    message: str,
    signed_files: dict[str, Path],
    dev_home: ProvsdkHome,
    tmp_path: Path,
) -> None:
    anchors = tmp_path / "tsa.pem"
    if content is not None:
        anchors.write_bytes(content)
    run = run_cli("verify", signed_files["wav"], "--tsa-anchors", anchors, home=dev_home.root)
    assert run.returncode == 2
    lines = [ln for ln in run.stderr.strip().splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and message in lines[0] and "tsa.pem" in lines[0]


# --- statements: the check date and the timestamp --------------------------------------------


@pytest.fixture(scope="module")
def licensor(dev_home: ProvsdkHome) -> KeySigner:
    return load_signer(Role.LICENSOR, home=dev_home, use_env=False)


def test_timestamped_statement_keeps_its_signed_bytes(
    tsa: tuple[str, TimestampAuthority], licensor: KeySigner
) -> None:
    token = sign_statement({"what": "grant"}, licensor, "test-statement")
    stamped = timestamp_statement(token, tsa[0])
    document = json.loads(stamped)
    assert set(document) == {"protected", "payload", "signature", "header"}
    statement = read_statement(stamped)
    assert statement.compact == token
    assert statement.payload == {"what": "grant"}
    assert statement.timestamp is not None


def test_expired_statement_certificate_verifies_with_a_timestamp_and_fails_without(
    tsa: tuple[str, TimestampAuthority],
    tsa_store: TrustStore,
    licensor: KeySigner,
    trust: TrustConfig,
) -> None:
    """The check-date half of the must-show case: judged long after every certificate expired."""
    token = sign_statement({"what": "grant"}, licensor, "test-statement")
    stamped = timestamp_statement(token, tsa[0])
    with_stamp = verify_statement(stamped, trust.licensor, at=FAR_FUTURE, timestamps=tsa_store)
    assert with_stamp.trusted, with_stamp.problems()
    assert with_stamp.timestamp is not None and with_stamp.timestamp.trusted
    without = verify_statement(token, trust.licensor, at=FAR_FUTURE, timestamps=tsa_store)
    assert not without.trusted
    assert "chain.expired" in without.chain.codes
    untrusted_authority = verify_statement(stamped, trust.licensor, at=FAR_FUTURE)
    assert not untrusted_authority.trusted
    assert "chain.expired" in untrusted_authority.chain.codes


def test_timestamp_taken_after_expiry_does_not_help(
    tsa_store: TrustStore, tsa: tuple[str, TimestampAuthority], dev_home: ProvsdkHome
) -> None:
    """A token says when the signature existed; one dated after expiry proves nothing."""
    signer = _short_lived(dev_home, Role.LICENSOR, seconds=3600)
    token = sign_statement({"what": "grant"}, signer, "test-statement")
    authority = tsa[1]
    authority.issue_at(signer.leaf.not_valid_after_utc + dt.timedelta(days=1))
    try:
        stamped = timestamp_statement(token, tsa[0])
    finally:
        authority.clock = lambda: dt.datetime.now(dt.UTC)
    store = TrustStore.from_home(Role.LICENSOR, dev_home)
    check = verify_statement(stamped, store, at=FAR_FUTURE, timestamps=tsa_store)
    assert not check.trusted
    assert "chain.expired" in check.chain.codes


def test_timestamp_of_another_statement_is_tampering(
    tsa: tuple[str, TimestampAuthority],
    tsa_store: TrustStore,
    licensor: KeySigner,
    trust: TrustConfig,
) -> None:
    first = json.loads(timestamp_statement(sign_statement({"n": 1}, licensor, "t"), tsa[0]))
    second = json.loads(timestamp_statement(sign_statement({"n": 2}, licensor, "t"), tsa[0]))
    first["header"] = second["header"]
    check = verify_statement(json.dumps(first), trust.licensor, timestamps=tsa_store)
    assert not check.trusted
    assert any(p.code == "statement.timestamp.mismatch" for p in check.problems())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"protected": "a", "payload": "b"}, "needs protected, payload and signature"),
        ({"protected": "a", "payload": "b", "signature": "c", "extra": 1}, "no other members"),
        ({"protected": "a", "payload": "b", "signature": "c", "header": {"kid": "x"}}, "only"),
        (
            {"protected": "a", "payload": "b", "signature": "c", "header": {"sigTst": "%%"}},
            "base64",
        ),
    ],
    ids=["missing-signature", "extra-member", "other-header", "bad-base64"],
)
def test_malformed_json_statements_are_input_errors(document: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_statement(json.dumps(document))


# --- manifests: c2pa asks the authority; an expired producer certificate ----------------------


def _leaf_for(issuer_key: Any, issuer: x509.Certificate, name: str, seconds: float) -> KeySigner:
    """A signing leaf under ``issuer`` that stays valid for ``seconds`` more."""
    now = dt.datetime.now(dt.UTC)
    key, leaf = issue_leaf(
        issuer_key,
        issuer,
        name,
        Algorithm.ES256,
        not_before=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(seconds=seconds),
    )
    return KeySigner(Algorithm.ES256, (leaf,), key=key, source=name)


def _short_lived(home: ProvsdkHome, role: Role, seconds: float) -> KeySigner:
    """A leaf of ``role``'s dev root valid for ``seconds`` more."""
    root_key = serialization.load_pem_private_key(home.root_key_path(role).read_bytes(), None)
    root = x509.load_pem_x509_certificate(home.anchors_path(role).read_bytes())
    return _leaf_for(root_key, root, f"short-lived {role}", seconds)


@dataclass(frozen=True)
class ExpiredSet:
    """Files signed with certificates that have expired by the time the tests read them."""

    timestamped: Path
    untimestamped: Path
    signer_under_tsa_root: Path  # a "producer" certificate the TSA's root issued
    tsa_root: Path


@pytest.fixture(scope="module")
def expired(
    dev_home: ProvsdkHome,
    vectors: Path,
    spec: ManifestSpec,
    tmp_path_factory: pytest.TempPathFactory,
) -> ExpiredSet:
    folder = tmp_path_factory.mktemp("expired")
    signer = _short_lived(dev_home, Role.PRODUCER, seconds=3)
    source = vectors / "sample1.wav"
    timestamped, plain = folder / "timestamped.wav", folder / "untimestamped.wav"
    rogue = folder / "signer-under-tsa-root.wav"
    with serve_tsa() as (url, authority):
        sign_file(source, timestamped, spec, signer, tsa_url=url)
        sign_file(source, plain, spec, signer)
        # The attack on role separation: the TSA's root (trusted for time) issues a leaf fit
        # for signing manifests. It must never pass for a producer's.
        credentials = authority.credentials
        rogue_signer = _leaf_for(
            credentials.root_key, credentials.root, "producer made by the TSA root", 3
        )
        sign_file(source, rogue, spec, rogue_signer, tsa_url=url)
    root_pem = folder / "tsa-root.pem"
    root_pem.write_bytes(authority.credentials.root_pem())
    deadline = max(signer.leaf.not_valid_after_utc, rogue_signer.leaf.not_valid_after_utc)
    time.sleep(max(0.0, (deadline - dt.datetime.now(dt.UTC)).total_seconds()) + PAST_EXPIRY)
    return ExpiredSet(timestamped, plain, rogue, root_pem)


@pytest.mark.slow
def test_expired_certificate_verifies_when_timestamped(
    expired: ExpiredSet, trust: TrustConfig
) -> None:
    store = replace(trust, timestamp=TrustStore(Role.TIMESTAMP).adding_files([expired.tsa_root]))
    report = verify_file(expired.timestamped, trust=store)
    assert report.integrity.state is C2paState.TRUSTED, report.integrity.failures
    assert report.passed, report.reasons
    assert report.producer.timestamp_trusted is True
    assert report.producer.timestamped_at is not None


@pytest.mark.slow
def test_expired_certificate_fails_without_a_timestamp(
    expired: ExpiredSet, trust: TrustConfig
) -> None:
    store = replace(trust, timestamp=TrustStore(Role.TIMESTAMP).adding_files([expired.tsa_root]))
    report = verify_file(expired.untimestamped, trust=store)
    assert not report.passed
    assert "signingCredential.expired" in {e.code for e in report.integrity.failures}


@pytest.mark.slow
def test_expired_certificate_fails_when_the_authority_is_not_trusted(
    expired: ExpiredSet, trust: TrustConfig
) -> None:
    report = verify_file(expired.timestamped, trust=trust)
    assert not report.passed
    assert "signingCredential.expired" in {e.code for e in report.integrity.failures}
    assert report.producer.timestamp_trusted is None  # no authority configured: not judged


@pytest.mark.slow
def test_time_stamp_authority_root_never_vouches_for_a_producer(
    expired: ExpiredSet, trust: TrustConfig
) -> None:
    store = replace(trust, timestamp=TrustStore(Role.TIMESTAMP).adding_files([expired.tsa_root]))
    report = verify_file(expired.signer_under_tsa_root, trust=store)
    assert report.integrity.state is not C2paState.TRUSTED
    assert not report.producer.trusted
    assert not report.passed


@pytest.mark.slow
def test_expired_certificate_through_the_command_line(
    expired: ExpiredSet, dev_home: ProvsdkHome
) -> None:
    ok = run_cli(
        "verify",
        expired.timestamped,
        "--tsa-anchors",
        expired.tsa_root,
        "--json",
        home=dev_home.root,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    entry = json.loads(ok.stdout)["files"][0]
    assert entry["producer"]["timestamp_trusted"] is True
    bad = run_cli(
        "verify", expired.untimestamped, "--tsa-anchors", expired.tsa_root, home=dev_home.root
    )
    assert bad.returncode == 1
    assert "signingCredential.expired" in bad.stdout


# --- the command line, end to end -----------------------------------------------------------


@pytest.mark.slow
def test_cli_timestamps_manifests_and_grants(
    tsa: tuple[str, TimestampAuthority],
    tsa_pem: Path,
    dev_home: ProvsdkHome,
    vectors: Path,
    tmp_path: Path,
) -> None:
    url, anchors = tsa[0], tsa_pem
    signed = tmp_path / "signed.wav"
    run = run_cli(
        "sign", vectors / "sample1.wav", "-o", signed, "--source-type", "algorithmicMedia",
        "--generator", "tests", "--tsa-url", url, home=dev_home.root,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    grant_doc, grant_jws = tmp_path / "grant.json", tmp_path / "grant.jws"
    made = run_cli(
        "grant", "create", "--licensor", "Label", "--licensee", "provsdk development PKI",
        "--purpose", "commercial", "--territory", "US", "--target", signed, "-o", grant_doc,
        home=dev_home.root,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # The URL may come from the environment, as in a CI job.
    stamped = run_cli(
        "grant", "sign", grant_doc, "-o", grant_jws, home=dev_home.root,
        env={"PROVSDK_TSA_URL": url},
    )  # fmt: skip
    assert stamped.returncode == 0, stamped.stderr
    assert "sigTst" in json.loads(grant_jws.read_text())["header"]
    out = tmp_path / "with-grant.wav"
    attached = run_cli(
        "grant", "attach", signed, "--grant", grant_jws, "-o", out, "--tsa-url", url,
        home=dev_home.root,
    )  # fmt: skip
    assert attached.returncode == 0, attached.stderr
    verified = run_cli("verify", out, "--tsa-anchors", anchors, "--json", home=dev_home.root)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    entry = json.loads(verified.stdout)["files"][0]
    assert entry["producer"]["timestamp_trusted"] is True
    (grant,) = entry["grants"]["items"]
    assert grant["timestamp"]["trusted"] is True
    shown = run_cli("verify", out, "--tsa-anchors", anchors, home=dev_home.root)
    assert "timestamped" in shown.stdout and "(trusted)" in shown.stdout
    inspected = run_cli("inspect", out, home=dev_home.root)
    assert inspected.stdout.count("timestamped") == 2  # the new manifest and its parent


@pytest.mark.slow
def test_cli_unreachable_authority_leaves_nothing(
    dev_home: ProvsdkHome, vectors: Path, tmp_path: Path
) -> None:
    out = tmp_path / "never.wav"
    with unused_port() as port:
        url = f"http://127.0.0.1:{port}/tsa"
        run = run_cli(
            "sign", vectors / "sample1.wav", "-o", out, "--source-type", "algorithmicMedia",
            "--generator", "tests", "--tsa-url", url, home=dev_home.root,
        )  # fmt: skip
    assert run.returncode == 2
    lines = [ln for ln in run.stderr.strip().splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and "time-stamp authority" in lines[0] and url in lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_timestamp_token_is_base64_der_of_a_granted_response(
    tsa: tuple[str, TimestampAuthority], tsa_store: TrustStore, licensor: KeySigner
) -> None:
    """What other tools need to check the token themselves: standard base64 of the DER."""
    stamped = timestamp_statement(sign_statement({"n": 1}, licensor, "t"), tsa[0])
    der = base64.b64decode(json.loads(stamped)["header"]["sigTst"], validate=True)
    assert check_timestamp(der, read_statement(stamped).signature_value, tsa_store).trusted


@pytest.mark.slow
def test_policy_can_require_a_trusted_timestamp(
    tsa: tuple[str, TimestampAuthority],
    dev_home: ProvsdkHome,
    signed_files: dict[str, Path],
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tsa_pem: Path,
    tmp_path: Path,
) -> None:
    url, anchors = tsa[0], tsa_pem
    policy = tmp_path / "archive.toml"
    policy.write_text('name = "archive"\n[producer]\nrequire = "trusted"\ntimestamp = true\n')
    stamped = tmp_path / "stamped.flac"
    sign_file(signed_files["flac"], stamped, spec, producer_signer, tsa_url=url)
    passes = run_cli(
        "verify", stamped, "--policy", policy, "--tsa-anchors", anchors, home=dev_home.root
    )
    assert passes.returncode == 0, passes.stdout
    untrusted = run_cli("verify", stamped, "--policy", policy, home=dev_home.root)
    assert untrusted.returncode == 1
    assert "policy.timestamp" in untrusted.stdout and "not a trusted" in untrusted.stdout
    plain = run_cli(
        "verify", signed_files["flac"], "--policy", policy, "--tsa-anchors", anchors,
        home=dev_home.root,
    )  # fmt: skip
    assert plain.returncode == 1
    assert "policy.timestamp: the manifest carries no trusted timestamp" in plain.stdout


@pytest.mark.slow
def test_judging_a_timestamp_opens_no_connection(
    expired: ExpiredSet, dev_home: ProvsdkHome
) -> None:
    """The token is checked offline: verify, with sockets disabled, still passes the file."""
    import subprocess
    import sys

    from cli_runner import provsdk_env
    from test_secrets import NO_NETWORK

    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "verify", str(expired.timestamped),
         "--tsa-anchors", str(expired.tsa_root)],
        capture_output=True, text=True, env=provsdk_env(dev_home.root), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "network use is not allowed" not in result.stderr
    assert "(trusted)" in result.stdout


@pytest.mark.slow
def test_an_empty_tsa_variable_means_no_timestamp(
    dev_home: ProvsdkHome, vectors: Path, tmp_path: Path
) -> None:
    """A CI variable that is defined but empty (an unset repository variable) is no URL."""
    out = tmp_path / "plain.wav"
    run = run_cli(
        "sign", vectors / "sample1.wav", "-o", out, "--source-type", "algorithmicMedia",
        "--generator", "tests", home=dev_home.root, env={"PROVSDK_TSA_URL": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert verify_file(out, trust=TrustConfig.load(dev_home)).producer.timestamped_at is None


@pytest.mark.slow
def test_a_timestamped_manifest_vouches_for_the_statements_it_carries(
    dev_home: ProvsdkHome,
    signed_files: dict[str, Path],
    producer_signer: KeySigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    """A grant with no token of its own, whose licensor certificate has expired since: the
    manifest that carries it was timestamped while that certificate was valid, and the claim
    signature covers the grant's bytes, so the grant is judged at that time."""
    from provsdk.attach import attach_grant
    from provsdk.grants import create_grant, sign_grant

    licensor = _short_lived(dev_home, Role.LICENSOR, seconds=3)
    track = tmp_path / "track.wav"
    shutil.copyfile(signed_files["wav"], track)
    grant = create_grant(
        licensor="Label", licensee="Studio", purposes=["commercial"], target_file=track
    )
    token = sign_grant(grant, licensor)
    stamped, plain = tmp_path / "stamped.wav", tmp_path / "plain.wav"
    with serve_tsa() as (url, authority):
        attach_grant([track], token, signer=producer_signer, trust=trust, out=stamped, tsa_url=url)
    attach_grant([track], token, signer=producer_signer, trust=trust, out=plain)
    wait = (licensor.leaf.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds()
    time.sleep(max(0.0, wait) + PAST_EXPIRY)
    authorities = TrustStore(Role.TIMESTAMP, (authority.credentials.root,))
    with_stamp = verify_file(stamped, trust=replace(trust, timestamp=authorities))
    (finding,) = with_stamp.grants.grants
    assert finding.trusted, finding.problems
    assert with_stamp.passed, with_stamp.reasons
    for report in (verify_file(stamped, trust=trust), verify_file(plain, trust=trust)):
        (finding,) = report.grants.grants
        assert not finding.trusted
        assert any(p.code == "grant.chain.expired" for p in finding.problems), finding.problems
