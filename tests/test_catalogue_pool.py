"""The local engine: worker processes give every file the record a serial run gives it, in
input order or as files finish, and a worker that dies costs its file, not the run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from catalogue_files import catalogue, tiny_signed

from provsdk.catalogue.pool import WorkerCrashError, run_local
from provsdk.catalogue.task import EXIT_ERROR, CatalogueSettings, Job, Outcome
from provsdk.catalogue.walk import iter_files
from provsdk.credentials import TrustConfig
from provsdk.credentials.signers import KeySigner
from provsdk.manifest import ManifestSpec
from provsdk.models.report import VerificationReport
from provsdk.sign.atomic import TEMP_SUFFIX
from provsdk.verify.verifier import AUDIO_SUFFIXES, expand_paths

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory, producer_signer: KeySigner, spec: ManifestSpec
) -> Path:
    return tiny_signed(tmp_path_factory.mktemp("tiny"), producer_signer, spec)


@pytest.fixture
def mixed(tmp_path: Path, tiny: Path) -> list[Path]:
    """Twelve signed copies, a file that is not audio, and an unsigned MP3."""
    files = catalogue(tmp_path / "cat", tiny, 12)
    junk = tmp_path / "cat" / "track-00004-junk.wav"
    junk.write_bytes(b"not audio at all")
    unsigned = tmp_path / "cat" / "track-00007-unsigned.mp3"
    shutil.copyfile(VECTORS / "sample1.mp3", unsigned)
    return sorted([*files, junk, unsigned])


def _jobs(files: list[Path]) -> list[Job]:
    return [Job(str(p)) for p in files]


def _by_path(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {o.path: o for o in outcomes}


def test_two_workers_give_every_file_the_record_one_process_gives(
    mixed: list[Path], trust: TrustConfig
) -> None:
    settings = CatalogueSettings.of(trust, digest=True)
    serial = list(run_local(_jobs(mixed), settings, workers=1))
    pooled = list(run_local(_jobs(mixed), settings, workers=2))
    assert [o.path for o in serial] == [str(p) for p in mixed]
    assert [o.path for o in pooled] == [str(p) for p in mixed]  # input order
    assert [o.record for o in pooled] == [o.record for o in serial]
    assert [o.exit for o in pooled] == [o.exit for o in serial]
    exits = _by_path(serial)
    assert exits[str(mixed[0])].exit == 0
    assert any(o.exit == EXIT_ERROR for o in serial)
    assert any(o.exit == 1 for o in serial)


def test_finish_order_yields_the_same_records_as_input_order(
    mixed: list[Path], trust: TrustConfig
) -> None:
    settings = CatalogueSettings.of(trust)
    ordered = list(run_local(_jobs(mixed), settings, workers=2))
    finished = list(run_local(_jobs(mixed), settings, workers=2, ordered=False))
    assert sorted(o.path for o in finished) == sorted(o.path for o in ordered)
    assert {o.path: o.record for o in finished} == {o.path: o.record for o in ordered}


def _dies_on_doomed(report: VerificationReport) -> str:
    """A renderer that kills its worker process on files named ``doomed``: a stand-in for a
    native crash (it runs in the worker, where a segfault in c2pa would)."""
    if "doomed" in report.path:
        os._exit(70)
    return "rendered\n"


@pytest.mark.slow  # pools started again and again: seconds each on a loaded machine
def test_a_worker_killed_by_one_file_costs_that_file_not_the_run(
    tmp_path: Path, tiny: Path, trust: TrustConfig
) -> None:
    files = catalogue(tmp_path, tiny, 20)
    doomed = tmp_path / "track-00009-doomed.wav"
    shutil.copyfile(tiny, doomed)
    files = sorted([*files, doomed])
    settings = CatalogueSettings.of(trust)
    outcomes = list(run_local(_jobs(files), settings, workers=2, render=_dies_on_doomed))
    assert [o.path for o in outcomes] == [str(p) for p in files]
    crashed = [o for o in outcomes if o.exit == EXIT_ERROR]
    assert [o.path for o in crashed] == [str(doomed)]
    record = crashed[0].record
    assert record is not None
    assert record["reasons"][0].startswith("engine.worker-died")
    assert "sha256" not in record["file"]  # never reused by a resumed run: tried again
    assert all(o.exit == 0 and o.text == "rendered\n" for o in outcomes if o not in crashed)


@pytest.mark.slow
def test_files_that_keep_killing_workers_stop_the_run_with_one_line(
    tmp_path: Path, tiny: Path, trust: TrustConfig
) -> None:
    files = [tmp_path / f"doomed-{i}.wav" for i in range(4)]
    for path in files:
        shutil.copyfile(tiny, path)
    run = run_local(_jobs(files), CatalogueSettings.of(trust), workers=2, render=_dies_on_doomed)
    with pytest.raises(WorkerCrashError) as caught:
        list(run)
    assert "\n" not in str(caught.value)
    assert "killed the worker" in str(caught.value)


def test_one_file_is_verified_in_this_process(tiny: Path, trust: TrustConfig) -> None:
    # Starting a pool for one file would only cost its start: the text says which process
    # rendered the report.
    [outcome] = run_local([Job(str(tiny))], CatalogueSettings.of(trust), workers=8, render=_pid)
    assert outcome.text == f"{os.getpid()}\n"


def _pid(report: VerificationReport) -> str:
    return f"{os.getpid()}\n"


def _shows_mark(report: VerificationReport) -> str:
    return f"{os.getpid()} {os.environ.get('PROVSDK_TEST_POOL_MARK')}\n"


def test_a_variable_set_after_the_first_pool_reaches_the_next_pools_workers(
    tmp_path: Path, tiny: Path, trust: TrustConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers fork from a server started with the first pool, whose environment it kept: a
    # repository key set since must still reach them, as it reached spawned ones.
    files = catalogue(tmp_path, tiny, 4)
    settings = CatalogueSettings.of(trust)
    monkeypatch.setenv("PROVSDK_TEST_POOL_MARK", "before")
    first = list(run_local(_jobs(files), settings, workers=2, render=_shows_mark))
    monkeypatch.setenv("PROVSDK_TEST_POOL_MARK", "after")
    second = list(run_local(_jobs(files), settings, workers=2, render=_shows_mark))
    monkeypatch.delenv("PROVSDK_TEST_POOL_MARK")
    third = list(run_local(_jobs(files), settings, workers=2, render=_shows_mark))
    pids = {str(os.getpid())}
    for outcomes, mark in ((first, "before"), (second, "after"), (third, "None")):
        texts = [o.text or "" for o in outcomes]
        assert [t.split()[1] for t in texts] == [mark] * len(files)
        assert not pids & {t.split()[0] for t in texts}  # verified in workers, not here


def _old_expand_paths(paths: list[Path]) -> list[Path]:
    """What ``expand_paths`` did before it streamed: every path of the tree, sorted."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        for child in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
            if (
                child.is_file()
                and not hidden
                and child.suffix.lower() in AUDIO_SUFFIXES
                and not child.name.endswith(TEMP_SUFFIX)
            ):
                out.append(child)
    return out


def test_the_streaming_walk_selects_and_orders_as_the_sorted_tree_did(tmp_path: Path) -> None:
    names = [
        "a.wav", "a/b.WAV", "a b.mp3", "a/.hidden.wav", ".hidden/x.wav", "z/y/x.flac",
        "z/notes.txt", "half.wav" + TEMP_SUFFIX, "a-/c.wav", "a.wav.d/q.mp3", "Z.wav",
        "ü.wav", "dir.wav/in.m4a",
    ]  # fmt: skip
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link.wav").symlink_to(tmp_path / "a.wav")
    named = [tmp_path, tmp_path / "z" / "notes.txt"]
    assert list(iter_files(named)) == _old_expand_paths(named)
    assert list(expand_paths(named)) == _old_expand_paths(named)
    assert tmp_path / "z" / "notes.txt" in list(iter_files(named))  # named: whatever its name


def test_a_uri_and_its_local_path_are_looked_up_in_the_same_repository(
    tmp_path: Path, trust: TrustConfig, vectors: Path
) -> None:
    """The Ray engine verifies URIs through the same worker as local paths: a file with no
    manifest is looked up in the one repository the worker opened, named alike either way."""
    from provsdk.catalogue.pool import Worker
    from provsdk.repository import open_repository

    repo = tmp_path / "repo.sqlite"
    open_repository(repo, create=True)
    unsigned = tmp_path / "unsigned.flac"
    shutil.copyfile(vectors / "sample1.flac", unsigned)
    worker = Worker(CatalogueSettings.of(trust, repository=str(repo)), None)
    here = worker.run(Job(str(unsigned))).record
    there = worker.run(Job(unsigned.as_uri())).record
    assert here is not None and there is not None
    assert here["soft_binding"]["state"] == "no-match"
    assert there["soft_binding"] == here["soft_binding"]
