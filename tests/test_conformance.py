"""The C2PA Conformance Program's asset rubrics, run over every kind of file provsdk writes.

The rubrics (``tests/conformance``, copied with their licence and source commit) are YAML
statements whose json-formula expressions are evaluated over a file's crJSON report, the
report format the program reads. c2pa-python writes the crJSON; Adobe's json-formula (node,
pinned in ``tests/conformance/package.json``) computes each statement's value; this file
judges the values the way the program's evaluator does:

- a ``failIfMatched`` statement fails when its value is a non-empty list (the offenders), and
  so, here, does a ``warnIfMatched`` one: provsdk's files are to draw no warning either;
- any other statement passes when its value is true, a non-empty list, a positive number or
  any other non-null value, and fails when it is false, empty, zero, null or an error.

Every statement must pass for every kind of file, except those that rightly cannot: their
strict xfails say why, so the day one starts passing the suite says so.

The node module comes from ``npm ci --prefix tests/conformance``; without node or it, this
file skips. Tests never install anything.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_disclosure_grants import STUDIO, scope_grant

from provsdk.attach import attach_grant
from provsdk.audio.containers import probe
from provsdk.c2pa_access import open_reader
from provsdk.client import Client
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.trust import TrustStore
from provsdk.grants import sign_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file
from provsdk.sign.strategy import STRATEGY_ENV

RUBRICS = Path(__file__).resolve().parent / "conformance"
EVALUATOR = RUBRICS / "evaluate.mjs"
MODULE = RUBRICS / "node_modules" / "@adobe" / "json-formula" / "package.json"
NODE = shutil.which("node")

# The rubric files this suite runs, and the specification version each checks against (the
# program's evaluator takes it from the file name: "spec2.4"; the integrity rubric needs none).
CONFORMANCE = "asset-rubric-conformance0.2-spec2.4.yml"
INTEGRITY = "asset-rubric-integrity.yml"
SPEC_FOR = {CONFORMANCE: "2.4", INTEGRITY: None}
# Not a pass/fail rubric: it labels each manifest (captured, fully GenAI, non-editorial...).
SIGNALS = "asset-rubric-signals-local.yml"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="node is not on PATH: json-formula cannot run"),
    pytest.mark.skipif(
        not MODULE.is_file(),
        reason="json-formula is not installed: run `npm ci --prefix tests/conformance`",
    ),
]


@dataclass(frozen=True)
class Statement:
    id: str
    expression: str
    fail_if_matched: bool


@dataclass(frozen=True)
class Rubric:
    name: str
    variables: dict[str, Any]
    expressions: dict[str, str]
    statements: tuple[Statement, ...]


def load_rubric(name: str) -> Rubric:
    info, *documents = yaml.safe_load_all((RUBRICS / name).read_text(encoding="utf-8"))
    statements = []
    for doc in documents:
        for item in doc if isinstance(doc, list) else [doc]:
            if isinstance(item, dict) and item.get("expression"):
                matched = bool(item.get("failIfMatched") or item.get("warnIfMatched"))
                statements.append(Statement(item["id"], item["expression"], matched))
    variables = dict(info.get("variables") or {})
    if SPEC_FOR.get(name) is not None:
        variables["$expected_spec_version"] = SPEC_FOR[name]
    return Rubric(name, variables, dict(info.get("expressions") or {}), tuple(statements))


def evaluate(rubric: Rubric, documents: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each document's value for each statement: ``{"value": v}`` or ``{"error": text}``."""
    request = {
        "variables": rubric.variables,
        "expressions": rubric.expressions,
        "statements": [{"id": s.id, "expression": s.expression} for s in rubric.statements],
        "documents": documents,
    }
    found: dict[str, dict[str, Any]] = run_node(EVALUATOR, request)
    return found


def run_node(script: Path, request: Any) -> Any:
    """What a node script answers in JSON to ``request``, given as JSON on its stdin."""
    done = subprocess.run(
        [NODE or "node", str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def verdict(statement: Statement, result: dict[str, Any]) -> tuple[bool, Any]:
    """Whether the statement passes, and what to show when it does not."""
    if "error" in result:
        return False, f"error: {result['error']}"
    value = result["value"]
    if statement.fail_if_matched:
        return not (isinstance(value, list) and value), value
    if isinstance(value, bool):
        return value, value
    if isinstance(value, list):
        return bool(value), value
    if isinstance(value, int | float):
        return value > 0, value
    return value is not None, value


def crjson(path: Path, anchors: TrustStore) -> Any:
    with open_reader(path, probe(path), anchors) as reader:
        return json.loads(reader.crjson())


# --- every kind of file provsdk writes ---------------------------------------------------------


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], TrustConfig]:
    root = tmp_path_factory.mktemp("conformance")
    home = ProvsdkHome(root / "home")
    init_dev_pki(home, organization=STUDIO)
    trust = TrustConfig.load(home)
    producer = load_signer(Role.PRODUCER, home=home, use_env=False)
    client = Client(home=home, signer=producer, trust=trust)
    files: dict[str, Path] = {}
    for fmt in ("wav", "mp3", "flac", "m4a", "ogg", "opus", "aiff", "caf", "webm", "mka"):
        files[f"generated {fmt}"] = root / f"generated-{fmt}.{fmt}"  # one .c2pa per stem
        assert client.generate("warm lofi beat", out=files[f"generated {fmt}"], duration=2, seed=1)
    # Signing a file that already carries a manifest: the parent ingredient, c2pa.opened.
    files["re-signed wav"] = root / "re-signed.wav"
    spec = ManifestSpec(
        title="re-signed",
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("tests", "1"),
    )
    sign_file(files["generated wav"], files["re-signed wav"], spec, producer)
    token = sign_grant(scope_grant(), load_signer(Role.LICENSOR, home=home, use_env=False))
    files["grant-attached wav"] = root / "granted.wav"
    attach_grant(
        [files["generated wav"]],
        token,
        signer=producer,
        trust=trust,
        out=files["grant-attached wav"],
    )
    # A sidecar manifest over the history: c2pa cannot read the parent from the audio itself.
    files["grant-attached ogg"] = root / "granted.ogg"
    attach_grant(
        [files["generated ogg"]],
        token,
        signer=producer,
        trust=trust,
        out=files["grant-attached ogg"],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(STRATEGY_ENV, "c2pa-builder")
        for fmt in ("wav", "mp3"):
            files[f"c2pa-builder {fmt}"] = root / f"builder.{fmt}"
            assert client.generate(
                "warm lofi beat", out=files[f"c2pa-builder {fmt}"], duration=2, seed=2
            )
    return files, trust


KINDS = (
    "generated wav",
    "generated mp3",
    "generated flac",
    "generated m4a",
    "generated ogg",
    "generated opus",
    "generated aiff",
    "generated caf",
    "generated webm",
    "generated mka",
    "re-signed wav",
    "grant-attached wav",
    "grant-attached ogg",
    "c2pa-builder wav",
    "c2pa-builder mp3",
)


@pytest.fixture(scope="module")
def results(
    kinds: tuple[dict[str, Path], TrustConfig],
) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(rubric, trust list) -> kind -> statement id -> result, one node run per pair."""
    files, trust = kinds
    official = TrustStore(Role.PRODUCER).adding_files([RUBRICS / "C2PA-TRUST-LIST.pem"])
    out = {}
    for lists, anchors in (("dev", trust.producer), ("c2pa", official)):
        documents = {kind: crjson(files[kind], anchors) for kind in KINDS}
        for name in SPEC_FOR:
            out[(name, lists)] = evaluate(load_rubric(name), documents)
    return out


def _cases() -> list[Any]:
    cases = []
    for name in SPEC_FOR:
        for statement in load_rubric(name).statements:
            for kind in KINDS:
                cases.append(pytest.param(name, statement, kind, id=f"{kind}-{statement.id}"))
    return cases


@pytest.mark.parametrize(("rubric", "statement", "kind"), _cases())
def test_rubric_statement_passes_for_every_kind_of_file(
    results: dict[tuple[str, str], dict[str, dict[str, Any]]],
    rubric: str,
    statement: Statement,
    kind: str,
) -> None:
    """Judged with the development PKI as the trust list: the files' own anchors."""
    passed, shown = verdict(statement, results[(rubric, "dev")][kind][statement.id])
    assert passed, f"{rubric} {statement.id} on {kind}: {json.dumps(shown)[:500]}"


@pytest.mark.xfail(
    strict=True,
    reason="the C2PA trust list holds conforming CAs' roots; a development PKI is on no such "
    "list, so signingCredential.untrusted is right until a producer signs with a certificate "
    "from a conforming CA",
)
@pytest.mark.parametrize("kind", KINDS)
def test_integrity_trust_against_the_c2pa_trust_list(
    results: dict[tuple[str, str], dict[str, dict[str, Any]]], kind: str
) -> None:
    statement = next(
        s for s in load_rubric(INTEGRITY).statements if s.id.endswith("trusted_success")
    )
    passed, shown = verdict(statement, results[(INTEGRITY, "c2pa")][kind][statement.id])
    assert passed, shown


def test_only_trust_differs_under_the_c2pa_trust_list(
    results: dict[tuple[str, str], dict[str, dict[str, Any]]],
) -> None:
    """Every statement but the trust one passes under the official list too: no other check
    leans on the development anchors."""
    for name in SPEC_FOR:
        for statement in load_rubric(name).statements:
            if statement.id.endswith("trusted_success"):
                continue
            for kind in KINDS:
                passed, shown = verdict(statement, results[(name, "c2pa")][kind][statement.id])
                assert passed, (name, statement.id, kind, shown)


# --- the evaluator bites ---------------------------------------------------------------------


def _failing(rubric: Rubric, document: Any) -> set[str]:
    found = evaluate(rubric, {"doc": document})["doc"]
    return {s.id for s in rubric.statements if not verdict(s, found[s.id])[0]}


def test_rubrics_catch_a_manifest_missing_what_conformance_requires(
    kinds: tuple[dict[str, Path], TrustConfig],
) -> None:
    """Without this, a rubric run that judged nothing (a wrong path, a swallowed error) would
    pass every file. Each change below is a mistake a generator could make; each must fail the
    statement that exists to catch it, and only the clean report passes them all."""
    files, trust = kinds
    rubric = load_rubric(CONFORMANCE)
    clean = crjson(files["re-signed wav"], trust.producer)  # one action: c2pa.opened
    assert _failing(rubric, clean) == set()

    def claim(doc: Any) -> Any:
        return doc["manifests"][0]["claim.v2"]

    def actions(doc: Any) -> Any:
        return doc["manifests"][0]["assertions"]["c2pa.actions.v2"]

    no_version = copy.deepcopy(clean)
    del claim(no_version)["claim_generator_info"]["specVersion"]
    wrong_version = copy.deepcopy(clean)
    claim(wrong_version)["claim_generator_info"]["specVersion"] = "2.1"
    no_all_actions = copy.deepcopy(clean)
    del actions(no_all_actions)["allActionsIncluded"]
    opened_with_source = copy.deepcopy(clean)
    actions(opened_with_source)["actions"][0]["digitalSourceType"] = (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    gathered_actions = copy.deepcopy(clean)
    moved = [a for a in claim(gathered_actions)["created_assertions"] if "actions" in a["url"]]
    claim(gathered_actions)["created_assertions"] = [
        a for a in claim(gathered_actions)["created_assertions"] if a not in moved
    ]
    claim(gathered_actions)["gathered_assertions"].extend(moved)
    deprecated = copy.deepcopy(clean)
    deprecated["manifests"][0]["assertions"]["c2pa.actions"] = actions(deprecated)

    assert "validation:mandatory_spec_version" in _failing(rubric, no_version)
    assert "validation:mandatory_spec_version" in _failing(rubric, wrong_version)
    assert "validation:mandatory_all_actions_included" in _failing(rubric, no_all_actions)
    assert "validation:all_actions_included_opened" in _failing(rubric, no_all_actions)
    assert "validation:no_dst_for_opened_action" in _failing(rubric, opened_with_source)
    assert "validation:inception_action_position" in _failing(rubric, gathered_actions)
    assert "validation:no_deprecated_assertions" in _failing(rubric, deprecated)
