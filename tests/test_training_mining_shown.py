"""The file's own training-and-mining permissions (CAWG) are shown by ``verify``.

People read what a track permits (AI training, generative training, data mining, inference)
next to its origin; machines get it in ``--json``. The entries are text a file's author
wrote: shown inert, an unknown value shown as reserved (never as allowed), and from an
untrusted manifest marked as shown, not counted.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provsdk import Client, TrainingMining, verify_file
from provsdk.credentials import KeySigner, TrustConfig
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType
from provsdk.sign import sign_file
from provsdk_cli.main import cli

HOSTILE = "Evil\x1b[2J\x07\u202eoiduts\nPASS"
FORBIDDEN = ("\x1b", "\x07", "\u202e", "oiduts\nPASS")


@dataclasses.dataclass(frozen=True)
class _Written(TrainingMining):
    """Entries exactly as an attacker writes them, past what the model would allow."""

    raw: tuple[tuple[str, Any], ...] = ()

    def entries(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.raw)


@pytest.fixture(scope="module")
def permissive(dev_home: ProvsdkHome, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated track that allows inference and constrains generative training."""
    mining = TrainingMining(
        ai_training="notAllowed",
        ai_generative_training="constrained",
        ai_inference="allowed",
        data_mining="notAllowed",
    )
    out = tmp_path_factory.mktemp("mining") / "track.wav"
    with Client(home=dev_home, training_mining=mining) as client:
        client.generate("warm lofi", out=out, duration=1.0, seed=2)
    return out


def _verify(home: Path, *args: str | Path) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), "verify", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


def test_verify_shows_what_the_track_permits(permissive: Path, trust: TrustConfig) -> None:
    mining = verify_file(permissive, trust=trust).origin.training_mining
    assert mining.present and mining.trusted
    assert {u.key: u.use for u in mining.uses} == {
        "cawg.ai_training": "notAllowed",
        "cawg.ai_generative_training": "constrained",
        "cawg.data_mining": "notAllowed",
        "cawg.ai_inference": "allowed",
    }


def test_verify_for_people_names_each_use(permissive: Path, dev_home: ProvsdkHome) -> None:
    output = _verify(dev_home.root, permissive)
    line = next(x for x in output.splitlines() if x.strip().startswith("mining"))
    assert line.split(None, 1)[1] == (
        "AI training: not allowed; generative training: constrained; "
        "data mining: not allowed; inference: allowed"
    )


def test_verify_json_carries_the_uses_by_their_cawg_names(
    permissive: Path, dev_home: ProvsdkHome
) -> None:
    data = json.loads(_verify(dev_home.root, "--json", permissive))
    mining = data["files"][0]["origin"]["training_mining"]
    assert mining["present"] is True and mining["trusted"] is True
    assert mining["uses"]["cawg.ai_inference"] == {
        "use": "allowed",
        "stated": "allowed",
        "constraint_info": None,
    }
    assert mining["uses"]["cawg.ai_training"]["use"] == "notAllowed"


def test_permissions_of_an_untrusted_manifest_are_marked_not_counted(
    permissive: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"  # a home that trusts nobody
    mining = verify_file(permissive, trust=TrustConfig.load(ProvsdkHome(stranger)))
    assert mining.origin.training_mining.present
    assert not mining.origin.training_mining.trusted
    # The attack: a self-signed manifest says "allowed"; a JSON reader of `use` must not count it.
    uses = {u.key: u for u in mining.origin.training_mining.uses}
    assert uses["cawg.ai_inference"].stated == "allowed"
    assert all(u.use == "notAllowed" for u in uses.values())
    output = _verify(stranger, permissive)
    line = next(x for x in output.splitlines() if x.strip().startswith("mining"))
    assert "inference: allowed" in line and "(untrusted manifest" in line


@pytest.fixture(scope="module")
def hostile(
    vectors: Path, producer_signer: KeySigner, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A signed file whose training-mining entries hold hostile text and unknown values."""
    written = _Written(
        raw=(
            ("cawg.ai_training", {"use": f"allowed{HOSTILE}"}),
            ("cawg.ai_generative_training", {"use": "yes"}),
            ("cawg.data_mining", {"use": "constrained", "constraint_info": HOSTILE}),
            ("cawg.ai_inference", "allowed"),  # not an entry at all
        )
    )
    spec = ManifestSpec(
        title="hostile",
        source_type=DigitalSourceType.DIGITAL_CREATION,
        training_mining=written,
    )
    out = tmp_path_factory.mktemp("mining-hostile") / "hostile.wav"
    sign_file(vectors / "sample1.wav", out, spec, producer_signer)
    return out


def test_unknown_mining_values_reserve_the_use(hostile: Path, trust: TrustConfig) -> None:
    uses = {u.key: u for u in verify_file(hostile, trust=trust).origin.training_mining.uses}
    assert uses["cawg.ai_training"].use == "notAllowed"
    assert uses["cawg.ai_training"].stated == f"allowed{HOSTILE}"
    assert uses["cawg.ai_generative_training"].use == "notAllowed"
    assert uses["cawg.ai_inference"].use == "notAllowed"
    assert uses["cawg.ai_inference"].stated is None
    assert uses["cawg.data_mining"].constraint_info == HOSTILE


def test_hostile_mining_text_is_shown_inert(hostile: Path, dev_home: ProvsdkHome) -> None:
    output = _verify(dev_home.root, hostile)
    for raw in FORBIDDEN:
        assert raw not in output, (raw, output)
    line = next(x for x in output.splitlines() if x.strip().startswith("mining"))
    assert "AI training: reserved (unknown value" in line
    assert "\\x1b[2J\\x07\\u202eoiduts\\nPASS" in line
    assert "generative training: reserved (unknown value 'yes')" in line
    assert "inference: reserved (not stated)" in line
    assert ": allowed" not in line
    data = json.loads(_verify(dev_home.root, "--json", hostile))  # exact, in ASCII JSON
    uses = data["files"][0]["origin"]["training_mining"]["uses"]
    assert uses["cawg.data_mining"]["constraint_info"] == HOSTILE
