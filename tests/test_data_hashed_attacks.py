"""A hostile review of the streaming data-hashed signing path (docs/adr/0016).

Three kinds of attack: a source whose layout the writer could reproduce wrongly, an edit of a
signed file in the part the data hash leaves out (the store, and for WAV its chunk header), and
a source that changes while it is being signed. Each test names the attack. Two holes this
review found outside the strategy are closed: a second C2PA chunk is a manifest problem
(c2pa reads the first, the check read the last), and a store c2pa does not read is refused
rather than signed over as if absent.
"""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path
from typing import Any

import pytest
from test_data_hashed import Lab, _riff_chunks, _without_id3, lab  # noqa: F401 (lab: the fixture)

from provsdk.audio.containers import probe
from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.formats import AudioFormat
from provsdk.errors import InputError
from provsdk.models import Verdict
from provsdk.sign import C2paBuilderStrategy, DataHashedStrategy, SignResult, sign_file
from provsdk.sign.layout import Unfit, plan_layout
from provsdk.verify import verify_file


class Attacker(Lab):
    """test_data_hashed's lab, signing by the data-hashed path unless told otherwise."""

    def signs(self, source: Path, name: str, strategy: Any = None, **kw: Any) -> SignResult:
        return sign_file(
            source,
            self.tmp / name,
            self.spec,
            self.signer,
            strategy=strategy or DataHashedStrategy(),
            anchors=self.trust.producer,
            **kw,
        )

    def verdict(self, path: Path) -> Verdict:
        return verify_file(path, trust=self.trust).verdict

    def write(self, name: str, data: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(data)
        return path


@pytest.fixture
def attacker(lab: Lab) -> Attacker:  # noqa: F811 (the imported fixture)
    return Attacker(lab.vectors, lab.tmp, lab.signer, lab.spec, lab.trust)


# --- building blocks ---------------------------------------------------------------------


def _riff(body: bytes) -> bytes:
    """A RIFF/WAVE file of ``body`` (the chunks after 'WAVE'), its size field right."""
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _chunk(chunk_id: bytes, data: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _id3(major: int, frames: list[tuple[bytes, bytes, bytes]], tail: bytes = b"") -> bytes:
    """An ID3v2 tag of (id, flags, body) frames, then ``tail`` (padding) inside its size."""
    size = _syncsafe if major == 4 else (lambda n: struct.pack(">I", n))
    body = b"".join(fid + size(len(data)) + flags + data for fid, flags, data in frames) + tail
    return b"ID3" + bytes([major, 0, 0]) + _syncsafe(len(body)) + body


def _first_tag(data: bytes) -> bytes:
    return data[: len(data) - len(_without_id3(data))]


def _store_span(path: Path) -> tuple[int, int]:
    """Where probe finds the manifest store: (offset, length)."""
    manifest = probe(path).manifest
    assert manifest is not None
    return manifest


# --- 1. sources the writer must reproduce faithfully -------------------------------------


def test_zero_padding_after_the_riff_end_is_not_carried_into_the_signed_wav(
    attacker: Attacker,
) -> None:
    """The probe allows zeros after the RIFF chunk; the output must still end where its own
    RIFF size says, with the store last, or a reader walking on would find bytes there."""
    source = attacker.write(
        "padded.wav", (attacker.vectors / "sample1.wav").read_bytes() + b"\0" * 64
    )
    signed = attacker.signs(source, "s.wav")
    data = signed.path.read_bytes()
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data)
    assert _riff_chunks(data)[-1][0] == b"C2PA"
    assert attacker.verdict(signed.path) is Verdict.PASS


def test_nonzero_bytes_after_the_riff_end_are_refused_before_signing(attacker: Attacker) -> None:
    """Bytes a reader that walks past the RIFF end could play: signing must not vouch for
    them, nor silently drop them (which would sign other audio than the file held)."""
    wav = (attacker.vectors / "sample1.wav").read_bytes()
    hidden = _chunk(b"data", b"\x7f" * 400)
    source = attacker.write("trailing.wav", wav + hidden)
    with pytest.raises(InputError, match="follow the end of the RIFF chunk"):
        attacker.signs(source, "s.wav")
    assert not (attacker.tmp / "s.wav").exists()


def test_list_chunk_holding_a_data_lookalike_is_kept_whole_and_hashed(attacker: Attacker) -> None:
    """A 'data' chunk inside a LIST is no top-level chunk for any reader; the writer keeps
    the LIST byte for byte, so a flip inside it breaks the hash."""
    wav = (attacker.vectors / "sample1.wav").read_bytes()
    riff_end = struct.unpack("<I", wav[4:8])[0] + 8
    lookalike = _chunk(b"LIST", b"INFO" + _chunk(b"data", b"\x11" * 32))
    source = attacker.write("list.wav", _riff(wav[12:riff_end] + lookalike))
    signed = attacker.signs(source, "s.wav")
    data = signed.path.read_bytes()
    assert lookalike in data
    info = probe(signed.path)
    assert info.essence is not None and info.essence_problem is None
    flipped = bytearray(data)
    flipped[data.index(lookalike) + 20] ^= 1
    assert attacker.verdict(attacker.write("t.wav", bytes(flipped))) is Verdict.FAIL


def test_odd_chunk_with_a_nonzero_pad_byte_keeps_its_pad_under_the_hash(attacker: Attacker) -> None:
    """The pad byte after an odd chunk is copied, not rewritten, and is hashed: changing it
    afterwards breaks the signature."""
    wav = (attacker.vectors / "sample1.wav").read_bytes()
    riff_end = struct.unpack("<I", wav[4:8])[0] + 8
    odd = b"note" + struct.pack("<I", 3) + b"abc" + b"\xee"  # a pad byte that is not zero
    source = attacker.write("odd.wav", _riff(wav[12:riff_end] + odd + _chunk(b"junk", b"zz")))
    signed = attacker.signs(source, "s.wav")
    data = signed.path.read_bytes()
    at = data.index(odd)
    assert [c for c, _, _ in _riff_chunks(data)][-3:] == [b"note", b"junk", b"C2PA"]
    assert attacker.verdict(signed.path) is Verdict.PASS
    flipped = bytearray(data)
    flipped[at + len(odd) - 1] = 0
    assert attacker.verdict(attacker.write("t.wav", bytes(flipped))) is Verdict.FAIL


class _Sparse:
    """The head of a file that is ``size`` bytes long, zeros after it: a 4 GiB WAV's
    structure, without 4 GB on disk."""

    def __init__(self, head: bytes, size: int) -> None:
        self._head, self._size = head, size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, span: slice) -> bytes:
        start, stop, _ = span.indices(self._size)
        got = self._head[start:stop]
        return got + b"\0" * (stop - start - len(got))


def test_wav_the_store_would_push_past_4_gib_is_refused_not_wrapped(
    vectors: Path, tmp_path: Path
) -> None:
    """A RIFF size is 32 bits: a store added to a file just under 4 GiB must be refused
    before anything is copied, never written with a size field that wraps around (a reader
    would then stop early, or walk into the store as if it were audio)."""
    fmt_chunk = (vectors / "sample1.wav").read_bytes()[12:36]
    data_size = 0xFFFFFFFF - 4 - len(fmt_chunk) - 8 - 1000  # room for a 992-byte store
    head = _riff(fmt_chunk + b"data" + struct.pack("<I", data_size))[:44]
    head = head[:4] + struct.pack("<I", 4 + len(fmt_chunk) + 8 + data_size) + head[8:]
    buf = Bytes(_Sparse(head, 44 + data_size), tmp_path / "big.wav")  # type: ignore[arg-type]
    plan = plan_layout(AudioFormat.WAV, buf)
    layout = plan.assemble(b"\0" * 990)
    assert layout.size - 8 == struct.unpack("<I", layout.pieces[0][4:8])[0]  # type: ignore[index]
    with pytest.raises(Unfit, match="4 GiB"):
        plan.assemble(b"\0" * 1000)


def test_id3v24_frames_with_their_own_unsync_and_length_flags_survive_verbatim(
    attacker: Attacker,
) -> None:
    """v2.4 frame flags describe only their own frame, so the frame is copied as it is; c2pa
    and the probe still read the rewritten tag."""
    frame = (b"TIT2", b"\x00\x03", b"\x00\x00\x00\x07\x00hello\x00")
    audio = _without_id3((attacker.vectors / "sample1.mp3").read_bytes())
    source = attacker.write("flags.mp3", _id3(4, [frame]) + audio)
    signed = attacker.signs(source, "s.mp3")
    assert signed.strategy == "data-hashed"
    tag = _first_tag(signed.path.read_bytes())
    assert b"".join((frame[0], _syncsafe(len(frame[2])), frame[1], frame[2])) in tag
    assert attacker.verdict(signed.path) is Verdict.PASS


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        (_id3(3, [(b"TIT2", b"\x00\x40", b"\x01\x00x\x00")]), "frames with flags"),
        (b"ID3\x02\x00\x00" + _syncsafe(10) + b"TT2\x00\x00\x04\x00abc", "ID3v2.2"),
    ],
    ids=["id3v23-frame-flags", "id3v22"],
)
def test_a_tag_the_writer_cannot_rewrite_falls_back_and_always_says_why(
    attacker: Attacker, tag: bytes, reason: str
) -> None:
    """An attacker can force the slow path with a tag like this; what it must never do is
    make the streaming writer rewrite the tag wrongly, or fall back without a word."""
    audio = _without_id3((attacker.vectors / "sample1.mp3").read_bytes())
    source = attacker.write("odd.mp3", tag + audio)
    signed = attacker.signs(source, "s.mp3")
    assert signed.strategy == C2paBuilderStrategy.name
    assert signed.strategy_note is not None and reason in signed.strategy_note
    assert attacker.verdict(signed.path) is Verdict.PASS


def test_mpeg_frames_in_id3_padding_are_not_carried_into_the_new_tag(attacker: Attacker) -> None:
    """ID3 padding starts at the first zero byte and may hold anything after it; the new tag
    has no padding, so nothing from it survives outside the hash or inside it."""
    mp3 = (attacker.vectors / "sample1.mp3").read_bytes()
    audio = _without_id3(mp3)
    frames = audio[:2000]
    source = attacker.write(
        "pad.mp3", _id3(4, [(b"TIT2", b"\0\0", b"\x00t\x00")], b"\0" * 4 + frames) + audio
    )
    signed = attacker.signs(source, "s.mp3")
    data = signed.path.read_bytes()
    assert data.count(frames) == 1 and data.endswith(audio)
    assert attacker.verdict(signed.path) is Verdict.PASS


# --- 2. edits of a signed file in what the hash leaves out -------------------------------


@pytest.fixture
def signed_wav(attacker: Attacker) -> tuple[bytes, int, int]:
    """A WAV signed by the data-hashed path, and its C2PA chunk's offset and size."""
    data = attacker.signs(attacker.vectors / "sample1.wav", "signed.wav").path.read_bytes()
    ((_, at, size),) = [c for c in _riff_chunks(data) if c[0] == b"C2PA"]
    return data, at, size


def _edit(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


@pytest.mark.parametrize(
    "attack",
    [
        "store-chunk-size-shrunk",  # the tail of the store walked as chunks
        "store-chunk-size-grown",
        "store-chunk-renamed-data",  # the store's bytes offered to decoders as audio
        "store-chunk-size-shrunk-riff-kept",
        "store-chunk-size-minus-one",  # the store's last byte read as the pad byte
    ],
)
def test_wav_store_chunk_header_is_excluded_from_the_hash_but_editing_it_never_verifies(
    attacker: Attacker, signed_wav: tuple[bytes, int, int], attack: str
) -> None:
    """The exclusion covers the C2PA chunk's 8-byte header, as c2pa's own writer's does: an
    attacker may change it without touching a hashed byte. Every such change must end in a
    file that does not PASS (c2pa no longer finds or parses the store, or the probe refuses
    the layout)."""
    data, at, size = signed_wav
    edited = {
        "store-chunk-size-shrunk": _edit(data, at + 4, struct.pack("<I", size - 16)),
        "store-chunk-size-grown": _edit(data, at + 4, struct.pack("<I", size + 2)),
        "store-chunk-renamed-data": _edit(data, at, b"data"),
        "store-chunk-size-shrunk-riff-kept": _edit(data, at + 4, struct.pack("<I", 2)),
        "store-chunk-size-minus-one": _edit(data, at + 4, struct.pack("<I", size - 1)),
    }[attack]
    path = attacker.write("t.wav", edited)
    try:
        verdict = attacker.verdict(path)
    except InputError:
        return  # refused outright: no verdict to fool
    assert verdict is not Verdict.PASS


@pytest.mark.parametrize(
    "attack", ["zeros-after-riff-end", "chunk-after-store-riff-bumped", "store-moved-to-front"]
)
def test_wav_bytes_added_around_the_store_break_the_hash(
    attacker: Attacker, signed_wav: tuple[bytes, int, int], attack: str
) -> None:
    """The hash covers the whole file but the store: padding after it (which the probe
    accepts), a chunk after it with the RIFF size raised, or the store moved, all fail."""
    data, at, size = signed_wav
    store = data[at : at + 8 + size + (size & 1)]
    body = data[12:at]
    edited = {
        "zeros-after-riff-end": data + b"\0" * 16,
        "chunk-after-store-riff-bumped": _riff(body + store + _chunk(b"data", b"\x7f" * 64)),
        "store-moved-to-front": _riff(store + body),
    }[attack]
    assert attacker.verdict(attacker.write("t.wav", edited)) is Verdict.FAIL


def test_store_moved_into_a_list_chunk_is_not_read_as_the_manifest(
    attacker: Attacker, signed_wav: tuple[bytes, int, int]
) -> None:
    """c2pa and the probe look for the store among top-level chunks only; wrapped in a LIST
    (so decoders skip it either way) it is no manifest, and the file does not PASS."""
    data, at, size = signed_wav
    store = data[at : at + 8 + size + (size & 1)]
    path = attacker.write("nested.wav", _riff(data[12:at] + _chunk(b"LIST", b"INFO" + store)))
    assert probe(path).manifest is None
    assert attacker.verdict(path) is not Verdict.PASS


@pytest.mark.parametrize("ext", ("mp3", "flac"))
def test_id3_store_edits_break_the_signature_and_tag_edits_the_hash(
    attacker: Attacker, ext: str
) -> None:
    """For ID3 only the store inside the GEOB frame is excluded: the tag and frame headers
    are hashed, and the store's own bytes are signed."""
    signed = attacker.signs(attacker.vectors / f"sample1.{ext}", f"s.{ext}")
    data = signed.path.read_bytes()
    start, length = _store_span(signed.path)
    in_store = bytearray(data)
    # A signed byte of the store (the data-hash assertion's "exclusions" key); its COSE 'pad'
    # is unsigned by C2PA's design and recorded as such in the tamper matrix.
    in_store[data.index(b"exclusions", start, start + length)] ^= 1
    grown_tag = bytearray(data)
    size = 0
    for b in data[6:10]:
        size = (size << 7) | b
    grown_tag[6:10] = _syncsafe(size + 1)
    for edited in (in_store, grown_tag):
        path = attacker.write(f"t.{ext}", bytes(edited))
        with contextlib.suppress(InputError):  # refused outright: no verdict to fool
            assert attacker.verdict(path) is not Verdict.PASS


# --- 3. a source that changes while it is being signed -----------------------------------


def test_source_rewritten_during_the_copy_cannot_yield_a_signed_ambiguous_wav(
    attacker: Attacker,
) -> None:
    """The plan and the ambiguity check are made from one read of the source, the copy from
    another. A writer racing the signer (simulated here from the progress callback, which runs
    between blocks) turns a LIST chunk into a second 'data' chunk after the probe passed:
    provsdk must not sign the result, which players could play differently."""
    wav = (attacker.vectors / "sample1.wav").read_bytes()
    source = attacker.write("race.wav", wav)
    ((_, list_at, _),) = [c for c in _riff_chunks(wav) if c[0] == b"LIST"]
    raced = []

    def race(task: str, done: int, total: int) -> None:
        if not raced:
            raced.append(done)
            with source.open("r+b") as fh:
                fh.seek(list_at)
                fh.write(b"data")

    with pytest.raises(InputError, match="changed while it was being signed"):
        attacker.signs(source, "s.wav", progress=race)
    assert raced and not (attacker.tmp / "s.wav").exists()
    assert [p.name for p in attacker.tmp.iterdir()] == ["race.wav"]


def test_source_rewritten_during_the_copy_with_its_layout_intact_is_still_refused(
    attacker: Attacker,
) -> None:
    """Audio bytes changed mid-copy leave a well-formed file; the signer would vouch for a
    recording that is neither the one it checked nor, perhaps, a whole one."""
    wav = (attacker.vectors / "sample1.wav").read_bytes()
    source = attacker.write("race.wav", wav)

    def race(task: str, done: int, total: int) -> None:
        with source.open("r+b") as fh:
            fh.seek(len(wav) - 600)
            fh.write(b"\x55" * 4)

    with pytest.raises(InputError, match="changed while it was being signed"):
        attacker.signs(source, "s.wav", progress=race)
    assert not (attacker.tmp / "s.wav").exists()


# --- 4. holes outside the signing strategy -----------------------------------------------


def _hostile_store() -> bytes:
    """A JUMBF superbox whose description box declares more bytes than it has: the probe's
    store walk must refuse it before c2pa sees it (docs/SECURITY.md, the 1.7 GB allocation)."""
    return struct.pack(">I", 40) + b"jumb" + struct.pack(">I", 4096) + b"jumd" + b"\0" * 24


def test_hostile_store_in_a_first_c2pa_chunk_is_not_hidden_behind_a_benign_last_one(
    attacker: Attacker, signed_wav: tuple[bytes, int, int]
) -> None:
    data, at, size = signed_wav
    benign = data[at : at + 8 + size + (size & 1)]
    path = attacker.write(
        "two-stores.wav", _riff(_chunk(b"C2PA", _hostile_store()) + data[12:at] + benign)
    )
    try:
        info = probe(path)
    except InputError:
        return
    assert info.manifest_problem is not None


@pytest.mark.parametrize("strategy", ["data-hashed", "c2pa-builder"])
def test_store_c2pa_does_not_read_is_not_signed_over_as_if_absent(
    attacker: Attacker, strategy: str
) -> None:
    once = attacker.signs(attacker.vectors / "sample1.mp3", "once.mp3")
    old = once.path.read_bytes()
    plain = _id3(4, [(b"TIT2", b"\0\0", b"\x00t\x00")])
    source = attacker.write("two-tags.mp3", plain + _first_tag(old) + _without_id3(old))
    assert probe(source).manifest is not None
    chosen = DataHashedStrategy() if strategy == "data-hashed" else C2paBuilderStrategy()
    with pytest.raises(InputError):
        attacker.signs(source, "s.mp3", chosen)


def test_ambiguous_output_is_refused_even_when_the_source_times_did_not_move(
    attacker: Attacker,
) -> None:
    """A write in the same clock tick as the last one leaves the times as they were; the
    output, which is what gets signed, is probed again as the source was."""
    from provsdk.sign.strategy import _identity, _refuse_changed

    wav = (attacker.vectors / "sample1.wav").read_bytes()
    source = attacker.write("clean.wav", wav)
    ((_, list_at, _),) = [c for c in _riff_chunks(wav) if c[0] == b"LIST"]
    output = attacker.write("out.wav", _edit(wav, list_at, b"data"))
    with source.open("rb") as src:
        before = _identity(src)
        with pytest.raises(InputError, match=r"changed while it was being signed: 2 'data' chunks"):
            _refuse_changed(AudioFormat.WAV, source, src, before, output)
        _refuse_changed(AudioFormat.WAV, source, src, before, source)  # unchanged: signed


@pytest.mark.parametrize("strategy", ["data-hashed", "c2pa-builder"])
def test_resigning_a_tampered_data_hashed_file_is_refused(
    attacker: Attacker, strategy: str
) -> None:
    """Signing over a broken manifest would launder it into a file that verifies, with the
    broken one hidden as the parent ingredient; neither strategy may do it."""
    once = attacker.signs(attacker.vectors / "sample1.wav", "once.wav")
    data = bytearray(once.path.read_bytes())
    essence = probe(once.path).essence
    assert essence is not None
    data[essence[0][0] + 100] ^= 1
    tampered = attacker.write("tampered.wav", bytes(data))
    chosen = DataHashedStrategy() if strategy == "data-hashed" else C2paBuilderStrategy()
    with pytest.raises(InputError, match="fails validation"):
        attacker.signs(tampered, "twice.wav", chosen)
    assert not (attacker.tmp / "twice.wav").exists()


def test_interrupt_during_the_copy_leaves_no_output_and_no_temporary(attacker: Attacker) -> None:
    """Ctrl-C while the worker thread hashes: nothing half-written is renamed into place."""

    def interrupt(task: str, done: int, total: int) -> None:
        if done > 1 << 20:
            raise KeyboardInterrupt

    source = attacker.vectors / "sample1.wav"
    with pytest.raises(KeyboardInterrupt):
        attacker.signs(source, "s.wav", progress=interrupt)
    assert list(attacker.tmp.iterdir()) == []
