"""The policy matrix, end to end through the command line: what a file must show to pass.

One session fixture builds two development PKIs (ours, and someone else's with the same names),
a policy, a handful of 2-second tracks and one file per case, each differing from the passing
baseline by exactly one change. Each test then runs ``provsdk verify --json --policy`` on its
file in a real subprocess and checks the exit code and the codes of the reasons.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import run_cli as run

from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file

# Slow as a whole: its session fixture builds every case file (about 40 s) through the CLI.
pytestmark = pytest.mark.slow

POLICY = """\
[producer]
require = "trusted"
[disclosure]
require = true
training = ["licensed", "public-domain", "none"]
[[grant]]
purpose = "commercial"
territory = "US"
"""
MODEL = "provsdk-local 2.0"
STUDIO = "Game Studio"
TODAY = dt.datetime.now(dt.UTC).date()
IN_30_DAYS = (TODAY + dt.timedelta(days=30)).isoformat()
IN_60_DAYS = (TODAY + dt.timedelta(days=60)).isoformat()
SIGNATURE_CODES = {"grant.statement.bad-signature", "disclosure.statement.bad-signature"}


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def codes(reasons: list[str]) -> list[str]:
    return [r.split(": ", 1)[0] for r in reasons]


def tamper(token: str, old: bytes, new: bytes) -> str:
    """The JWS with ``old`` replaced by ``new`` in its payload, the signature left as it was."""
    header, payload, signature = token.strip().split(".")
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert data.count(old) == 1, data
    changed = base64.urlsafe_b64encode(data.replace(old, new)).decode().rstrip("=")
    return f"{header}.{changed}.{signature}"


@dataclass(frozen=True)
class Matrix:
    root: Path
    home: Path
    policy: Path
    base: Path  # a generated track, no grant
    track_b: Path  # another generated track, no grant
    grants: dict[str, Path]  # case -> signed grant (JWS file)
    files: dict[str, Path]  # case -> file to verify

    def verify(self, case: str, *extra: str | Path) -> tuple[int, dict]:
        result = run(
            "verify", "--json", "--policy", self.policy, *extra, self.files[case], home=self.home
        )
        assert result.returncode in (0, 1), result.stderr
        data = json.loads(result.stdout)
        (entry,) = data["files"]
        return result.returncode, entry


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    root = tmp_path_factory.mktemp("policy-matrix")
    home, other = root / "home", root / "other-home"
    # Our PKI, and someone else's: `keys init` names every root alike, so only keys differ.
    ok(run("keys", "init", "--org", STUDIO, home=home))
    ok(run("keys", "init", "--org", STUDIO, home=other))
    policy = root / "policy.toml"
    policy.write_text(POLICY)

    base, track_b = root / "base.wav", root / "track-b.wav"
    for path, prompt, seed in ((base, "warm lofi beat", "11"), (track_b, "dark techno", "12")):
        ok(run("generate", prompt, "-o", path, "--duration", "2", "--seed", seed, home=home))

    grants: dict[str, Path] = {}

    def grant(name: str, *terms: str | Path, sign_home: Path = home, sign: tuple = ()) -> Path:
        document, signed = root / f"{name}.json", root / f"{name}.jws"
        ok(
            run(
                "grant", "create", "--licensor", "Harbor Music", "--licensee", STUDIO,
                "--purpose", "commercial", *terms, "-o", document, home=home,
            )
        )  # fmt: skip
        ok(run("grant", "sign", document, "-o", signed, *sign, home=sign_home))
        grants[name] = signed
        return signed

    scope = ("--scope-model", MODEL)
    grant("good", *scope, "--territory", "US", "--until", "2030-12-31")
    grant("untrusted", *scope, "--territory", "US", "--until", "2030-12-31", sign_home=other)
    grant("de", *scope, "--territory", "DE", "--until", "2030-12-31")
    grant("expired", *scope, "--territory", "US", "--until", IN_30_DAYS)
    grant("future", *scope, "--territory", "US", "--from", IN_30_DAYS, "--until", "2030-12-31")
    grant("bound-a", "--target", base, "--territory", "US", "--until", "2030-12-31")
    keys = home / "keys"
    grant(
        "provider-key",
        *scope,
        "--territory",
        "US",
        "--until",
        "2030-12-31",
        sign=("--key", keys / "provider.key", "--cert", keys / "provider.pem"),
    )
    # Signed for DE, then edited to say US: the one a licensee would like to have.
    grants["tampered"] = root / "tampered.jws"
    grants["tampered"].write_text(
        tamper(grants["de"].read_text(), b'"rightOperand":["DE"]', b'"rightOperand":["US"]') + "\n"
    )

    files: dict[str, Path] = {}
    for case in ("good", "de", "expired", "future", "bound-a"):
        files[case] = root / f"{case}.wav"
        ok(run("grant", "attach", base, "--grant", grants[case], "-o", files[case], home=home))
    # attach refuses grants whose signature fails or whose signer is not a trusted licensor,
    # so those go in with `sign` (the producer is ours and trusted; the file differs from the
    # baseline only by the grant), as another tool might embed them.
    for case in ("tampered", "untrusted", "provider-key"):
        files[case] = root / f"{case}.wav"
        ok(run("sign", base, "-o", files[case], "--grant", grants[case], home=home))

    # Disclosures: one that declares crawled, unlicensed data, honestly signed by our provider,
    # and the same one edited after signing to say no crawling happened.
    crawled_doc, crawled = root / "crawled.json", root / "crawled.jws"
    ok(
        run(
            "disclosure", "create", "--provider", "Harbor AI", "--model", "provsdk-local",
            "--model-version", "2.0", "--crawled", "--crawl-domain", "music.example",
            "-o", crawled_doc, home=home,
        )
    )  # fmt: skip
    ok(run("disclosure", "sign", crawled_doc, "-o", crawled, home=home))
    hidden = root / "tampered-disclosure.jws"
    hidden.write_text(tamper(crawled.read_text(), b'"used":true', b'"used":false') + "\n")
    files["crawled"] = root / "crawled.wav"
    ok(
        run(
            "generate", "warm lofi beat", "-o", files["crawled"], "--duration", "2", "--seed",
            "13", "--disclosure", crawled, "--grant", grants["good"], home=home,
        )
    )  # fmt: skip
    files["tampered-disclosure"] = root / "tampered-disclosure.wav"
    ok(
        run(
            "sign", base, "-o", files["tampered-disclosure"], "--disclosure", hidden,
            "--grant", grants["good"], home=home,
        )
    )  # fmt: skip
    return Matrix(root, home, policy, base, track_b, grants, files)


def assert_only_change_is(entry: dict) -> None:
    """The rest of the file is as good as the baseline: intact, trusted, AI-generated."""
    assert entry["c2pa"]["state"] == "Trusted", entry["c2pa"]
    assert entry["producer"]["organization"] == STUDIO
    assert entry["origin"]["model"] == MODEL


# --- the baseline ------------------------------------------------------------------------------


def test_baseline_passes_the_policy(matrix: Matrix) -> None:
    code, entry = matrix.verify("good")
    assert (code, entry["verdict"], entry["reasons"]) == (0, "pass", [])
    assert_only_change_is(entry)
    assert entry["policy"]["passed"] is True
    (grant,) = entry["grants"]["items"]
    assert grant["trusted"] and grant["in_force"] and grant["covers"]
    assert grant["territories"] == ["US"] and grant["purposes"] == ["commercial"]
    assert entry["disclosure"]["trusted"] is True
    assert entry["disclosure"]["training_bases"] == ["none"]


# --- one change each ---------------------------------------------------------------------------


def test_grant_signed_by_an_untrusted_licensor(matrix: Matrix) -> None:
    code, entry = matrix.verify("untrusted")
    found = codes(entry["reasons"])
    assert code == 1 and entry["verdict"] == "fail"
    assert_only_change_is(entry)
    assert found[0] == "grant.chain.untrusted"
    assert "policy.grant" in found
    # Someone else's PKI uses our root's name: the link to it fails, and says so.
    assert set(found) <= {"grant.chain.untrusted", "grant.chain.bad-signature", "policy.grant"}
    (grant,) = entry["grants"]["items"]
    assert grant["signature_valid"] is True and grant["trusted"] is False


def test_grant_changed_after_signing(matrix: Matrix) -> None:
    code, entry = matrix.verify("tampered")
    found = codes(entry["reasons"])
    assert code == 1
    assert_only_change_is(entry)
    assert SIGNATURE_CODES & set(found), found
    assert "policy.grant" in found
    (grant,) = entry["grants"]["items"]
    assert grant["territories"] == ["US"]  # what the edit says...
    assert grant["signature_valid"] is False  # ...is not what was signed
    assert grant["trusted"] is False


def test_attach_refuses_a_grant_changed_after_signing(matrix: Matrix, tmp_path: Path) -> None:
    out = tmp_path / "o.wav"
    result = run(
        "grant", "attach", matrix.base, "--grant", matrix.grants["tampered"], "-o", out,
        home=matrix.home,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.startswith("provsdk: ")
        and len([ln for ln in result.stderr.splitlines() if not ln.startswith("hint: ")]) == 1
    )
    assert "signature does not verify" in result.stderr
    assert not out.exists()


def test_grant_outside_its_term(matrix: Matrix) -> None:
    code, entry = matrix.verify("expired", "--at", IN_60_DAYS)
    assert code == 1
    assert_only_change_is(entry)
    assert codes(entry["reasons"]) == ["policy.grant"]
    assert "grant.not-in-force" in entry["reasons"][0]
    assert IN_60_DAYS in entry["reasons"][0]
    (grant,) = entry["grants"]["items"]
    assert grant["in_force"] is False and grant["valid_until"] == IN_30_DAYS
    # The same file, judged today, is within the term and passes: the date is the one change.
    assert matrix.verify("expired")[0] == 0
    assert matrix.verify("good", "--at", IN_60_DAYS)[0] == 0


def test_grant_not_yet_in_force(matrix: Matrix) -> None:
    code, entry = matrix.verify("future")
    assert code == 1
    assert codes(entry["reasons"]) == ["policy.grant"]
    assert "grant.not-in-force" in entry["reasons"][0]
    assert matrix.verify("future", "--at", IN_60_DAYS)[0] == 0


def test_grant_for_another_territory(matrix: Matrix) -> None:
    code, entry = matrix.verify("de")
    assert code == 1
    assert_only_change_is(entry)
    assert codes(entry["reasons"]) == ["policy.grant"]
    assert "DE" in entry["reasons"][0] and "territory US" in entry["reasons"][0]
    (grant,) = entry["grants"]["items"]
    assert grant["trusted"] and grant["in_force"] and grant["covers"] and not grant["problems"]


def test_grant_bound_to_another_recording(matrix: Matrix, tmp_path: Path) -> None:
    # On the recording it names, the bound grant passes.
    code, entry = matrix.verify("bound-a")
    assert code == 0, entry["reasons"]
    assert entry["grants"]["items"][0]["covers"] is True

    # attach will not put A's grant on B...
    refused = tmp_path / "refused.wav"
    result = run(
        "grant", "attach", matrix.track_b, "--grant", matrix.grants["bound-a"], "-o", refused,
        home=matrix.home,
    )  # fmt: skip
    assert result.returncode == 2
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and lines[0].startswith("provsdk: ")
    assert "does not cover" in lines[0] and "Traceback" not in result.stderr
    assert not refused.exists()

    # ...and when a manifest carries it anyway, verification says it does not cover B.
    home = ProvsdkHome(matrix.home)
    signer = load_signer(Role.PRODUCER, home=home, use_env=False)
    forced = tmp_path / "forced.wav"
    spec = ManifestSpec(
        title=forced.name,
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("tests", "1"),
        grants=(matrix.grants["bound-a"].read_text().strip(),),
    )
    sign_file(matrix.track_b, forced, spec, signer, anchors=TrustConfig.load(home).producer)
    result = run("verify", "--json", "--policy", matrix.policy, forced, home=matrix.home)
    assert result.returncode == 1, result.stderr
    (entry,) = json.loads(result.stdout)["files"]
    found = codes(entry["reasons"])
    assert_only_change_is(entry)
    assert "grant.not-covering" in found and "policy.grant" in found
    assert set(found) == {"grant.not-covering", "policy.grant"}


def test_grant_signed_with_the_providers_key(matrix: Matrix) -> None:
    code, entry = matrix.verify("provider-key")
    found = codes(entry["reasons"])
    assert code == 1
    assert_only_change_is(entry)
    assert found[0] == "grant.chain.untrusted"
    assert "licensor trust store" in entry["reasons"][0]
    assert "policy.grant" in found
    (grant,) = entry["grants"]["items"]
    assert grant["signature_valid"] is True and "provider" in grant["signer"]


def test_disclosure_changed_after_signing(matrix: Matrix) -> None:
    code, entry = matrix.verify("tampered-disclosure")
    found = codes(entry["reasons"])
    assert code == 1
    assert_only_change_is(entry)
    disclosure = entry["disclosure"]
    assert disclosure["present"] is True
    assert disclosure["signature_valid"] is False and disclosure["trusted"] is False
    # The edit hides the crawl; an unverifiable disclosure's claims are not reported as facts.
    assert disclosure["training_bases"] == []
    assert disclosure["summary"].startswith("unverified")
    assert SIGNATURE_CODES & set(found), found
    assert "policy.disclosure" in found
    assert SIGNATURE_CODES & set(codes(disclosure["problems"]))
    # The grant is the baseline's and still fine.
    assert entry["grants"]["items"][0]["problems"] == []


def test_disclosure_signature_reason_names_the_disclosure(matrix: Matrix) -> None:
    _, entry = matrix.verify("tampered-disclosure")
    signature = [c for c in codes(entry["reasons"]) if "signature" in c]
    assert signature and all(c.startswith("disclosure.") for c in signature)


def test_disclosure_declaring_crawled_unlicensed_data(matrix: Matrix) -> None:
    code, entry = matrix.verify("crawled")
    assert code == 1
    assert_only_change_is(entry)
    assert codes(entry["reasons"]) == ["policy.training"]
    assert "crawled-unlicensed" in entry["reasons"][0]
    assert entry["disclosure"]["trusted"] is True
    assert entry["disclosure"]["training_bases"] == ["crawled-unlicensed"]


# --- the default policy, reports, options ------------------------------------------------------


def test_default_policy_fails_a_tampered_grant_and_passes_a_clean_one(matrix: Matrix) -> None:
    result = run("verify", "--json", matrix.files["tampered"], home=matrix.home)
    assert result.returncode == 1
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["policy"]["name"] == "default"
    assert SIGNATURE_CODES & set(codes(entry["reasons"]))
    assert "policy.grant" not in codes(entry["reasons"])  # the default asks for no grant

    result = run("verify", "--json", matrix.files["good"], matrix.files["de"], home=matrix.home)
    assert result.returncode == 0, result.stdout
    assert [e["verdict"] for e in json.loads(result.stdout)["files"]] == ["pass", "pass"]

    # A grant out of its term is not a fault in itself: only a policy that needs it cares.
    result = run("verify", "--at", IN_60_DAYS, matrix.files["expired"], home=matrix.home)
    assert result.returncode == 0, result.stdout


def test_junit_report(matrix: Matrix, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    cases = ["good", "de", "provider-key", "crawled"]
    result = run(
        "verify", "--policy", matrix.policy, "--junit", report,
        *(matrix.files[c] for c in cases), home=matrix.home,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "3", "0")
    by_name = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(by_name) == {str(matrix.files[c]) for c in cases}
    assert by_name[str(matrix.files["good"])].find("failure") is None
    for case, code in (("de", "policy.grant"), ("provider-key", "grant.chain.untrusted")):
        failures = by_name[str(matrix.files[case])].findall("failure")
        assert len(failures) == 1
        assert code in (failures[0].text or "")
    crawled = by_name[str(matrix.files["crawled"])].find("failure")
    assert crawled is not None and (crawled.get("message") or "").startswith("policy.training")


@pytest.mark.parametrize("bad", ["2030-02-30", "next tuesday", "31/12/2030", ""])
def test_bad_at_date_is_a_usage_error(matrix: Matrix, bad: str) -> None:
    result = run("verify", "--at", bad, matrix.files["good"], home=matrix.home)
    assert result.returncode == 2
    assert "--at" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ["untrusted", "provider-key", "tampered"])
def test_attach_refuses_a_grant_it_cannot_trust(matrix: Matrix, tmp_path: Path, case: str) -> None:
    out = tmp_path / "out.wav"
    result = run("grant", "attach", matrix.base, "--grant", matrix.grants[case], "-o", out,
                 home=matrix.home)  # fmt: skip
    assert result.returncode == 2
    assert (
        len([ln for ln in result.stderr.splitlines() if not ln.startswith("hint: ")]) == 1
        and "not attaching it" in result.stderr
    )
    assert not out.exists()
