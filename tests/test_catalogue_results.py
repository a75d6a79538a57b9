"""The results file: a killed run keeps every line it finished, a file that is not ours is
refused and left alone, and a resumed run is offered only the digests that may stand."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from provsdk.catalogue.results import JOURNAL_SUFFIX, NotOurResultsError, ResultsLog, read_records
from provsdk.catalogue.task import CatalogueSettings, Job
from provsdk.credentials import TrustConfig
from provsdk.verify.policy import RequireC2paState

KEY = bytes(range(32))  # a results key, as a home keeps one


def _record(path: Path, settings: CatalogueSettings, verdict: str = "pass") -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "path": str(path),
        "verdict": verdict,
        "c2pa": {"state": "Trusted"},
        "reasons": [] if verdict == "pass" else ["policy.x: no"],
        "file": {
            "size": len(data),
            "mtime_ns": path.stat().st_mtime_ns,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        "settings": settings.fingerprint,
    }


@pytest.fixture
def settings(trust: TrustConfig) -> CatalogueSettings:
    return CatalogueSettings.of(trust, digest=True)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    out = []
    for i in range(3):
        path = tmp_path / f"f{i}.wav"
        path.write_bytes(bytes([i]) * 100)
        out.append(path)
    return out


def test_a_truncated_last_line_is_ignored_and_cut_before_the_next_run_appends(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings
) -> None:
    results = tmp_path / "r.jsonl"
    with ResultsLog.open(results, key=KEY) as log:
        log.append(_record(files[0], settings))
        log.append(_record(files[1], settings))
    whole = results.read_bytes()
    results.write_bytes(whole + whole.splitlines(keepends=True)[0][:25])  # a killed writer
    with ResultsLog.open(results, key=KEY) as log:
        assert log.job(files[0], settings).prior_sha256 is not None
        assert log.job(files[2], settings).prior_sha256 is None
        log.append(_record(files[2], settings))
    assert [r["path"] for r in read_records(results)] == [str(p) for p in files]


def test_the_last_record_of_a_path_is_the_one_that_stands(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings
) -> None:
    results = tmp_path / "r.jsonl"
    with ResultsLog.open(results, key=KEY) as log:
        log.append(_record(files[0], settings, "fail"))
        log.append(_record(files[0], settings, "pass"))
    with ResultsLog.open(results, key=KEY) as log:
        assert log.previous(str(files[0]))["verdict"] == "pass"


@pytest.mark.parametrize(
    "content",
    [b"garbage\n", b'{"name": "another tool", "rows": 3}\n', b"\x00\x01binary"],
    ids=["garbage", "another-schema", "binary-with-no-newline-first-then-ours"],
)
def test_a_results_file_that_is_not_ours_is_refused_and_left_alone(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings, content: bytes
) -> None:
    results = tmp_path / "r.jsonl"
    ours = json.dumps(_record(files[0], settings)).encode() + b"\n"
    # Not ours anywhere but at the end: a partial last line alone would be a killed run's.
    results.write_bytes(content + b"\n" + ours if not content.endswith(b"\n") else content + ours)
    before = results.read_bytes()
    with pytest.raises(NotOurResultsError) as caught:
        ResultsLog.open(results, key=KEY)
    assert "\n" not in str(caught.value)
    assert results.read_bytes() == before


def test_a_parquet_file_that_is_not_ours_is_refused_and_left_alone(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    results = tmp_path / "r.parquet"
    pq.write_table(pa.table({"path": ["x"], "verdict": ["pass"]}), results)
    before = results.read_bytes()
    with pytest.raises(NotOurResultsError):
        ResultsLog.open(results, key=KEY)
    assert results.read_bytes() == before
    assert not (tmp_path / ("r.parquet" + JOURNAL_SUFFIX)).exists()


def test_a_results_file_of_another_kind_is_a_usage_mistake(tmp_path: Path) -> None:
    from provsdk.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"\.jsonl or \.parquet"):
        ResultsLog.open(tmp_path / "results.csv", key=KEY)


def test_only_a_file_of_the_same_size_and_settings_is_offered_its_old_digest(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings, trust: TrustConfig
) -> None:
    results = tmp_path / "r.jsonl"
    with ResultsLog.open(results, key=KEY) as log:
        for path in files:
            log.append(_record(path, settings))
    files[1].write_bytes(b"longer now" * 20)  # another size: verified, not even hashed first
    other = CatalogueSettings.of(trust, RequireC2paState(), digest=True)
    with ResultsLog.open(results, key=KEY) as log:
        assert log.job(files[0], settings) == Job(
            str(files[0]), hashlib.sha256(files[0].read_bytes()).hexdigest()
        )
        assert log.job(files[1], settings).prior_sha256 is None
        assert log.job(files[0], other).prior_sha256 is None  # another policy
        details = CatalogueSettings.of(trust, digest=True, details=True)
        assert log.job(files[0], details).prior_sha256 is None  # the report needs more
    with ResultsLog.open(results, recheck=True, key=KEY) as log:
        assert log.job(files[0], settings).prior_sha256 is None


def test_a_killed_parquet_run_resumes_from_its_journal_and_ends_as_one_row_per_path(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings
) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    results = tmp_path / "r.parquet"
    journal = tmp_path / ("r.parquet" + JOURNAL_SUFFIX)
    with ResultsLog.open(results, key=KEY) as log:
        log.append(_record(files[0], settings, "fail"))
    assert results.exists() and not journal.exists()
    log = ResultsLog.open(results, key=KEY)
    log.append(_record(files[0], settings, "pass"))
    log.append(_record(files[1], settings))
    log.close(complete=False)  # what a killed run leaves: the journal, the old parquet
    assert journal.exists()
    assert pq.read_table(results).num_rows == 1
    with ResultsLog.open(results, key=KEY) as log:
        assert log.job(files[1], settings).prior_sha256 is not None
        assert log.previous(str(files[0]))["verdict"] == "pass"
        log.append(_record(files[2], settings))
    assert not journal.exists()
    table = pq.read_table(results).to_pylist()
    assert [row["path"] for row in table] == [str(p) for p in files]
    assert [row["verdict"] for row in table] == ["pass", "pass", "pass"]
    assert json.loads(table[0]["record"])["verdict"] == "pass"


def test_the_resume_index_of_many_files_is_small(
    tmp_path: Path, settings: CatalogueSettings
) -> None:
    results = tmp_path / "r.jsonl"
    count = 20_000
    with results.open("w") as fh:
        for i in range(count):
            record = {
                "path": f"/catalogue/label/artist-{i % 300}/album/track-{i:07d}.wav",
                "verdict": "pass",
                "c2pa": {"state": "Trusted"},
                "reasons": [],
                "file": {"size": 10_000 + i, "mtime_ns": i, "sha256": f"{i:064x}"},
                "settings": settings.fingerprint,
            }
            fh.write(json.dumps(record) + "\n")
    tracemalloc.start()
    try:
        log = ResultsLog.open(results, key=KEY)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    log.close()
    assert held / count < 300  # bytes per file: a million files stay in the hundreds of MB


def test_a_record_sealed_by_another_homes_key_is_not_credited(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings
) -> None:
    """Records are believed only under the key that sealed them: a results file copied from
    another machine (or written with a stolen layout) has its files verified again."""
    results = tmp_path / "r.jsonl"
    with ResultsLog.open(results, key=KEY) as log:
        log.append(_record(files[0], settings))
    with ResultsLog.open(results, key=KEY) as log:
        assert log.job(files[0], settings).prior_sha256 is not None
    other = bytes(reversed(range(32)))
    with ResultsLog.open(results, key=other) as log:
        assert log.job(files[0], settings).prior_sha256 is None
    with ResultsLog.open(results, key=None) as log:
        assert log.job(files[0], settings).prior_sha256 is None


def test_an_edited_sealed_record_is_not_credited(
    tmp_path: Path, files: list[Path], settings: CatalogueSettings
) -> None:
    results = tmp_path / "r.jsonl"
    with ResultsLog.open(results, key=KEY) as log:
        log.append(_record(files[0], settings, verdict="fail"))
    line = json.loads(results.read_text())
    line["verdict"], line["reasons"] = "pass", []
    results.write_text(json.dumps(line) + "\n")
    with ResultsLog.open(results, key=KEY) as log:
        assert log.job(files[0], settings).prior_sha256 is None


def test_the_results_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    import stat

    from provsdk.catalogue.results import results_key
    from provsdk.home import ProvsdkHome

    home = ProvsdkHome(tmp_path / "home")
    first = results_key(home)
    assert len(first) == 32 and results_key(home) == first
    mode = (home.root / "results.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_home_where_no_results_key_can_be_made_is_one_clear_error(tmp_path: Path) -> None:
    from provsdk.catalogue.results import results_key
    from provsdk.errors import ConfigurationError
    from provsdk.home import ProvsdkHome

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    with pytest.raises(ConfigurationError, match="cannot read or make the results key"):
        results_key(ProvsdkHome(blocked / "home"))
