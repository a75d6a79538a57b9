"""The SQLite manifest repository: finding a registered sound again, and what it refuses.

Most tests use synthetic fingerprints (random 32-bit values, disturbed as a re-encode disturbs
them) so each case is exact and fast; one goes through real audio, ffmpeg and Chromaprint.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
import struct
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_runner import run_cli

from provsdk.errors import ConfigurationError, InputError
from provsdk.home import ProvsdkHome
from provsdk.providers.transport.rules import MAX_ANSWER
from provsdk.repository import default_repository_location, open_repository
from provsdk.repository.index import BANDS, bands
from provsdk.repository.limits import MAX_STORE_BYTES, LabelTaken
from provsdk.repository.sqlite import SqliteRepository
from provsdk.softbinding.audio_code import ALG, AudioCode, audio_code, hamming
from provsdk.softbinding.compare import MIN_OVERLAP
from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint, fingerprint_file


def store_of(label: str, padding: int = 0) -> bytes:
    """A minimal JUMBF manifest store naming ``label`` (structure only: nothing is signed)."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body) + 8) + kind + body

    def jumd(kind: bytes, name: str) -> bytes:
        return box(b"jumd", kind + bytes(12) + b"\x03" + name.encode() + b"\0")

    manifest = box(b"jumb", jumd(b"c2ma", label) + box(b"free", bytes(padding)))
    return box(b"jumb", jumd(b"c2pa", "c2pa") + manifest)


def random_print(rng: random.Random, count: int = 400) -> Fingerprint:
    return Fingerprint(tuple(rng.getrandbits(32) for _ in range(count)))


def reencoded(fp: Fingerprint, rng: random.Random, share: float = 0.25) -> Fingerprint:
    """``fp`` with a low bit flipped in ``share`` of its values, as a lossy re-encode does."""
    return Fingerprint(
        tuple(v ^ (1 << rng.randrange(3)) if rng.random() < share else v for v in fp.values)
    )


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqliteRepository]:
    repository = SqliteRepository(tmp_path / "repo.sqlite", create=True)
    yield repository
    repository.close()


def publish(repo: SqliteRepository, label: str, fp: Fingerprint, code: int | None = None) -> None:
    real = audio_code(fp)
    repo.publish(store_of(label), label, real if code is None else AudioCode(real.iscc, code), fp)


def test_a_reencoded_copy_is_found_although_its_code_moved(repo: SqliteRepository) -> None:
    rng = random.Random(1)
    tracks = {f"urn:c2pa:track-{i}": random_print(rng) for i in range(20)}
    for label, fp in tracks.items():
        publish(repo, label, fp)
    original = tracks["urn:c2pa:track-7"]
    copy = reencoded(original, rng)
    assert 0 < hamming(audio_code(copy).bits, audio_code(original).bits) <= 8
    found = repo.matches_by_content(copy)
    assert [m.manifest for m in found] == ["urn:c2pa:track-7"]
    assert found[0].score > 0.95
    assert found[0].offset_seconds == 0


def test_an_excerpt_is_found_through_the_sub_fingerprint_index(repo: SqliteRepository) -> None:
    rng = random.Random(2)
    whole = random_print(rng, 1200)
    publish(repo, "urn:c2pa:whole", whole)
    for i in range(20):
        publish(repo, f"urn:c2pa:other-{i}", random_print(rng))
    excerpt = reencoded(Fingerprint(whole.values[500:660]), rng)
    # The excerpt's code says nothing about the whole track's: only the second index finds it.
    assert not set(bands(audio_code(excerpt).bits)) & set(bands(audio_code(whole).bits))
    found = repo.matches_by_content(excerpt)
    assert [m.manifest for m in found] == ["urn:c2pa:whole"]
    assert found[0].offset_seconds == pytest.approx(500 * ITEM_SECONDS)


def test_an_unregistered_sound_is_not_found(repo: SqliteRepository) -> None:
    rng = random.Random(3)
    for i in range(50):
        publish(repo, f"urn:c2pa:t{i}", random_print(rng))
    assert repo.matches_by_content(random_print(rng)) == []


def test_a_query_too_short_to_align_finds_nothing(repo: SqliteRepository) -> None:
    rng = random.Random(4)
    fp = random_print(rng)
    publish(repo, "urn:c2pa:a", fp)
    assert repo.matches_by_content(Fingerprint(fp.values[: MIN_OVERLAP - 1])) == []


def test_a_flood_of_near_codes_cannot_hide_the_true_match(repo: SqliteRepository) -> None:
    """An attacker registers hundreds of entries whose codes sit right next to a victim's, so
    that the banded index hands back only theirs. The sub-fingerprint votes still name the true
    entry, and the alignment ranks it first."""
    rng = random.Random(5)
    victim = random_print(rng)
    publish(repo, "urn:c2pa:victim", victim)
    target = audio_code(victim).bits
    for i in range(300):
        publish(repo, f"urn:c2pa:flood-{i}", random_print(rng), target ^ (1 << (i % 64)))
    found = repo.matches_by_content(reencoded(victim, rng))
    assert found and found[0].manifest == "urn:c2pa:victim"
    assert all(m.manifest == "urn:c2pa:victim" for m in found)


def test_repository_answers_are_candidates_not_verdicts(repo: SqliteRepository) -> None:
    """Anyone who can publish can register someone else's sound under their own manifest: the
    repository finds both, and nothing in its answer says which is genuine. That is decided by
    verifying the recovered store's signatures (which this store, unsigned, would fail)."""
    rng = random.Random(6)
    genuine = random_print(rng)
    publish(repo, "urn:c2pa:genuine", genuine)
    publish(repo, "urn:c2pa:impostor", genuine)
    found = {m.manifest for m in repo.matches_by_content(reencoded(genuine, rng))}
    assert found == {"urn:c2pa:genuine", "urn:c2pa:impostor"}
    # The store comes back as published, byte for byte: it is evidence to check, not a verdict.
    assert repo.manifest_store("urn:c2pa:impostor") == store_of("urn:c2pa:impostor")


def test_a_binding_value_matches_exactly(repo: SqliteRepository) -> None:
    rng = random.Random(7)
    fp = random_print(rng)
    publish(repo, "urn:c2pa:bound", fp)
    iscc = audio_code(fp).iscc
    assert [m.manifest for m in repo.matches_by_binding(ALG, iscc)] == ["urn:c2pa:bound"]
    assert repo.matches_by_binding(ALG, iscc.removeprefix("ISCC:"))[0].score == 1.0
    # The API describes values as base64 of the algorithm's format: that spelling works too.
    assert repo.matches_by_binding(ALG, base64.b64encode(iscc.encode()).decode())
    assert repo.matches_by_binding("com.example.watermark", iscc) == []
    assert repo.matches_by_binding(ALG, "not a code") == []


def test_publishing_the_same_store_again_changes_nothing(repo: SqliteRepository) -> None:
    rng = random.Random(8)
    fp = random_print(rng)
    publish(repo, "urn:c2pa:once", fp)
    publish(repo, "urn:c2pa:once", fp)
    assert repo.stats().entries == 1
    assert len(repo.matches_by_content(fp)) == 1


def test_another_store_under_a_taken_label_is_refused(repo: SqliteRepository) -> None:
    rng = random.Random(9)
    fp = random_print(rng)
    publish(repo, "urn:c2pa:taken", fp)
    forged = store_of("urn:c2pa:taken", padding=10)
    with pytest.raises(LabelTaken, match="already holds another manifest store"):
        repo.publish(forged, "urn:c2pa:taken", audio_code(fp), fp)
    assert repo.manifest_store("urn:c2pa:taken") == store_of("urn:c2pa:taken")


def test_a_refused_entry_leaves_the_whole_batch_unpublished(repo: SqliteRepository) -> None:
    from provsdk.repository.sqlite import Entry

    rng = random.Random(10)
    fp = random_print(rng)
    good = Entry(store_of("urn:c2pa:good"), "urn:c2pa:good", audio_code(fp), fp)
    bad = Entry(b"garbage", "urn:c2pa:bad", audio_code(fp), fp)
    with pytest.raises(InputError):
        repo.publish_many([good, bad])
    assert repo.stats().entries == 0


@pytest.mark.parametrize(
    ("store", "label", "message"),
    [
        (b"\x00" * 64, "urn:c2pa:x", "does not start with a JUMBF box"),
        (store_of("urn:c2pa:other"), "urn:c2pa:x", "holds no manifest labelled"),
        (store_of("urn:c2pa:x", padding=MAX_STORE_BYTES), "urn:c2pa:x", "over the repository"),
        (store_of("urn:c2pa:x\n"), "urn:c2pa:x\n", "control character"),
        (store_of("a/b"), "a/b", "slash"),
    ],
    ids=["not-jumbf", "label-not-in-store", "over-cap", "newline-in-label", "slash-in-label"],
)
def test_garbage_is_refused_in_one_line(
    repo: SqliteRepository, store: bytes, label: str, message: str
) -> None:
    fp = random_print(random.Random(11))
    with pytest.raises(InputError, match=message) as caught:
        repo.publish(store, label, audio_code(fp), fp)
    assert "\n" not in str(caught.value)
    assert repo.stats().entries == 0


def test_a_store_cut_short_inside_is_refused(repo: SqliteRepository) -> None:
    fp = random_print(random.Random(12))
    store = bytearray(store_of("urn:c2pa:x"))
    store[8:12] = (10_000).to_bytes(4, "big")  # the inner box claims more than the store holds
    with pytest.raises(InputError, match="malformed"):
        repo.publish(bytes(store), "urn:c2pa:x", audio_code(fp), fp)


def test_an_overlong_fingerprint_is_refused(repo: SqliteRepository) -> None:
    fp = Fingerprint((1,) * 200_000)
    with pytest.raises(InputError, match="over the repository's limit"):
        repo.matches_by_content(fp)


def test_the_store_cap_is_what_the_http_transport_reads() -> None:
    assert MAX_STORE_BYTES == MAX_ANSWER


def test_a_missing_repository_hints_repo_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        open_repository(tmp_path / "nowhere.sqlite")
    assert "provsdk repo init" in (caught.value.hint or "")
    assert not (tmp_path / "nowhere.sqlite").exists()  # looking never creates it


def test_a_corrupt_repository_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(ConfigurationError, match="not a usable provsdk repository") as caught:
        open_repository(path)
    assert "\n" not in str(caught.value)


def test_another_sqlite_database_is_not_taken_for_a_repository(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(ConfigurationError, match="not a provsdk repository"):
        open_repository(path)
    with pytest.raises(ConfigurationError, match="not a provsdk repository"):
        open_repository(path, create=True)  # nor made into one


def test_a_repository_from_a_newer_provsdk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "repo.sqlite"
    SqliteRepository(path, create=True).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ConfigurationError, match="newer than this provsdk"):
        open_repository(path)


def saved(path: Path, prints: dict[str, Fingerprint]) -> Path:
    """A repository file at ``path`` holding ``prints`` by label, closed."""
    with SqliteRepository(path, create=True) as made:
        for label, fp in prints.items():
            publish(made, label, fp)
    return path


def test_reopening_keeps_what_was_published(tmp_path: Path) -> None:
    fp = random_print(random.Random(13))
    path = saved(tmp_path / "repo.sqlite", {"urn:c2pa:kept": fp})
    with SqliteRepository(path, create=True) as again:  # create on an existing one: opens it
        assert [m.manifest for m in again.matches_by_content(fp)] == ["urn:c2pa:kept"]
        assert again.stats().entries == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_default_location_is_in_provsdk_home(tmp_path: Path) -> None:
    home = ProvsdkHome(tmp_path)
    assert default_repository_location(home) == tmp_path / "repository.sqlite"
    assert BANDS * 16 == 64


def _music(path: Path, seconds: float, seed: int) -> None:
    """A mono WAV of changing chords: enough structure for Chromaprint to tell tracks apart."""
    rate = 22050
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * 0.5)) / rate
    blocks = []
    for _ in range(int(seconds * 2)):
        freqs = 110 * 2 ** (rng.integers(0, 36, size=3) / 12)
        block = sum(np.sin(2 * np.pi * f * t) for f in freqs) * np.hanning(len(t))
        blocks.append(block)
    samples = (np.concatenate(blocks) / 3 * 20000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def mp3_excerpt(exe: str, source: Path, *, start: float, seconds: float, rate: str) -> Path:
    """``seconds`` of ``source`` from ``start``, encoded to MP3 at ``rate`` beside it."""
    out = source.with_name(f"{source.stem}-{start:g}-{seconds:g}-{rate}.mp3")
    command = [exe, "-v", "error", "-ss", str(start), "-t", str(seconds), "-i", str(source)]
    subprocess.run([*command, "-b:a", rate, str(out)], check=True)
    return out


def test_a_real_mp3_excerpt_finds_its_track(
    repo: SqliteRepository, tmp_path: Path, ffmpeg: Any
) -> None:
    tracks = {}
    for seed in range(3):
        path = tmp_path / f"track{seed}.wav"
        _music(path, 40, seed)
        tracks[seed] = fingerprint_file(path)
        publish(repo, f"urn:c2pa:track{seed}", tracks[seed])
    excerpt = mp3_excerpt(ffmpeg.exe, tmp_path / "track1.wav", start=12, seconds=20, rate="128k")
    found = repo.matches_by_content(fingerprint_file(excerpt))
    assert found and found[0].manifest == "urn:c2pa:track1"
    assert found[0].offset_seconds == pytest.approx(12, abs=0.5)


def test_repo_init_makes_the_default_repository_once(tmp_path: Path) -> None:
    made = run_cli("repo", "init", home=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "repository.sqlite").is_file()
    again = run_cli("repo", "init", home=tmp_path)
    assert again.returncode == 0 and "already a repository (0 entries)" in again.stdout
    stats = run_cli("repo", "stats", "--json", home=tmp_path)
    assert json.loads(stats.stdout)["entries"] == 0


def test_repo_stats_of_a_missing_repository_says_how_to_make_one(tmp_path: Path) -> None:
    run = run_cli("repo", "stats", tmp_path / "typo.sqlite", home=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == "hint: make one with `provsdk repo init PATH`"


def test_repo_reads_the_repository_variable(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.sqlite"
    env = {"PROVSDK_REPOSITORY": str(chosen)}
    assert run_cli("repo", "init", home=tmp_path, env=env).returncode == 0
    assert chosen.is_file() and not (tmp_path / "repository.sqlite").exists()
    url = run_cli("repo", "stats", home=tmp_path, env={"PROVSDK_REPOSITORY": "https://r.example"})
    assert url.returncode == 2 and "works on a local file" in url.stderr


def test_copies_published_later_cannot_push_the_first_registration_down(
    repo: SqliteRepository,
) -> None:
    """Someone registers twenty copies of a track under labels chosen to sort first: the track's
    first registration still comes first, for a whole copy and for an excerpt."""
    rng = random.Random(14)
    original = random_print(rng, 600)
    publish(repo, "urn:c2pa:zz-original", original)
    for i in range(20):
        publish(repo, f"urn:c2pa:aa-copy-{i:02d}", original)
    whole = repo.matches_by_content(reencoded(original, rng), limit=1)
    part = repo.matches_by_content(Fingerprint(original.values[200:400]), limit=1)
    assert [m.manifest for m in whole] == [m.manifest for m in part] == ["urn:c2pa:zz-original"]


def test_a_damaged_row_is_no_candidate(tmp_path: Path) -> None:
    rng = random.Random(15)
    fp = random_print(rng)
    prints = {"urn:c2pa:damaged": fp, "urn:c2pa:sound": random_print(rng)}
    path = saved(tmp_path / "repo.sqlite", prints)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET fingerprint = x'010203' WHERE label = 'urn:c2pa:damaged'")
    with SqliteRepository(path) as repo:
        assert repo.matches_by_content(fp) == []
