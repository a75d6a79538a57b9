"""The Ray engine gives every file the record a serial run gives it, byte for byte.

One local Ray run (two workers, as this machine has two cores) verifies a small catalogue of
real files: passes, an untrusted signer, tampered audio, unsigned audio, a text file named
directly, a missing file, objects under a ``file://`` URI (pyarrow's local filesystem, the
same code path as ``s3://``), a missing object, and resumed jobs. Each outcome is compared
with :func:`verify_task` (or, for URIs, :func:`verify_remote`) run in this process.
"""

from __future__ import annotations

import json
import operator
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_tamper_matrix import flipped
from test_verdict_attacks import write_noise

from provsdk.catalogue.remote import is_uri, iter_uri_files, verify_remote
from provsdk.catalogue.task import (
    CatalogueSettings,
    Job,
    Outcome,
    file_digest,
    verify_task,
)
from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.errors import ConfigurationError
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.sign import TEMP_SUFFIX, sign_file
from provsdk.verify import expand_paths

pytestmark = [
    pytest.mark.xdist_group("ray"),
    # Ray copies its DataContext for each dataset, warning about its own renamed settings.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]

# Picklable, importable by a Ray worker: the text each outcome carries is rendered there.
RENDER: Callable[..., str] = operator.attrgetter("verdict.value")


@dataclass(frozen=True)
class Catalogue:
    root: Path
    jobs: list[Job]
    kinds: dict[str, str]  # job path -> what the file is
    folder_uri: str  # a file:// folder holding some of the files


@pytest.fixture(scope="module")
def catalogue(
    tmp_path_factory: pytest.TempPathFactory, producer_signer: KeySigner, spec: ManifestSpec
) -> Catalogue:
    root = tmp_path_factory.mktemp("ray-catalogue")
    unsigned = write_noise(root / "unsigned.wav", 1)
    signed = root / "pass_00.wav"
    sign_file(unsigned, signed, spec, producer_signer)
    stranger = ProvsdkHome(root / "stranger-home")
    init_dev_pki(stranger)
    untrusted = root / "untrusted.wav"
    sign_file(
        write_noise(root / "u.wav", 2),
        untrusted,
        spec,
        load_signer(Role.PRODUCER, home=stranger, use_env=False),
    )
    tampered = root / "tampered.wav"
    tampered.write_bytes(flipped(signed.read_bytes(), 1000))  # a sample just after the header
    notes = root / "notes.txt"
    notes.write_text("not audio\n")

    kinds = {
        str(signed): "pass",
        str(untrusted): "untrusted",
        str(tampered): "tampered",
        str(unsigned): "unsigned",
        str(notes): "not audio",
        str(root / "missing.wav"): "missing",
    }
    # Copies of one signed file verify alike: enough files for several batches and chunks.
    for i in range(1, 14):
        copy = root / f"pass_{i:02d}.wav"
        shutil.copy2(signed, copy)
        kinds[str(copy)] = "pass"
    # Relative to the folder the run is made from; records name them as given.
    kinds["pass_13.wav"] = "pass"
    kinds["nowhere.wav"] = "missing"

    remote = root / "bucket"
    (remote / "sub").mkdir(parents=True)
    shutil.copy2(signed, remote / "b.wav")
    shutil.copy2(tampered, remote / "sub" / "a.wav")
    shutil.copy2(signed, remote / "a.WAV")
    shutil.copy2(signed, remote / ".hidden.wav")  # hidden: not walked
    shutil.copy2(notes, remote / "readme.txt")  # not audio by suffix: not walked
    shutil.copy2(signed, remote / f"c.wav{TEMP_SUFFIX}")  # a writer's temporary: not walked
    folder_uri = remote.as_uri()
    uris = list(iter_uri_files(folder_uri))
    for uri in uris:
        kinds[uri] = "object"
    kinds[f"{folder_uri}/gone.wav"] = "missing object"

    jobs = [Job(path) for path in kinds]
    # Resumed: the same bytes as recorded are not verified again; other bytes are.
    jobs.append(Job(str(root / "pass_03.wav"), prior_sha256=file_digest(signed)))
    jobs.append(Job(str(tampered), prior_sha256=file_digest(signed)))
    jobs.append(Job(f"{folder_uri}/b.wav", prior_sha256=file_digest(signed)))
    return Catalogue(root, jobs, kinds, folder_uri)


@pytest.fixture(scope="module")
def settings(trust: TrustConfig) -> CatalogueSettings:
    return CatalogueSettings.of(trust)


def _serial(job: Job, settings: CatalogueSettings) -> Outcome:
    if is_uri(job.path):
        return verify_remote(job.path, settings, prior_sha256=job.prior_sha256, render=RENDER)
    return verify_task(job.path, settings, prior_sha256=job.prior_sha256, render=RENDER)


@dataclass(frozen=True)
class Runs:
    ray: list[Outcome]
    serial: list[Outcome]
    ray_left_running: bool


@pytest.fixture(scope="module")
def runs(catalogue: Catalogue, settings: CatalogueSettings) -> Runs:
    """One local Ray run for the whole module (small chunks, so there are two of them), and a
    serial run of the same jobs; both from the catalogue's folder, as a CLI run there would
    be, since some paths are relative."""
    pytest.importorskip("ray")
    import ray

    from provsdk.catalogue.ray_engine import run_ray

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(catalogue.root)
        on_ray = list(run_ray(catalogue.jobs, settings, workers=2, render=RENDER, first_chunk=16))
        serial = [_serial(job, settings) for job in catalogue.jobs]
    return Runs(on_ray, serial, ray.is_initialized())


def _json(outcome: Outcome) -> str:
    return json.dumps([outcome.path, outcome.record, outcome.exit, outcome.text, outcome.unchanged])


def _records_are_byte_for_byte_a_serial_runs(catalogue: Catalogue, runs: Runs) -> None:
    assert len(runs.ray) == len(catalogue.jobs)
    for job, on_ray, serial in zip(catalogue.jobs, runs.ray, runs.serial, strict=True):
        assert _json(on_ray) == _json(serial), job


def _the_local_ray_a_run_started_is_stopped_when_it_ends(runs: Runs) -> None:
    assert not runs.ray_left_running


def _each_kind_of_file_gets_its_own_verdict(catalogue: Catalogue, runs: Runs) -> None:
    by_kind: dict[str, list[Outcome]] = {}
    for job, outcome in zip(catalogue.jobs, runs.ray, strict=True):
        if job.prior_sha256 is None:
            by_kind.setdefault(catalogue.kinds[job.path], []).append(outcome)

    def codes(outcome: Outcome) -> set[str]:
        assert outcome.record is not None
        return {reason.split(":", 1)[0] for reason in outcome.record["reasons"]}

    assert {(o.exit, o.text) for o in by_kind["pass"]} == {(0, "pass")}
    (untrusted,) = by_kind["untrusted"]
    assert untrusted.exit == 1 and "signingCredential.untrusted" in codes(untrusted)
    (tampered,) = by_kind["tampered"]
    assert tampered.exit == 1 and "assertion.dataHash.mismatch" in codes(tampered)
    (unsigned,) = by_kind["unsigned"]
    assert unsigned.exit == 1 and "c2pa.absent" in codes(unsigned)
    (notes,) = by_kind["not audio"]
    assert notes.exit == 2 and codes(notes) == {"input.unsupported"}
    for missing in by_kind["missing"] + by_kind["missing object"]:
        assert missing.exit == 2 and codes(missing) == {"input.unreadable"}
        assert missing.record is not None
        assert missing.record["error"].startswith(f"{missing.path}: ")


def _the_input_order_is_kept(catalogue: Catalogue, runs: Runs) -> None:
    assert [o.path for o in runs.ray] == [job.path for job in catalogue.jobs]


def test_a_folder_uri_is_walked_as_the_same_local_folder_is(catalogue: Catalogue) -> None:
    base = catalogue.folder_uri
    local = catalogue.root / "bucket"
    walked = list(iter_uri_files(base))
    # Same files, same order; hidden files, other suffixes and temporaries left out.
    assert walked == [f"{base}/{p.relative_to(local).as_posix()}" for p in expand_paths([local])]
    assert walked == [f"{base}/a.WAV", f"{base}/b.wav", f"{base}/sub/a.wav"]
    # A trailing slash, and a file URI, as given.
    assert list(iter_uri_files(base + "/")) == walked
    assert list(iter_uri_files(f"{base}/b.wav")) == [f"{base}/b.wav"]
    assert list(iter_uri_files(f"{base}/gone.wav")) == [f"{base}/gone.wav"]
    assert is_uri(base) and is_uri("s3://bucket/key.wav")
    assert not is_uri("C:\\music\\a.wav") and not is_uri("music/a.wav")


def _objects_under_a_uri_are_named_by_their_uri_not_by_the_local_copy(
    catalogue: Catalogue, settings: CatalogueSettings, runs: Runs
) -> None:
    base = catalogue.folder_uri
    local = catalogue.root / "bucket"
    for job, outcome in zip(catalogue.jobs, runs.ray, strict=True):
        if catalogue.kinds.get(job.path) != "object" or job.prior_sha256:
            continue
        assert outcome.record is not None
        assert outcome.record["path"] == job.path
        # Nothing names the temporary copy (made as provsdk-*.wav in the worker's temp folder).
        assert "provsdk-" not in json.dumps(outcome.record).replace(job.path, "")
        # The object's facts, not its copy's: its size and modification time.
        local_file = local / job.path.removeprefix(base + "/")
        st = local_file.stat()
        assert outcome.record["file"] == {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        # And the same verdict as the file verified where it lies.
        there = verify_task(local_file, settings, name=job.path, render=RENDER)
        assert _json(outcome) == _json(there)


def _resumed_jobs_whose_bytes_match_are_not_verified_again(
    catalogue: Catalogue, runs: Runs
) -> None:
    resumed = [
        (job, o) for job, o in zip(catalogue.jobs, runs.ray, strict=True) if job.prior_sha256
    ]
    assert [(o.unchanged, o.record is None) for _, o in resumed] == [
        (True, True),  # pass_03: the same bytes
        (False, False),  # tampered: other bytes, verified, its digest recorded
        (True, True),  # an object under the URI: the same bytes
    ]
    record = resumed[1][1].record
    assert record is not None and record["file"]["sha256"] == file_digest(resumed[1][0].path)


def test_verify_engine_ray_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, settings: CatalogueSettings
) -> None:
    from provsdk.catalogue.ray_engine import run_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ConfigurationError) as caught:
        run_ray([], settings)
    assert "pip install 'provsdk[ray]'" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_ray_gives_every_file_the_record_a_serial_run_gives(
    catalogue: Catalogue, settings: CatalogueSettings, runs: Runs
) -> None:
    """Every check of the one Ray run is in this test, so pytest-xdist cannot spread them over
    its workers and start Ray once per worker."""
    _records_are_byte_for_byte_a_serial_runs(catalogue, runs)
    _the_input_order_is_kept(catalogue, runs)
    _each_kind_of_file_gets_its_own_verdict(catalogue, runs)
    _objects_under_a_uri_are_named_by_their_uri_not_by_the_local_copy(catalogue, settings, runs)
    _resumed_jobs_whose_bytes_match_are_not_verified_again(catalogue, runs)
    _the_local_ray_a_run_started_is_stopped_when_it_ends(runs)
