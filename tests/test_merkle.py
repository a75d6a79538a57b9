"""The training-list Merkle tree against RFC 6962, its proofs, and hostile input.

The expected roots and audit paths come from a small recursive implementation of the
RFC 6962 section 2.1 definitions below, written independently of the module under test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from provsdk.disclosure import merkle
from provsdk.disclosure.merkle import (
    ALGORITHM,
    Commitment,
    EntryNotFoundError,
    InclusionProof,
    TrainingList,
    canonical_entry,
    commitment_of,
    read_entries,
    verify_inclusion,
)

# --- reference implementation (RFC 6962 section 2.1, literally) -------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n])."""
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _split(len(d))
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf m, leaf to root."""
    if len(d) <= 1:
        return []
    k = _split(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def track_ids(n: int, prefix: str = "ISRC-") -> list[str]:
    return [f"{prefix}{i:012d}" for i in range(n)]


EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- known answers ------------------------------------------------------------------------------


def test_empty_list_root_is_sha256_of_nothing() -> None:
    assert commitment_of([]) == Commitment(count=0, root=EMPTY_ROOT)
    assert TrainingList([]).commitment() == Commitment(count=0, root=EMPTY_ROOT)
    assert len(TrainingList([])) == 0


def test_single_leaf_known_answer() -> None:
    # One leaf: the root is the leaf hash, SHA-256(0x00 || "a").
    expected = hashlib.sha256(b"\x00a").hexdigest()
    assert commitment_of(["a"]).root == expected
    proof = TrainingList(["a"]).prove("a")
    assert proof.path == ()
    assert proof.root == expected


@pytest.mark.parametrize("n", range(21))
def test_roots_and_every_proof_match_the_rfc_definition(n: int) -> None:
    ids = track_ids(n)
    data = [s.encode() for s in ids]
    expected_root = ref_mth(data).hex()

    tree = TrainingList(ids)
    assert tree.commitment() == Commitment(count=n, root=expected_root, algorithm=ALGORITHM)
    assert commitment_of(ids) == tree.commitment()
    for i, entry in enumerate(ids):
        proof = tree.prove(entry)
        assert proof.index == i
        assert proof.count == n
        assert proof.entry == entry
        assert proof.root == expected_root
        assert list(proof.path) == [h.hex() for h in ref_path(i, data)]


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 7, 8, 9, 12, 16, 17, 23, 31, 32, 33, 40])
def test_streaming_across_chunk_boundaries_matches_the_rfc(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With tiny chunks, commitment_of must merge full-chunk subtrees and the short tail.
    monkeypatch.setattr(merkle, "_CHUNK", 4)
    ids = track_ids(n)
    expected = ref_mth([s.encode() for s in ids]).hex()
    assert commitment_of(ids).root == expected
    assert commitment_of(iter(ids)).root == expected  # a one-shot iterator works too
    assert TrainingList(iter(ids)).commitment().root == expected


# --- proofs verify ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 34))
def test_every_index_verifies(n: int) -> None:
    ids = track_ids(n)
    tree = TrainingList(ids)
    commitment = commitment_of(ids)
    for i, entry in enumerate(ids):
        assert tree.index_of(entry) == i
        proof = tree.prove(entry)
        assert verify_inclusion(proof, commitment)
        # The serialised form survives JSON and still verifies.
        again = InclusionProof.from_dict(json.loads(json.dumps(proof.to_dict())))
        assert again == proof
        assert verify_inclusion(again, Commitment.from_dict(commitment.to_dict()))


# --- tampering fails ----------------------------------------------------------------------------


N_TAMPER = 13  # not a power of two, so some leaves have short paths


@pytest.fixture(scope="module")
def tree13() -> TrainingList:
    return TrainingList(track_ids(N_TAMPER))


def _flip(hex_digest: str, byte: int) -> str:
    raw = bytearray.fromhex(hex_digest)
    raw[byte] ^= 0x01
    return raw.hex()


def test_flipping_any_path_byte_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    for entry in track_ids(N_TAMPER):
        proof = tree13.prove(entry)
        for k in range(len(proof.path)):
            for byte in (0, 17, 31):
                path = list(proof.path)
                path[k] = _flip(path[k], byte)
                bad = dataclasses.replace(proof, path=tuple(path))
                assert not verify_inclusion(bad, commitment)


def test_changed_index_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    for i, entry in enumerate(track_ids(N_TAMPER)):
        proof = tree13.prove(entry)
        for other in range(-1, N_TAMPER + 1):
            if other != i:
                bad = dataclasses.replace(proof, index=other)
                assert not verify_inclusion(bad, commitment)


def test_changed_count_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    proof = tree13.prove(track_ids(N_TAMPER)[6])
    for count in (0, 12, 14, 2**64):
        assert not verify_inclusion(dataclasses.replace(proof, count=count), commitment)
        assert not verify_inclusion(proof, dataclasses.replace(commitment, count=count))


def test_changed_entry_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    ids = track_ids(N_TAMPER)
    proof = tree13.prove(ids[6])
    for entry in (ids[5], ids[7], "ISRC-999999999999", ids[6] + "x", ids[6].lower()):
        assert not verify_inclusion(dataclasses.replace(proof, entry=entry), commitment)


def test_swapped_path_elements_fail(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    for entry in track_ids(N_TAMPER):
        proof = tree13.prove(entry)
        path = proof.path
        for a in range(len(path)):
            for b in range(a + 1, len(path)):
                swapped = list(path)
                swapped[a], swapped[b] = swapped[b], swapped[a]
                bad = dataclasses.replace(proof, path=tuple(swapped))
                assert not verify_inclusion(bad, commitment)


def test_path_of_wrong_length_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    proof = tree13.prove(track_ids(N_TAMPER)[6])
    assert not verify_inclusion(dataclasses.replace(proof, path=proof.path[:-1]), commitment)
    longer = (*proof.path, proof.path[0])
    assert not verify_inclusion(dataclasses.replace(proof, path=longer), commitment)
    assert not verify_inclusion(dataclasses.replace(proof, path=()), commitment)


def test_proof_against_another_lists_commitment_fails(tree13: TrainingList) -> None:
    ids = track_ids(N_TAMPER)
    proof = tree13.prove(ids[3])
    other_same_size = commitment_of(track_ids(N_TAMPER, prefix="ISWC-"))
    one_more = commitment_of([*ids, "ISRC-extra"])
    for commitment in (other_same_size, one_more):
        assert not verify_inclusion(proof, commitment)
    # Even with the root rewritten to match, the path does not lead to the other root.
    rewritten = dataclasses.replace(proof, root=other_same_size.root)
    assert not verify_inclusion(rewritten, other_same_size)


def test_unlisted_entry_has_no_proof(tree13: TrainingList) -> None:
    assert tree13.index_of("ISRC-not-listed") is None
    with pytest.raises(EntryNotFoundError, match="not on the training list"):
        tree13.prove("ISRC-not-listed")
    assert issubclass(EntryNotFoundError, LookupError)
    with pytest.raises(EntryNotFoundError):
        TrainingList([]).prove("anything")


def test_wrong_algorithm_fails(tree13: TrainingList) -> None:
    commitment = tree13.commitment()
    proof = tree13.prove(track_ids(N_TAMPER)[0])
    assert not verify_inclusion(dataclasses.replace(proof, algorithm="sha1"), commitment)
    assert not verify_inclusion(proof, dataclasses.replace(commitment, algorithm="rfc6962-sha1"))


@pytest.mark.parametrize(
    "change",
    [
        {"path": ("zz" * 32,) * 4},
        {"path": ("ab" * 31,) * 4},
        {"path": (None, None, None, None)},
        {"path": "not a path"},
        {"path": None},
        {"index": "6"},
        {"index": 6.0},
        {"index": None},
        {"count": "13"},
        {"count": True},
        {"root": "not hex"},
        {"root": None},
        {"entry": None},
        {"entry": ""},
        {"entry": b"ISRC-000000000006"},
    ],
)
def test_malformed_proof_is_false_not_an_exception(
    tree13: TrainingList, change: dict[str, Any]
) -> None:
    proof = tree13.prove(track_ids(N_TAMPER)[6])
    assert verify_inclusion(proof, tree13.commitment())
    bad = dataclasses.replace(proof, **change)
    assert verify_inclusion(bad, tree13.commitment()) is False


def test_malformed_commitment_is_false_not_an_exception(tree13: TrainingList) -> None:
    proof = tree13.prove(track_ids(N_TAMPER)[6])
    good = tree13.commitment()
    for change in ({"root": "xyz"}, {"root": None}, {"count": "13"}, {"count": None}):
        assert verify_inclusion(proof, dataclasses.replace(good, **change)) is False


# --- canonicalisation ---------------------------------------------------------------------------


def test_nfc_and_nfd_give_the_same_leaf() -> None:
    nfc, nfd = "Caf\u00e9", "Cafe\u0301"
    assert nfc != nfd
    assert canonical_entry(nfc) == canonical_entry(nfd) == "Caf\u00e9".encode()
    assert commitment_of([nfc]) == commitment_of([nfd])
    tree = TrainingList(["a", nfd, "b"])
    assert tree.index_of(nfc) == 1
    proof = tree.prove(nfc)
    assert proof.entry == nfc  # the proof carries the canonical text
    assert verify_inclusion(proof, tree.commitment())
    # A verifier holding the other form gets the same answer: entries are compared canonically.
    assert verify_inclusion(dataclasses.replace(proof, entry=nfd), tree.commitment())


def test_surrounding_whitespace_is_ignored() -> None:
    assert canonical_entry("  ISRC-1\t\r\n") == b"ISRC-1"
    assert commitment_of([" ISRC-1 ", "ISRC-2\n"]) == commitment_of(["ISRC-1", "ISRC-2"])
    tree = TrainingList(["ISRC-1", "ISRC-2"])
    assert tree.index_of("  ISRC-2 ") == 1
    # Inner whitespace is part of the identifier.
    assert tree.index_of("ISRC -2") is None


def test_bytes_and_text_entries_are_the_same() -> None:
    text = ["Caf\u00e9", "ISRC-2"]
    as_bytes = [s.encode() for s in text]
    assert commitment_of(as_bytes) == commitment_of(text)
    tree = TrainingList(as_bytes)
    assert tree.index_of("Caf\u00e9") == 0
    assert tree.index_of("Cafe\u0301".encode()) == 0
    assert tree.prove(b"ISRC-2").entry == "ISRC-2"


@pytest.mark.parametrize("text", ["", "   ", "\n", "a\nb", "a\rb", "#comment", "  #x"])
def test_entries_that_cannot_be_a_line_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        canonical_entry(text)
    with pytest.raises(ValueError, match="index 1"):
        commitment_of(["ok", text])
    with pytest.raises(ValueError, match="index 1"):
        TrainingList(["ok", text])


def test_invalid_input_types_are_rejected() -> None:
    with pytest.raises(TypeError):
        canonical_entry(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="index 1"):
        commitment_of(["ok", 42])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"index 0.*UTF-8"):
        TrainingList([b"\xff\xfe"])
    tree = TrainingList(["ok"])
    assert tree.index_of(b"\xff") is None
    assert tree.index_of("") is None
    with pytest.raises(TypeError):
        tree.index_of(7)  # type: ignore[arg-type]


# --- duplicates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entries", [["a", "b", "c", "b", "a"], ["b", "a", "c", "a", "b"]])
def test_duplicates_are_rejected_naming_the_first_repeat(entries: list[str]) -> None:
    # Two values repeat; the error names the earlier repeat (index 3, of index 1) whichever
    # of them sorts first internally.
    for build in (TrainingList, commitment_of):
        with pytest.raises(ValueError, match=r"index 3\b.*index 1\b"):
            build(entries)


def test_duplicates_after_canonicalisation_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"index 2\b.*index 0\b"):
        commitment_of(["Caf\u00e9", "x", " Cafe\u0301"])


def test_duplicates_across_chunks_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle, "_CHUNK", 4)
    ids = track_ids(11)
    ids[9] = ids[1]
    for build in (TrainingList, commitment_of):
        with pytest.raises(ValueError, match=r"index 9\b.*index 1\b"):
            build(ids)


def test_leaf_index_settles_shared_prefixes_exactly() -> None:
    # Real leaf hashes sharing 8 bytes are impractical to find, so craft the hash buffer:
    # a and b share their first 8 bytes but differ; a appears again at position 3.
    a = b"\x11" * 8 + b"\x00" * 24
    b = b"\x11" * 8 + b"\x01" * 24
    c = b"\x22" * 32
    index = merkle._LeafIndex(a + b + c + a, 4)
    assert index.first_duplicate() == (0, 3)
    assert index.find(b) == 1
    assert index.find(c) == 2
    assert index.find(b"\x11" * 8 + b"\x02" * 24) is None
    no_repeat = merkle._LeafIndex(a + c + b, 3)
    assert no_repeat.first_duplicate() is None
    assert no_repeat.find(b) == 2


# --- files --------------------------------------------------------------------------------------


def test_read_entries_skips_blank_and_comment_lines(tmp_path: Path) -> None:
    listing = tmp_path / "training.txt"
    listing.write_bytes(
        b"\xef\xbb\xbf# training list, one ISRC a line\r\n"
        b"ISRC-1\r\n"
        b"\n"
        b"   \t\n"
        b"  # an indented comment\n"
        b"  ISRC-2  \n"
        b"Cafe\xcc\x81\n"
        b"ISRC-3"  # no final newline
    )
    assert read_entries(listing) == [b"ISRC-1", b"ISRC-2", "Caf\u00e9".encode(), b"ISRC-3"]
    assert read_entries(str(listing)) == read_entries(listing)
    from_file = TrainingList.from_file(listing)
    assert from_file.commitment() == commitment_of(["ISRC-1", "ISRC-2", "Caf\u00e9", "ISRC-3"])


def test_read_entries_names_the_duplicate_line(tmp_path: Path) -> None:
    listing = tmp_path / "training.txt"
    listing.write_text("# header\nCaf\u00e9\nISRC-1\n\nCafe\u0301\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 5\b.*line 2\b"):
        read_entries(listing)
    with pytest.raises(ValueError, match=r"line 5\b"):
        TrainingList.from_file(listing)


def test_read_entries_names_a_bad_line(tmp_path: Path) -> None:
    listing = tmp_path / "training.txt"
    listing.write_bytes(b"ISRC-1\nISRC-2\nISRC-\xff3\n")
    with pytest.raises(ValueError, match=r"line 3\b.*UTF-8"):
        read_entries(listing)
    listing.write_bytes(b"ISRC-1\nISRC\r2\n")
    with pytest.raises(ValueError, match=r"line 2\b.*line break"):
        read_entries(listing)


# --- serialised forms ---------------------------------------------------------------------------


def test_commitment_round_trip_and_keys() -> None:
    commitment = commitment_of(track_ids(5))
    data = commitment.to_dict()
    # The same keys as provsdk.models.disclosure.TrainingListCommitment.
    assert set(data) == {"count", "root", "algorithm"}
    assert Commitment.from_dict(json.loads(json.dumps(data))) == commitment
    upper = {**data, "root": data["root"].upper()}
    assert Commitment.from_dict(upper) == commitment  # hex is normalised to lowercase


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "count=1",
        {"count": 1, "root": "ab" * 32},
        {"count": 1, "root": "ab" * 32, "algorithm": ALGORITHM, "extra": 1},
        {"count": -1, "root": "ab" * 32, "algorithm": ALGORITHM},
        {"count": "1", "root": "ab" * 32, "algorithm": ALGORITHM},
        {"count": True, "root": "ab" * 32, "algorithm": ALGORITHM},
        {"count": 1.0, "root": "ab" * 32, "algorithm": ALGORITHM},
        {"count": 1, "root": "ab" * 31, "algorithm": ALGORITHM},
        {"count": 1, "root": "gg" * 32, "algorithm": ALGORITHM},
        {"count": 1, "root": "ab" * 32 + "\n", "algorithm": ALGORITHM},
        {"count": 1, "root": 12, "algorithm": ALGORITHM},
        {"count": 1, "root": "ab" * 32, "algorithm": "sha256"},
        {"count": 0, "root": "ab" * 32, "algorithm": ALGORITHM},
    ],
)
def test_commitment_from_hostile_dict(data: Any) -> None:
    with pytest.raises(ValueError):
        Commitment.from_dict(data)


def _proof_dict(tree: TrainingList, entry: str) -> dict[str, Any]:
    return tree.prove(entry).to_dict()


def _hostile_proofs(good: dict[str, Any]) -> list[Any]:
    path = good["path"]
    return [
        None,
        [good],
        "proof",
        {k: v for k, v in good.items() if k != "path"},
        {**good, "signature": "x"},
        {**good, "entry": 7},
        {**good, "entry": ""},
        {**good, "entry": "#comment"},
        {**good, "index": -1},
        {**good, "index": "6"},
        {**good, "index": False},
        {**good, "index": 6.0},
        {**good, "index": good["count"]},
        {**good, "count": 0},
        {**good, "count": "13"},
        {**good, "path": "".join(path)},
        {**good, "path": {"0": path[0]}},
        {**good, "path": [*path, path[0]]},  # too long for index 6 of 13
        {**good, "path": path + ["00" * 32] * 60},
        {**good, "path": path[:-1]},
        {**good, "path": [path[0][:-2], *path[1:]]},
        {**good, "path": ["xy" * 32, *path[1:]]},
        {**good, "path": [7, *path[1:]]},
        {**good, "root": "00" * 33},
        {**good, "root": None},
        {**good, "algorithm": "rfc6962-sha512"},
    ]


def test_proof_from_hostile_dict(tree13: TrainingList) -> None:
    good = _proof_dict(tree13, track_ids(N_TAMPER)[6])
    assert len(good["path"]) == 4
    assert InclusionProof.from_dict(good) == tree13.prove(track_ids(N_TAMPER)[6])
    for data in _hostile_proofs(good):
        with pytest.raises(ValueError):
            InclusionProof.from_dict(data)


def test_proof_path_length_is_checked_for_short_paths(tree13: TrainingList) -> None:
    # 13 = 8 + 4 + 1: leaf 12 stands alone, so its path is the roots of the 4- and 8-leaf
    # subtrees, two hashes where leaf 6 needs four.
    good = _proof_dict(tree13, track_ids(N_TAMPER)[12])
    assert len(good["path"]) == 2
    assert InclusionProof.from_dict(good).index == 12
    with pytest.raises(ValueError, match="needs 2"):
        InclusionProof.from_dict({**good, "path": [*good["path"], "00" * 32]})


def test_proof_from_dict_normalises_hex_and_still_verifies(tree13: TrainingList) -> None:
    good = _proof_dict(tree13, track_ids(N_TAMPER)[2])
    shouting = {**good, "path": [h.upper() for h in good["path"]], "root": good["root"].upper()}
    proof = InclusionProof.from_dict(shouting)
    assert proof == tree13.prove(track_ids(N_TAMPER)[2])
    assert verify_inclusion(proof, tree13.commitment())
