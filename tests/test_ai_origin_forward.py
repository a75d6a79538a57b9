"""After `grant attach`, a viewer that reads only the active manifest still sees how the audio
was made, and that restatement lends no trust to a history that has none.

The attach manifest opens the file (``c2pa.opened``), which may carry no digitalSourceType
(Conformance Program 0.2 for spec 2.4), and its parent ingredient, having an active manifest,
may carry none either (spec 2.4 §18.16.12.3). So provsdk restates the source type on a
``c2pa.edited.metadata`` action, the non-editorial action that names what attaching is; the
program allows a source type there. It restates only what a trusted history states.

Adobe's c2pa-js decides what its Content Credentials summary shows as generative AI with
``selectGenerativeInfo`` over the active manifest alone: every action of ``c2pa.actions`` /
``c2pa.actions.v2`` whose digitalSourceType (or Adobe's ``com.adobe.digitalSourceType``
parameter) is trainedAlgorithmicMedia or compositeWithTrainedAlgorithmicMedia, plus Adobe's
legacy ``com.adobe.generative-ai`` assertion; ingredients are not looked at. Here c2pa-js itself
(npm ``c2pa``, pinned in ``tests/interop/c2pa-js``) builds its manifest store from the JSON
c2pa-rs reports and runs that selection; see ``select.mjs`` for why c2pa-js does not read the
file. Without node or ``npm ci --prefix tests/interop/c2pa-js``, those checks skip; the attack
tests on provsdk's own verifier always run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_conformance import MODULE as JSON_FORMULA
from test_conformance import SIGNALS, crjson, evaluate, load_rubric, run_node, verdict
from test_disclosure_grants import STUDIO, scope_grant

from provsdk.attach import attach_grant
from provsdk.audio.codec import encode
from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat
from provsdk.c2pa_access import open_reader
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.grants import sign_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file
from provsdk.verify import verify_file

C2PA_JS = Path(__file__).resolve().parent / "interop" / "c2pa-js"
MODULE = C2PA_JS / "node_modules" / "c2pa" / "package.json"
NODE = shutil.which("node")
TRAINED = DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA
MODEL = SoftwareAgent("provsdk-local", "2.0")  # the model scope grants name


@dataclass(frozen=True)
class Studio:
    root: Path
    trust: TrustConfig
    producer: KeySigner
    licensor: KeySigner
    stranger: KeySigner  # a producer this studio does not trust


def _raw(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal(22050) * 3000).astype(np.int16)
    encode(np.stack([samples, samples], axis=1), 22050, AudioFormat.WAV, path)
    return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    root = tmp_path_factory.mktemp("origin-forward")
    home = ProvsdkHome(root / "home")
    init_dev_pki(home, organization=STUDIO)
    elsewhere = ProvsdkHome(root / "elsewhere")
    init_dev_pki(elsewhere, organization=STUDIO)  # same name, other keys: not trusted here
    return Studio(
        root=root,
        trust=TrustConfig.load(home),
        producer=load_signer(Role.PRODUCER, home=home, use_env=False),
        licensor=load_signer(Role.LICENSOR, home=home, use_env=False),
        stranger=load_signer(Role.PRODUCER, home=elsewhere, use_env=False),
    )


def _signed(studio: Studio, name: str, source: DigitalSourceType, signer: KeySigner) -> Path:
    dest = studio.root / f"{name}.wav"
    spec = ManifestSpec(title=name, source_type=source, software_agent=MODEL)
    sign_file(_raw(studio.root / f"{name}.raw.wav", seed=len(name)), dest, spec, signer)
    return dest


def _attached(studio: Studio, source: Path, name: str, *, for_file: bool = False) -> Path:
    # A grant naming the file binds its audio; one naming the model needs a trusted history.
    grant = scope_grant(target_file=source, scope_model=None) if for_file else scope_grant()
    dest = studio.root / f"{name}.wav"
    token = sign_grant(grant, studio.licensor)
    attach_grant([source], token, signer=studio.producer, trust=studio.trust, out=dest)
    return dest


def _store(path: Path) -> Any:
    """The manifest store as c2pa-rs reports it (JSON), the input c2pa-js's reader gives it."""
    with open_reader(path, probe(path)) as reader:
        return json.loads(reader.json())


def _actions(path: Path) -> list[dict[str, Any]]:
    store = _store(path)
    active = store["manifests"][store["active_manifest"]]
    found = [a for a in active["assertions"] if a["label"] == "c2pa.actions.v2"]
    assert len(found) == 1, found
    actions: list[dict[str, Any]] = found[0]["data"]["actions"]
    return actions


def c2pa_js_generative(paths: dict[str, Path]) -> dict[str, Any]:
    """What c2pa-js's selectGenerativeInfo finds on each file's active manifest."""
    if NODE is None:
        pytest.skip("node is not on PATH: c2pa-js cannot run")
    if not MODULE.is_file():
        pytest.skip("c2pa-js is not installed: run `npm ci --prefix tests/interop/c2pa-js`")
    found: dict[str, Any] = run_node(
        C2PA_JS / "select.mjs", {name: _store(path) for name, path in paths.items()}
    )
    return found


# --- the source type stays on the active manifest ---------------------------------------------


def test_grant_attach_keeps_ai_origin_visible_to_a_viewer_of_the_active_manifest(
    studio: Studio,
) -> None:
    made = _signed(studio, "made", TRAINED, studio.producer)
    once = _attached(studio, made, "once")
    twice = _attached(studio, once, "twice", for_file=True)  # a second grant, over the first
    for path in (once, twice):
        opened, restated = _actions(path)
        assert opened["action"] == "c2pa.opened" and "digitalSourceType" not in opened
        assert restated == {
            "action": "c2pa.edited.metadata",
            "digitalSourceType": TRAINED.value,
            "description": restated["description"],
        }
    origin = verify_file(twice, trust=studio.trust).origin
    assert origin.trusted and origin.digital_source_type == TRAINED.value  # still the creation's
    found = c2pa_js_generative({"made": made, "once": once, "twice": twice})
    assert found["made"] == [
        {
            "type": "trainedAlgorithmicMedia",
            "action": "c2pa.created",
            "softwareAgent": {"name": "provsdk-local", "version": "2.0"},
        }
    ]
    # No software agent: c2pa-js would list it as the AI tool, and provsdk generated nothing.
    restated_info = [
        {"type": "trainedAlgorithmicMedia", "action": "c2pa.edited.metadata", "softwareAgent": None}
    ]
    assert found["once"] == restated_info
    assert found["twice"] == restated_info


def test_a_non_ai_origin_is_restated_as_it_is_and_c2pa_js_shows_no_ai(studio: Studio) -> None:
    """The restatement copies the history's source type; it never turns into an AI claim."""
    made = _signed(studio, "person", DigitalSourceType.DIGITAL_CREATION, studio.producer)
    once = _attached(studio, made, "person-granted", for_file=True)
    assert _actions(once)[1]["digitalSourceType"] == DigitalSourceType.DIGITAL_CREATION.value
    assert c2pa_js_generative({"once": once}) == {"once": None}


def test_the_conformance_signals_read_the_restatement_as_a_non_editorial_step(
    studio: Studio,
) -> None:
    """The program's signals rubric labels each manifest on its own. The attach manifest must
    read as a non-editorial step, complete and unambiguous, not as a GenAI edit of the audio;
    the manifest that made the audio keeps the fully-GenAI inception signal."""
    if NODE is None or not JSON_FORMULA.is_file():
        pytest.skip("json-formula is not installed: run `npm ci --prefix tests/conformance`")
    made = _signed(studio, "labelled", TRAINED, studio.producer)
    once = _attached(studio, made, "labelled-granted")
    attach, creation = crjson(once, studio.trust.producer)["manifests"]
    rubric = load_rubric(SIGNALS)
    found = evaluate(rubric, {"attach": attach, "creation": creation})
    signals = {
        doc: {s.id.split(":")[1] for s in rubric.statements if verdict(s, found[doc][s.id])[0]}
        for doc in found
    }
    assert signals == {
        "attach": {"signal_nonEditorial"},
        "creation": {"signal_fullyGenAIMedia"},
    }


# --- attacks: the restatement is no way into trust ---------------------------------------------


def test_attach_over_an_untrusted_history_restates_nothing(studio: Studio) -> None:
    """An untrusted first manifest claiming a human recording, given a trusted grant: signing
    that claim again under the studio's trusted key would launder it, so nothing is restated."""
    forged = _signed(studio, "forged", DigitalSourceType.DIGITAL_CAPTURE, studio.stranger)
    granted = _attached(studio, forged, "forged-granted", for_file=True)
    assert [a["action"] for a in _actions(granted)] == ["c2pa.opened"]
    origin = verify_file(granted, trust=studio.trust).origin
    assert origin.trusted is False
    assert c2pa_js_generative({"granted": granted}) == {"granted": None}


def test_a_restated_source_type_over_an_untrusted_history_earns_no_trusted_origin(
    studio: Studio,
) -> None:
    """A trusted signer who restates a source type over a history it does not vouch for (a
    caller bypassing attach's check) gives provsdk's verifier nothing to credit: origin comes
    only from the creating manifest, through an unbroken trusted chain."""
    forged = _signed(studio, "forged-capture", DigitalSourceType.DIGITAL_CAPTURE, studio.stranger)
    dest = studio.root / "laundered.wav"
    spec = ManifestSpec(
        title="laundered",
        software_agent=SoftwareAgent("provsdk", "0"),
        has_parent=True,
        restated_source_type=TRAINED,
    )
    sign_file(forged, dest, spec, studio.producer)
    assert _actions(dest)[1]["action"] == "c2pa.edited.metadata"
    report = verify_file(dest, trust=studio.trust)
    # What is shown comes from the creating manifest, never from the restatement, and is not
    # credited: no trusted origin, so no scope grant or disclosure can lean on it.
    assert report.origin.trusted is False
    assert report.origin.digital_source_type == DigitalSourceType.DIGITAL_CAPTURE.value
    assert report.origin.ai_generated is False
    # Nor does a restated type on a manifest of its own creating count as a creation.
    own = studio.root / "own.wav"
    sign_file(
        _raw(studio.root / "own.raw.wav", seed=7),
        own,
        ManifestSpec(
            title="own",
            source_type=DigitalSourceType.DIGITAL_CREATION,
            software_agent=MODEL,
            restated_source_type=TRAINED,
        ),
        studio.producer,
    )
    assert [a["action"] for a in _actions(own)] == ["c2pa.created"]
    assert verify_file(own, trust=studio.trust).origin.ai_generated is False
