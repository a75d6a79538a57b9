"""Catalogue verification as an attacker sees it: a results file that resumes a run, settings
that cross into worker processes, a walk over hostile names and links, and the reports.

The rule under test: a verdict credits a file only with facts a trusted signature covers for
its current bytes. Each test is named after the attack; a test marked ``xfail(strict=True)``
is a hole that is still open (its reason names the fix), the others show a defence that holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import junitparser
import pytest
import test_cli_verify_catalogue as plain_catalogue
from catalogue_files import catalogue, tiny_signed
from cli_runner import provsdk_env, run_cli

from provsdk.catalogue.task import CatalogueSettings, file_digest
from provsdk.credentials.trust import TrustConfig
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.verify.policy_file import policy_from_dict

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"

# The same tiny signed track as the plain catalogue tests, made once per module; and their
# way of running `provsdk verify`.
tiny = plain_catalogue.tiny
_verify = plain_catalogue._verify


def _lines(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in results.read_text().splitlines()]


def _tampered(signed: Path, dest: Path) -> Path:
    """``signed`` with one audio sample flipped: same size, other bytes, its manifest fails."""
    data = bytearray(signed.read_bytes())
    data[-10] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def _folder_with_tampered(tmp_path: Path, signed: Path) -> Path:
    folder = tmp_path / "cat"
    folder.mkdir()
    return _tampered(signed, folder / "tampered.wav")


def _fingerprint(home: ProvsdkHome) -> str:
    """The settings fingerprint a default `provsdk verify` with ``home`` computes: nothing
    in it is secret."""
    return CatalogueSettings.of(TrustConfig.load(home)).fingerprint


def _forged_pass(path: Path, fingerprint: str, **fields: Any) -> dict[str, Any]:
    st = path.stat()
    record: dict[str, Any] = {
        "path": str(path),
        "verdict": "pass",
        "c2pa": {"state": "Trusted"},
        "reasons": [],
        "file": {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": file_digest(path)},
        "settings": fingerprint,
    }
    record.update(fields)
    return record


def _write_jsonl(results: Path, records: list[dict[str, Any]]) -> None:
    results.write_text("".join(json.dumps(r) + "\n" for r in records))


# --- Resuming from a results file -------------------------------------------------------------


def test_a_forged_results_record_makes_an_unsigned_file_pass(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    unsigned = folder / "unsigned.mp3"
    shutil.copyfile(VECTORS / "sample1.mp3", unsigned)
    results = tmp_path / "results.jsonl"
    _write_jsonl(results, [_forged_pass(unsigned, _fingerprint(dev_home))])
    run = _verify(dev_home, "--json", "--results", results, folder)
    assert run.returncode == 1, run.stdout
    assert json.loads(run.stdout)["summary"]["resumed"] == 0


def test_a_results_record_saying_pass_over_reasons_that_fail_is_counted_as_a_pass(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    """Not even a record at odds with itself (pass, over a failing state and reason) is
    questioned."""
    bad = _folder_with_tampered(tmp_path, tiny)
    folder = bad.parent
    results = tmp_path / "results.jsonl"
    contradictory = _forged_pass(
        bad,
        _fingerprint(dev_home),
        c2pa={"state": "Invalid"},
        reasons=["assertion.dataHash.mismatch: the audio was changed"],
    )
    _write_jsonl(results, [contradictory])
    run = _verify(dev_home, "--format", "table", "--results", results, folder)
    assert run.returncode == 1, run.stdout
    assert "1 fail" in run.stdout


def test_a_forged_parquet_results_file_makes_a_tampered_file_pass(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    """Parquet too: its provsdk.results marker is all that is checked, and anyone can
    write it."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    bad = _folder_with_tampered(tmp_path, tiny)
    folder = bad.parent
    record = _forged_pass(bad, _fingerprint(dev_home))
    columns = {
        "path": record["path"],
        "verdict": "pass",
        "reason": None,
        "size": record["file"]["size"],
        "mtime_ns": record["file"]["mtime_ns"],
        "sha256": record["file"]["sha256"],
        "settings": record["settings"],
        "record": json.dumps(record),
    }
    schema = pa.schema(
        [(k, pa.int64() if k in ("size", "mtime_ns") else pa.string()) for k in columns],
        metadata={b"provsdk.results": b"1"},
    )
    results = tmp_path / "results.parquet"
    pq.write_table(pa.Table.from_pylist([columns], schema=schema), results)
    run = _verify(dev_home, "--json", "--results", results, folder)
    assert run.returncode == 1, run.stdout


def _verified_once(home: ProvsdkHome, tmp_path: Path, signed: Path) -> tuple[Path, Path]:
    """A one-track catalogue and the results file of a run that passed it."""
    [track] = catalogue(tmp_path / "cat", signed, 1)
    results = tmp_path / "results.jsonl"
    assert _verify(home, "--results", results, track.parent).returncode == 0
    return track, results


def _assert_judged_again_and_failed(home: ProvsdkHome, results: Path, folder: Path) -> None:
    run = _verify(home, "--json", "--results", results, folder)
    assert run.returncode == 1, run.stdout
    assert json.loads(run.stdout)["summary"]["resumed"] == 0


def test_bytes_swapped_keeping_size_and_mtime_are_verified_again(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    track, results = _verified_once(dev_home, tmp_path, tiny)
    st = track.stat()
    _tampered(tiny, track)
    os.utime(track, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert track.stat().st_size == st.st_size and track.stat().st_mtime_ns == st.st_mtime_ns
    _assert_judged_again_and_failed(dev_home, results, track.parent)


def test_a_passing_file_replaced_by_a_symlink_to_a_tampered_one_is_verified_again(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    track, results = _verified_once(dev_home, tmp_path, tiny)
    outside = _tampered(tiny, tmp_path / "elsewhere.wav")  # same size as the track
    track.unlink()
    track.symlink_to(outside)
    _assert_judged_again_and_failed(dev_home, results, track.parent)


def test_a_trust_store_emptied_between_runs_judges_every_file_again(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    files = catalogue(tmp_path / "cat", tiny, 2)
    results = tmp_path / "results.jsonl"
    assert _verify(dev_home, "--results", results, files[0].parent).returncode == 0
    nobody = ProvsdkHome(tmp_path / "trusts-nobody")  # no anchors of any role
    _assert_judged_again_and_failed(nobody, results, files[0].parent)


def test_an_explicit_date_never_reuses_a_record_judged_at_another(trust: TrustConfig) -> None:
    now = CatalogueSettings.of(trust)
    later = CatalogueSettings.of(trust, at=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    other = CatalogueSettings.of(trust, at=dt.datetime(2041, 1, 1, tzinfo=dt.UTC))
    assert len({now.fingerprint, later.fingerprint, other.fingerprint}) == 3


def test_a_relative_repository_names_another_repository_from_another_folder(
    trust: TrustConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fingerprints = set()
    for place in ("studio-a", "studio-b"):
        (tmp_path / place).mkdir()
        monkeypatch.chdir(tmp_path / place)
        fingerprints.add(CatalogueSettings.of(trust, repository="repo.sqlite").fingerprint)
    assert len(fingerprints) == 2


# --- Settings crossing into worker processes --------------------------------------------------


def test_settings_cross_a_process_boundary_with_the_same_trust_and_policy(
    trust: TrustConfig,
) -> None:
    policy = policy_from_dict({"producer": {"require": "trusted"}}, name="strict")
    settings = CatalogueSettings.of(trust, policy, details=True, digest=True)
    copy = pickle.loads(pickle.dumps(settings))
    assert copy.fingerprint == settings.fingerprint
    assert copy.policy == policy
    for role in dataclasses.fields(TrustConfig):
        assert getattr(copy.trust(), role.name).pem() == getattr(settings.trust(), role.name).pem()


def test_workers_judge_with_the_parents_trust_not_their_own_home(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    # The parent trusts the dev PKI; a worker that re-read a home would see the variable the
    # parent was started with. Both must agree whichever engine width is used.
    files = catalogue(tmp_path / "cat", tiny, 4)
    one = _verify(dev_home, "--json", "--workers", "1", files[0].parent)
    many = _verify(dev_home, "--json", "--workers", "2", files[0].parent)
    assert one.returncode == many.returncode == 0
    nobody = ProvsdkHome(tmp_path / "trusts-nobody")
    untrusting = run_cli("verify", "--json", "--workers", "2", files[0].parent, home=nobody.root)
    assert untrusting.returncode == 1


# --- The walk, and what each output makes of hostile names ------------------------------------

HOSTILE_NAMES = (
    "evil\nPASS  forged.wav",
    "\x1b[2Jclear.wav",
    "rtl\u202evaw.exe.wav",
    "undecodable-\udcff.wav",
)


def test_hostile_file_names_stay_one_line_per_file_and_inert_in_every_output(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    for name in HOSTILE_NAMES:
        shutil.copyfile(tiny, os.fsencode(folder) + b"/" + os.fsencode(name))
    _tampered(tiny, folder / "tampered.wav")
    results, junit, html = tmp_path / "r.jsonl", tmp_path / "j.xml", tmp_path / "r.html"
    run = _verify(
        dev_home,
        "--format",
        "table",
        "--results",
        results,
        "--junit",
        junit,
        "--html",
        html,
        folder,
    )
    assert run.returncode == 1
    rows = run.stdout.splitlines()
    # The header, one row per file, the count line: no name forged a row of its own.
    assert len(rows) == 1 + len(HOSTILE_NAMES) + 1 + 1, run.stdout
    assert not any(r.startswith("PASS  forged") for r in rows)
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout
    assert len(_lines(results)) == len(HOSTILE_NAMES) + 1
    cases = [c for suite in junitparser.JUnitXml.fromfile(str(junit)) for c in suite]
    assert len(cases) == len(HOSTILE_NAMES) + 1
    page = html.read_text(encoding="utf-8")
    assert "\x1b" not in page and "\u202e" not in page
    as_json = _verify(dev_home, "--json", folder)
    assert len(json.loads(as_json.stdout)["files"]) == len(HOSTILE_NAMES) + 1


def test_a_symlink_loop_and_a_symlinked_folder_out_of_the_catalogue_are_not_walked(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    folder = tmp_path / "cat"
    catalogue(folder, tiny, 1)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    outside = tmp_path / "outside"
    catalogue(outside, tiny, 3)
    (folder / "escape").symlink_to(outside, target_is_directory=True)
    (folder / ".hidden.wav").write_bytes(b"not audio")
    run = _verify(dev_home, "--json", folder)
    assert run.returncode == 0
    assert [Path(f["path"]).name for f in json.loads(run.stdout)["files"]] == ["track-00000.wav"]


# --- Records reaching the HTML report ---------------------------------------------------------


def test_a_forged_record_full_of_markup_is_verified_again_and_never_shown(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path
) -> None:
    # The record is forged, so it is not credited: the file is verified again, and nothing the
    # record says reaches the page.
    [track] = catalogue(tmp_path / "cat", tiny, 1)
    script = "<script>alert(1)</script><img src=https://evil.example/x.png>"
    record = _forged_pass(
        track,
        _fingerprint(dev_home),
        verdict="fail",
        c2pa={"state": script},
        reasons=[f"policy.grant: {script}"],
        chain={"label": script, "title": script, "signer": script, "trusted": True},
        waveform=script,
    )
    results = tmp_path / "results.jsonl"
    _write_jsonl(results, [record])
    html = tmp_path / "r.html"
    run = _verify(dev_home, "--html", html, "--results", results, track.parent)
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "<img" not in page


@pytest.mark.parametrize(
    "seeds",
    [
        pytest.param(("0", "0"), id="one-seed"),
        pytest.param(
            ("0", "1"),  # two seeds that order those four names differently
            id="two-seeds",
        ),
    ],
)
def test_a_policy_with_a_set_of_values_is_fingerprinted_alike_in_every_process(
    dev_home: ProvsdkHome, tmp_path: Path, tiny: Path, seeds: tuple[str, str]
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[disclosure]\ntraining = ["licensed", "public-domain", "open-licence", "synthetic"]\n'
    )
    [track] = catalogue(tmp_path / "cat", tiny, 1)
    results = tmp_path / "results.jsonl"
    for seed in seeds:
        run = run_cli(
            "verify",
            "--json",
            "--policy",
            policy,
            "--results",
            results,
            track.parent,
            home=dev_home.root,
            env={"PYTHONHASHSEED": seed},
        )
        assert run.returncode == 1  # no disclosure: it fails, and that verdict may stand
    assert json.loads(run.stdout)["summary"]["resumed"] == 1


# --- DDEX export ------------------------------------------------------------------------------


def test_an_untrusted_manifests_label_is_not_exported_as_the_editions_c2pa_id(
    dev_home: ProvsdkHome, tmp_path: Path, spec: ManifestSpec
) -> None:
    from provsdk.credentials import Role, init_dev_pki, load_signer
    from provsdk.export.ddex import MessageParty, export_ddex
    from provsdk.verify import verify_file

    stranger_home = ProvsdkHome(tmp_path / "stranger")
    init_dev_pki(stranger_home)
    stranger = load_signer(Role.PRODUCER, home=stranger_home, use_env=False)
    track = tiny_signed(tmp_path, stranger, spec)
    trust = TrustConfig.load(dev_home)
    label = verify_file(track, trust=trust).integrity.manifest_label
    assert label
    out = tmp_path / "release.xml"
    result = export_ddex(
        [track],
        out,
        sender=MessageParty("PADPIDA2014120301X", "Sender"),
        recipient=MessageParty("PADPIDA2011072101T", "Shop"),
        schema=Path(__file__).parent / "ddex" / "ern432" / "release-notification.xsd",
        trust=trust,
        policy=policy_from_dict({"producer": {"require": "valid"}}),
    )
    assert result.complete, result.rejected
    assert label not in out.read_text(encoding="utf-8")


# --- A file that changes while it is verified -------------------------------------------------


def test_bytes_swapped_between_the_hash_and_the_verification_are_not_credited_later(
    trust: TrustConfig, tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attacker rewrites the file right after it was hashed, hoping the good bytes are
    verified under the bad bytes' digest. What is verified is the copy that was hashed, so the
    record's verdict and digest are of the same bytes."""
    import provsdk.catalogue.task as task

    track = _tampered(tiny, tmp_path / "track.wav")
    bad = file_digest(track)
    verified = task._verified

    def swapped_first(p: Path, *args: Any) -> Any:
        shutil.copyfile(tiny, track)  # the attacker's timing: after the hash, before the check
        return verified(p, *args)

    monkeypatch.setattr(task, "_verified", swapped_first)
    outcome = task.verify_task(track, CatalogueSettings.of(trust, digest=True))
    assert outcome.record is not None
    assert outcome.record["file"]["sha256"] == bad
    assert outcome.record["verdict"] == "fail"  # the bytes with that digest are the bad ones
    monkeypatch.undo()
    again = task.verify_task(track, CatalogueSettings.of(trust, digest=True), prior_sha256=bad)
    assert not again.unchanged  # the good bytes now there are judged on their own


@pytest.mark.slow
def test_a_device_named_as_a_track_does_not_hang_a_run_with_a_results_file(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    device = tmp_path / "endless.wav"
    device.symlink_to("/dev/zero")
    run = subprocess.run(
        [sys.executable, "-m", "provsdk", "verify", "--results", tmp_path / "r.jsonl", device],
        capture_output=True,
        text=True,
        env=provsdk_env(dev_home.root),
        timeout=20,  # without a results file it is refused at once
    )
    assert run.returncode == 2
