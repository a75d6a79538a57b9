"""inspect_file: the manifest store as c2pa reads it, raw and parsed, for real signed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provsdk.credentials import Role, TrustConfig, TrustStore
from provsdk.errors import InputError
from provsdk.models import C2paState
from provsdk.verify.inspect import inspect_file


@pytest.mark.parametrize("ext", ["wav", "mp3"])
def test_a_signed_file_is_shown_raw_and_parsed(
    signed_files: dict[str, Path], trust: TrustConfig, ext: str
) -> None:
    path = signed_files[ext]
    before = path.read_bytes()
    inspected = inspect_file(path, trust.producer)
    assert inspected.raw is not None and inspected.audio.format.name.lower() == ext
    assert inspected.document == json.loads(inspected.raw)
    store = inspected.store
    assert store is not None and store.active is not None
    assert store.state is C2paState.TRUSTED
    assert inspected.document["active_manifest"] == store.active.label
    assert path.read_bytes() == before  # inspecting never writes


def test_the_state_follows_the_anchors_given(
    signed_files: dict[str, Path], trust: TrustConfig
) -> None:
    store = inspect_file(signed_files["wav"], TrustStore(Role.PRODUCER)).store
    assert store is not None and store.state is C2paState.VALID
    # Another role's anchors do not make a producer trusted.
    other = inspect_file(signed_files["wav"], trust.licensor).store
    assert other is not None and other.state is not C2paState.TRUSTED


def test_a_file_without_a_manifest(vectors: Path, trust: TrustConfig) -> None:
    inspected = inspect_file(vectors / "sample1.wav", trust.producer)
    assert (inspected.raw, inspected.store) == (None, None)
    assert inspected.document == {"manifests": {}, "active_manifest": None}


def test_a_manifest_c2pa_cannot_read_is_an_input_error(
    signed_files: dict[str, Path], trust: TrustConfig, tmp_path: Path
) -> None:
    data = bytearray(signed_files["wav"].read_bytes())
    at = data.find(b"jumb")
    assert at > 0
    data[at + 40 : at + 200] = b"\xff" * 160  # the store's boxes, overwritten
    broken = tmp_path / "broken.wav"
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match="c2pa cannot read the manifest store") as refused:
        inspect_file(broken, trust.producer)
    assert refused.value.path == broken
