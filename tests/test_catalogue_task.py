"""The per-file step every catalogue engine runs, and the settings that cross to its workers."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import pickle
import shutil
from pathlib import Path

import pytest

from provsdk.catalogue import CatalogueSettings, Summary, verify_task
from provsdk.catalogue.task import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, file_digest
from provsdk.credentials.trust import TrustConfig
from provsdk.verify import RequireAiGenerated, verify_file
from provsdk.verify.policy import AllOf, RequireC2paState

WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _record_in_spawned_worker(settings: CatalogueSettings, path: str) -> str:
    outcome = verify_task(path, settings)
    assert outcome.record is not None
    return json.dumps(outcome.record, sort_keys=True)


def test_a_spawned_worker_gives_the_record_this_process_gives(
    trust: TrustConfig, signed_files: dict[str, Path]
) -> None:
    """Certificates do not pickle: the settings carry PEM text, and a worker that rebuilds
    the stores from it must judge the file exactly as the parent does."""
    settings = CatalogueSettings.of(trust, at=WHEN, digest=True)
    here = verify_task(signed_files["wav"], settings)
    assert here.exit == EXIT_PASS and here.record is not None
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        there = pool.apply(_record_in_spawned_worker, (settings, str(signed_files["wav"])))
    assert json.loads(there) == here.record


def test_the_record_is_the_verify_json_entry_plus_file_facts(
    trust: TrustConfig, signed_files: dict[str, Path]
) -> None:
    settings = CatalogueSettings.of(trust, at=WHEN, digest=True)
    outcome = verify_task(signed_files["mp3"], settings)
    assert outcome.record is not None
    entry = verify_file(signed_files["mp3"], trust=trust, at=WHEN).to_dict()
    record = dict(outcome.record)
    facts = record.pop("file")
    assert record.pop("settings") == settings.fingerprint
    assert record == entry
    stat = signed_files["mp3"].stat()
    assert facts == {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": file_digest(signed_files["mp3"]),
    }


def test_every_file_of_a_run_is_judged_at_the_runs_one_instant(
    trust: TrustConfig, signed_files: dict[str, Path]
) -> None:
    settings = CatalogueSettings.of(trust)
    first = verify_task(signed_files["wav"], settings).record
    second = verify_task(signed_files["flac"], settings).record
    assert first is not None and second is not None
    assert first["checked_at"] == second["checked_at"] == settings.checked_at.isoformat()


def test_fingerprint_names_what_a_verdict_depends_on(trust: TrustConfig, dev_home: object) -> None:
    base = CatalogueSettings.of(trust)
    assert CatalogueSettings.of(trust).fingerprint == base.fingerprint  # the run's own "now"
    stricter = AllOf([RequireC2paState(), RequireAiGenerated()])
    assert CatalogueSettings.of(trust, stricter).fingerprint != base.fingerprint
    assert CatalogueSettings.of(trust, at=WHEN).fingerprint != base.fingerprint
    assert CatalogueSettings.of(trust, repository="r.sqlite").fingerprint != base.fingerprint
    assert CatalogueSettings.of(TrustConfig()).fingerprint != base.fingerprint


def test_a_role_with_no_anchors_still_says_which_store_is_empty(
    tmp_path: Path, signed_files: dict[str, Path]
) -> None:
    """An empty store travels as its file name, so the worker's reason names it as the
    parent's would."""
    from provsdk.home import ProvsdkHome

    empty = TrustConfig.load(ProvsdkHome(tmp_path / "nobody"))
    settings = pickle.loads(pickle.dumps(CatalogueSettings.of(empty, at=WHEN)))
    outcome = verify_task(signed_files["wav"], settings)
    assert outcome.exit == EXIT_FAIL and outcome.record is not None
    expected = verify_file(signed_files["wav"], trust=empty, at=WHEN).to_dict()["reasons"]
    assert outcome.record["reasons"] == expected
    for role in ("producer", "provider", "licensor", "timestamp"):
        there = getattr(settings.trust(), role)
        assert there.empty_reason() == getattr(empty, role).empty_reason()
        assert str(tmp_path / "nobody") in there.empty_reason()


def test_unchanged_bytes_under_a_known_digest_are_not_verified_again(
    trust: TrustConfig, signed_files: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "a.wav"
    shutil.copy2(signed_files["wav"], copy)
    settings = CatalogueSettings.of(trust, at=WHEN, digest=True)
    first = verify_task(copy, settings)
    assert first.record is not None
    again = verify_task(copy, settings, prior_sha256=first.record["file"]["sha256"])
    assert again.unchanged and again.record is None


def test_bytes_swapped_under_the_same_size_and_mtime_are_verified_again(
    trust: TrustConfig, signed_files: dict[str, Path], tmp_path: Path
) -> None:
    """The attack on a resumable run: change a verified file's audio and put back its size and
    mtime, hoping the old PASS stands. The digest differs, so it is judged afresh."""
    victim = tmp_path / "a.wav"
    shutil.copy2(signed_files["wav"], victim)
    settings = CatalogueSettings.of(trust, at=WHEN, digest=True)
    first = verify_task(victim, settings)
    assert first.exit == EXIT_PASS and first.record is not None
    stat = victim.stat()
    data = bytearray(victim.read_bytes())
    data[4000] ^= 0xFF  # in the audio (the store is the last chunk)
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert victim.stat().st_size == first.record["file"]["size"]
    assert victim.stat().st_mtime_ns == first.record["file"]["mtime_ns"]
    again = verify_task(victim, settings, prior_sha256=first.record["file"]["sha256"])
    assert not again.unchanged and again.record is not None
    assert again.exit == EXIT_FAIL and again.record["verdict"] == "fail"


def test_a_missing_or_non_audio_file_is_an_error_record_not_an_exception(
    trust: TrustConfig, tmp_path: Path
) -> None:
    settings = CatalogueSettings.of(trust, at=WHEN)
    gone = verify_task(tmp_path / "gone.wav", settings)
    assert gone.exit == EXIT_ERROR and gone.record is not None
    assert gone.record["reasons"][0].startswith("input.unreadable:")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    junk = verify_task(text, settings)
    assert junk.exit == EXIT_ERROR and junk.record is not None and "error" in junk.record
    assert junk.record["file"]["size"] == len("not audio")


def test_a_remote_name_replaces_the_local_copy_in_record_and_text(
    trust: TrustConfig, signed_files: dict[str, Path]
) -> None:
    settings = CatalogueSettings.of(trust, at=WHEN)
    outcome = verify_task(
        signed_files["wav"],
        settings,
        name="s3://bucket/a.wav",
        render=lambda report: f"{report.verdict.value} {report.path}",
    )
    assert outcome.record is not None and outcome.record["path"] == "s3://bucket/a.wav"
    assert outcome.path == "s3://bucket/a.wav"
    assert outcome.text == "pass s3://bucket/a.wav"


@pytest.mark.parametrize(
    ("records", "line"),
    [
        ([{"verdict": "pass"}], "1 file: 1 pass, 0 fail"),
        (
            [{"verdict": "pass"}] * 2
            + [{"verdict": "fail", "reasons": ["policy.grant: no grant", "x: y"]}] * 2
            + [{"verdict": "fail", "reasons": ["input.unreadable: nope"], "error": "e"}],
            "5 files: 2 pass, 3 fail (2 policy.grant, 1 input.unreadable)",
        ),
    ],
)
def test_summary_line_counts_each_failure_once_by_its_first_reason(
    records: list[dict[str, object]], line: str
) -> None:
    summary = Summary()
    for record in records:
        summary.add(record)
    assert summary.line() == line


def test_summary_exit_status_and_long_tail() -> None:
    summary = Summary()
    assert summary.exit_status == 0
    for n in range(9):
        summary.add({"verdict": "fail", "reasons": [f"code.{n}: m"]})
    assert summary.exit_status == 1
    shown = ", ".join(f"1 code.{n}" for n in range(6))
    assert summary.line().endswith(f"({shown}, 3 other)")
    summary.add({"verdict": "fail", "reasons": ["input.unreadable: m"], "error": "m"}, resumed=True)
    assert summary.exit_status == 2
    assert summary.to_dict()["resumed"] == 1
    assert "1 unchanged since the last run" in summary.line()
