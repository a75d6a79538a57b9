"""Making audio B carry audio A's digest: every layout where a player and provsdk could take
different bytes for the audio, built byte by byte from real encodes, played by the real decoder.

A grant bound to one recording names ``urn:provsdk:audio-sha256:<hex>`` (ADR 7); ADR 13 makes
that the digest of what decoders play. Two tones are encoded once per format with the wheel's
ffmpeg: A (440 Hz) and B (880 Hz). Each attack test shows (a) that the attack is real: ffmpeg,
decoding to raw PCM, plays something other than what the old digest covered (B, A then B, A
rearranged), and (b) that provsdk now refuses the file: ``essence_digest`` raises
:class:`AmbiguousAudioError`, while ``probe`` still reads it for verification, and ``provsdk
sign`` and ``provsdk grant attach`` exit 2 with one line naming the file. Layouts that turned
out harmless (what ffmpeg does not play, or plays and provsdk hashes) have tests saying so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import subprocess
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from cli_runner import run_cli

from provsdk.audio.codec import encode
from provsdk.audio.containers import probe
from provsdk.audio.containers.mpeg_frames import mpeg_frame
from provsdk.audio.essence import essence_digest
from provsdk.audio.formats import AudioFormat
from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.errors import AmbiguousAudioError, CorruptAudioError, InputError
from provsdk.grants import create_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.sign import sign_file
from provsdk.verify import verify_file
from provsdk.verify.read import read_evidence

if TYPE_CHECKING:
    from conftest import Ffmpeg

FORMATS = ("wav", "mp3", "flac", "m4a")
RATE = 44100
STBL = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_of(data: bytes) -> str:
    """What ``essence_digest`` names a recording whose coded audio is ``data``."""
    return "urn:provsdk:audio-sha256:" + sha(data)


# --- the recordings, the decoder, the refusal -------------------------------------------------


@dataclass(frozen=True)
class Tones:
    folder: Path
    a: dict[str, Path]  # ext -> A, as ffmpeg encodes it
    b: dict[str, Path]
    frag_a: Path  # fragmented M4A of A and B, one fragment each
    frag_b: Path
    adts_b: Path  # B as raw AAC (ADTS frames)

    def essence(self, path: Path) -> bytes:
        """The coded audio provsdk hashes in an ordinary file (one range)."""
        ranges = probe(path).essence
        assert ranges is not None and len(ranges) == 1
        ((start, length),) = ranges
        return path.read_bytes()[start : start + length]


def _tone(freq: float) -> np.ndarray:
    t = np.arange(RATE) / RATE
    mono = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
    return np.stack([mono, mono], axis=1)


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory, ffmpeg: Ffmpeg) -> Tones:
    folder = tmp_path_factory.mktemp("tones")
    made: dict[str, dict[str, Path]] = {"a": {}, "b": {}}
    for name, freq in (("a", 440.0), ("b", 880.0)):
        for fmt in AudioFormat:
            made[name][fmt.extension] = folder / f"{name}.{fmt.extension}"
            encode(_tone(freq), RATE, fmt, made[name][fmt.extension])
    # The same AAC encoder settings as provsdk's, muxed as one fragment, and as bare ADTS.
    same = ["-c:a", "aac", "-b:a", "192k", "-map_metadata", "-1", "-fflags", "+bitexact"]
    for name in ("a", "b"):
        frag = ["-movflags", "+empty_moov+default_base_moof", "-frag_duration", "60000000"]
        _ffmpeg(ffmpeg, made[name]["wav"], *same, "-f", "mp4", *frag, folder / f"frag_{name}.m4a")
    _ffmpeg(ffmpeg, made["b"]["wav"], *same, "-f", "adts", folder / "b.aac")
    return Tones(
        folder, made["a"], made["b"], folder / "frag_a.m4a", folder / "frag_b.m4a", folder / "b.aac"
    )


def _ffmpeg(ffmpeg: Ffmpeg, *args: str | Path) -> None:
    command = [ffmpeg.exe, "-nostdin", "-v", "error", "-y", "-i", *map(str, args)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def played(ffmpeg: Ffmpeg, path: Path) -> bytes:
    """The PCM ffmpeg plays for ``path``: its default audio stream, as 16-bit samples."""
    result = subprocess.run(
        [ffmpeg.exe, "-nostdin", "-v", "quiet", "-i", str(path), "-f", "s16le", "-"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return result.stdout


@dataclass(frozen=True)
class Refusal:
    """What a refusal is checked with: a home with keys, and a grant bound to each A."""

    home: ProvsdkHome
    grants: dict[str, Path]  # ext -> a licensor-signed grant bound to A of that format

    def check(self, path: Path, tmp_path: Path) -> str:
        """Assert provsdk refuses ``path`` everywhere it should; the reason it gives."""
        info = probe(path)  # still readable, for verification
        assert info.essence is None and info.essence_problem
        with pytest.raises(AmbiguousAudioError) as caught:
            essence_digest(path)
        assert caught.value.reason == info.essence_problem
        assert isinstance(caught.value, CorruptAudioError)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)
        ext = info.format.extension
        for args in (
            ("sign", path, "-o", tmp_path / f"signed.{ext}"),
            ("grant", "attach", path, "--grant", self.grants[ext], "-o", tmp_path / f"g.{ext}"),
        ):
            result = run_cli(*args, home=self.home.root)
            assert result.returncode == 2, (args, result.stderr)
            (line,) = [
                ln for ln in result.stderr.strip().splitlines() if not ln.startswith("hint: ")
            ]
            assert str(path) in line and "ambiguous audio" in line, line
            assert not Path(args[-1]).exists()
        return info.essence_problem


@pytest.fixture(scope="module")
def refusal(dev_home: ProvsdkHome, tones: Tones) -> Refusal:
    licensor = load_signer(Role.LICENSOR, home=dev_home, use_env=False)
    grants = {}
    for ext, path in tones.a.items():
        grant = create_grant(
            licensor="Harbor Music", licensee="Game Studio", purposes=["commercial"],
            target_file=path,
        )  # fmt: skip
        grants[ext] = tones.folder / f"grant-{ext}.jws"
        grants[ext].write_text(sign_grant(grant, licensor))
    return Refusal(dev_home, grants)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- WAV ---------------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def _riff(body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _wav_parts(path: Path) -> tuple[bytes, bytes]:
    """(the 'fmt ' chunk, the samples) of an ffmpeg-encoded WAV."""
    data = path.read_bytes()
    assert data[12:16] == b"fmt " and data[36:40] == b"data"
    return data[12:36], data[44:]


@pytest.mark.slow
def test_grant_for_a_on_b_wav_second_data_chunk(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    fmt, pcm_a = _wav_parts(tones.a["wav"])
    _, pcm_b = _wav_parts(tones.b["wav"])
    path = write(tmp_path / "x.wav", _riff(fmt + _chunk(b"data", pcm_a) + _chunk(b"data", pcm_b)))
    # ffmpeg plays the last 'data' chunk, Python's wave module (like most readers) the first.
    assert played(ffmpeg, path) == pcm_b
    with wave.open(str(path)) as reader:
        assert reader.readframes(reader.getnframes()) == pcm_a
    assert "2 'data' chunks" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_wav_second_fmt_chunk(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    fmt, pcm_a = _wav_parts(tones.a["wav"])
    mono = _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, RATE // 2, RATE, 2, 16))
    path = write(tmp_path / "x.wav", _riff(fmt + mono + _chunk(b"data", pcm_a)))
    # The same bytes, two sounds: ffmpeg reads the first 'fmt ' (stereo, 44.1 kHz), the wave
    # module the last (mono at half the rate: an octave down, twice as long).
    assert played(ffmpeg, path) == pcm_a
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getframerate()) == (1, RATE // 2)
    assert "2 'fmt ' chunks" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_wav_data_chunk_after_the_riff_end(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    fmt, pcm_a = _wav_parts(tones.a["wav"])
    _, pcm_b = _wav_parts(tones.b["wav"])
    inside = _riff(fmt + _chunk(b"data", pcm_a))
    path = write(tmp_path / "x.wav", inside + _chunk(b"data", pcm_b))
    # The RIFF chunk is A, byte for byte, so the old digest was A's; ffmpeg walks on and plays B.
    assert digest_of(pcm_a) == essence_digest(tones.a["wav"])
    assert played(ffmpeg, path) == pcm_b
    assert "follow the end of the RIFF chunk" in refusal.check(path, tmp_path)


def test_wav_zero_padding_after_the_riff_end_is_not_ambiguous(tones: Tones, tmp_path: Path) -> None:
    path = write(tmp_path / "x.wav", tones.a["wav"].read_bytes() + bytes(64))
    assert essence_digest(path) == essence_digest(tones.a["wav"])


# --- MP3 ---------------------------------------------------------------------------------------


def _id3(padding: int) -> bytes:
    """An empty ID3v2.4 tag of ``padding`` zero bytes."""
    size = bytes((padding >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + size + bytes(padding)


def _ape(items: bytes) -> bytes:
    """A valid APEv2 tag (header, items, footer) holding ``items``."""

    def edge(flags: int) -> bytes:
        return b"APETAGEX" + struct.pack("<IIII", 2000, len(items) + 32, 1, flags) + bytes(8)

    return edge(1 << 31 | 1 << 29) + items + edge(1 << 31)


def _ape_binary(value: bytes) -> bytes:
    return _ape(struct.pack("<II", len(value), 2) + b"Cover Art (Front)\0" + value)


def _lyrics3v2(value: bytes) -> bytes:
    body = b"LYRICSBEGIN" + b"IND00003110" + b"LYR" + b"%05d" % len(value) + value
    return body + b"%06d" % len(body) + b"LYRICS200"


ID3V1 = b"TAG" + b"Title".ljust(30, b"\0") + bytes(95)


def _mp3_attack(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path, tail: Callable[[bytes], bytes]
) -> str:
    """A's file, then ``tail(B's frames)``; checks that ffmpeg plays more than A and that the
    frames the old walk hashed are A's; returns provsdk's reason for refusing it."""
    frames_a, frames_b = tones.essence(tones.a["mp3"]), tones.essence(tones.b["mp3"])
    path = write(tmp_path / "x.mp3", tones.a["mp3"].read_bytes() + tail(frames_b))
    assert digest_of(frames_a) == essence_digest(tones.a["mp3"])
    alone = played(ffmpeg, tones.a["mp3"])
    heard = played(ffmpeg, path)
    assert heard.startswith(alone[: len(alone) // 2]) and len(heard) > 1.8 * len(alone)
    return refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_frames_after_id3v1(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    why = _mp3_attack(tones, ffmpeg, refusal, tmp_path, lambda frames: ID3V1 + frames)
    assert "'TAG' at offset" in why


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_frames_after_apev2(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    why = _mp3_attack(tones, ffmpeg, refusal, tmp_path, lambda frames: _ape(b"") + frames)
    assert "'APETAGEX' at offset" in why


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_frames_after_lyrics3v2(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    why = _mp3_attack(tones, ffmpeg, refusal, tmp_path, lambda frames: _lyrics3v2(b"") + frames)
    assert "'LYRICSBEGIN' at offset" in why


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_frames_inside_an_apev2_tag(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    # A well-formed tag at the very end: ffmpeg still resyncs into its items.
    why = _mp3_attack(tones, ffmpeg, refusal, tmp_path, lambda frames: _ape_binary(frames))
    assert "the APEv2 tag holds audio frames" in why


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_frames_inside_a_lyrics3v2_tag(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    why = _mp3_attack(tones, ffmpeg, refusal, tmp_path, lambda frames: _lyrics3v2(frames) + ID3V1)
    assert "the Lyrics3v2 tag holds audio frames" in why


def test_mp3_real_trailing_tags_are_not_ambiguous(
    tones: Tones, ffmpeg: Ffmpeg, tmp_path: Path
) -> None:
    tags = _ape(struct.pack("<II", 5, 0) + b"Title\0Hello") + _lyrics3v2(b"la la") + ID3V1
    path = write(tmp_path / "x.mp3", tones.a["mp3"].read_bytes() + bytes(100) + tags)
    assert played(ffmpeg, path) == played(ffmpeg, tones.a["mp3"])
    assert essence_digest(path) == essence_digest(tones.a["mp3"])


@pytest.mark.slow
def test_grant_for_a_on_b_mp3_adts_frames_in_the_leading_gap(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    # ffmpeg's MP3 reader starts no earlier than provsdk's first frame (its header check is no
    # looser), so junk before the first frame is never played as MP3. Named .aac, with an ID3
    # tag too large for ffmpeg to look past, the file is read as ADTS instead and the gap plays.
    adts = tones.adts_b.read_bytes()
    frames, at = [], 0
    while at < len(adts):
        length = ((adts[at + 3] & 3) << 11) | (adts[at + 4] << 3) | (adts[at + 5] >> 5)
        frames.append(adts[at : at + length])
        at += length
    # Frames with no byte pattern that passes for an MPEG header, so provsdk's scan for the
    # first MPEG frame walks past them, as a real attacker would choose them.
    clean = [f for f in frames if not any(mpeg_frame(f[i : i + 4]) for i in range(len(f)))]
    gap = b"".join(clean)[:3000]
    gap = gap[: _whole_adts(gap)]
    assert gap.count(b"\xff\xf1") >= 2
    path = write(tmp_path / "x.aac", _id3(1_200_000) + gap + tones.essence(tones.a["mp3"]))
    assert len(played(ffmpeg, path)) >= 2 * 1024 * 4  # B's AAC frames, from the gap
    assert "the gap before the first frame holds audio frames" in refusal.check(path, tmp_path)


def _whole_adts(data: bytes) -> int:
    at = 0
    while at + 7 <= len(data):
        length = ((data[at + 3] & 3) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if at + length > len(data):
            break
        at += length
    return at


# --- FLAC --------------------------------------------------------------------------------------


def _flac_with_block(flac: bytes, kind: int, body: bytes) -> bytes:
    """``flac`` with one more metadata block, made the last one."""
    assert flac[:4] == b"fLaC"
    out, at = bytearray(flac), 4
    while True:
        header = struct.unpack(">I", flac[at : at + 4])[0]
        out[at] &= 0x7F
        at += 4 + (header & 0xFFFFFF)
        if header >> 31:
            break
    block = bytes([0x80 | kind]) + len(body).to_bytes(3, "big") + body
    return bytes(out[:at]) + block + flac[at:]


APPLICATION = 2


@pytest.mark.slow
def test_grant_for_a_on_b_flac_mpeg_frames_in_metadata(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    hidden = tones.essence(tones.b["mp3"])
    flac = _flac_with_block(tones.a["flac"].read_bytes(), APPLICATION, b"test" + hidden)
    # A signed FLAC opens with an ID3 tag; past ffmpeg's probe buffer (a large manifest), the
    # file is taken for MP3 unless its name says .flac, and the hidden frames play.
    path = write(tmp_path / "x.mp3", _id3(1_200_000) + flac)
    assert path.read_bytes().endswith(tones.essence(tones.a["flac"]))  # the old digest: A's
    heard, b_alone = played(ffmpeg, path), played(ffmpeg, tones.b["mp3"])
    assert len(heard) >= len(b_alone) and heard != played(ffmpeg, tones.a["flac"])
    assert played(ffmpeg, write(tmp_path / "x.flac", path.read_bytes())) == played(
        ffmpeg, tones.a["flac"]
    )
    assert "metadata block holds MPEG or ADTS audio frames" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_flac_adts_frames_in_metadata(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    flac = _flac_with_block(
        tones.a["flac"].read_bytes(), APPLICATION, b"test" + tones.adts_b.read_bytes()
    )
    path = write(tmp_path / "x.aac", _id3(1_200_000) + flac)
    assert played(ffmpeg, path) == played(ffmpeg, tones.adts_b)  # B, from the metadata
    assert "metadata block holds MPEG or ADTS audio frames" in refusal.check(path, tmp_path)


def test_flac_frames_in_metadata_are_not_played(
    tones: Tones, ffmpeg: Ffmpeg, tmp_path: Path
) -> None:
    hidden = tones.essence(tones.b["flac"])
    flac = _flac_with_block(tones.a["flac"].read_bytes(), APPLICATION, b"test" + hidden)
    path = write(tmp_path / "x.flac", flac)
    assert played(ffmpeg, path) == played(ffmpeg, tones.a["flac"])
    assert essence_digest(path) == essence_digest(tones.a["flac"])


def test_flac_frames_after_the_last_are_hashed(
    tones: Tones, ffmpeg: Ffmpeg, tmp_path: Path
) -> None:
    # B's frames end where STREAMINFO says A ends (both are one second), so the file passes
    # the last-frame check; ffmpeg plays A then B, and the digest covers both.
    path = write(tmp_path / "x.flac", tones.a["flac"].read_bytes() + tones.essence(tones.b["flac"]))
    both = played(ffmpeg, path)
    assert both == played(ffmpeg, tones.a["flac"]) + played(ffmpeg, tones.b["flac"])
    assert essence_digest(path) != essence_digest(tones.a["flac"])
    assert probe(path).essence_problem is None


def test_flac_bytes_after_the_last_frame_are_refused(
    tones: Tones, ffmpeg: Ffmpeg, tmp_path: Path
) -> None:
    # ffmpeg skips a trailing ID3v1 tag; provsdk refuses the file as corrupt, as it always has.
    path = write(tmp_path / "x.flac", tones.a["flac"].read_bytes() + ID3V1)
    assert played(ffmpeg, path) == played(ffmpeg, tones.a["flac"])
    with pytest.raises(CorruptAudioError, match="whole audio frame"):
        probe(path)


# --- M4A ---------------------------------------------------------------------------------------


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    out, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        assert size >= 8, kind
        out.append((kind, data[at + 8 : at + size]))
        at += size
    return out


def _join(items: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(_box(kind, body) for kind, body in items)


def _get(data: bytes, path: tuple[bytes, ...]) -> bytes:
    body = next(b for k, b in _children(data) if k == path[0])
    return body if len(path) == 1 else _get(body, path[1:])


def _edit(data: bytes, path: tuple[bytes, ...], change: Callable[[bytes], bytes]) -> bytes:
    """``data`` (a run of boxes) with the body of the first box at ``path`` changed."""
    items, done = [], False
    for kind, body in _children(data):
        if kind == path[0] and not done:
            body = change(body) if len(path) == 1 else _edit(body, path[1:], change)
            done = True
        items.append((kind, body))
    assert done, path
    return _join(items)


def _table(entries: list[tuple[int, ...]], fmt: str) -> bytes:
    return (
        bytes(4) + struct.pack(">I", len(entries)) + b"".join(struct.pack(fmt, *e) for e in entries)
    )


def _stco(*offsets: int) -> bytes:
    return _table([(o,) for o in offsets], ">I")


@dataclass(frozen=True)
class M4a:
    """An ffmpeg M4A taken apart: ftyp, free, mdat, moov (the samples fill the mdat)."""

    ftyp: bytes
    samples: bytes
    moov: bytes

    @classmethod
    def of(cls, path: Path) -> M4a:
        boxes = _children(path.read_bytes())
        assert [k for k, _ in boxes] == [b"ftyp", b"free", b"mdat", b"moov"]
        return cls(boxes[0][1], boxes[2][1], boxes[3][1])

    @property
    def head(self) -> bytes:
        return _box(b"ftyp", self.ftyp) + _box(b"free", b"")

    def at(self) -> int:
        """Where the body of an 'mdat' right after ``head`` starts."""
        return len(self.head) + 8

    def pointing(self, offset: int, moov: bytes | None = None) -> bytes:
        """``moov`` (ours by default) with its one chunk at ``offset``."""
        return _edit(moov or self.moov, (*STBL[1:], b"stco"), lambda _: _stco(offset))

    def sample_count(self) -> int:
        return int(struct.unpack(">I", _get(self.moov, (*STBL[1:], b"stsz"))[8:12])[0])


def _naive(path: Path) -> str:
    """The old digest: the body of the (first) 'mdat' box, whatever the tables say."""
    return digest_of(next(body for kind, body in _children(path.read_bytes()) if kind == b"mdat"))


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_moved_stco(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, producer_signer: KeySigner,
    spec: ManifestSpec, tmp_path: Path,
) -> None:  # fmt: skip
    a, b = M4a.of(tones.a["m4a"]), M4a.of(tones.b["m4a"])
    both = _box(b"mdat", a.samples + b.samples)
    # One licensed file whose mdat also hides B; the same bytes with B's tables pointed at B.
    licensed = write(tmp_path / "licensed.m4a", a.head + both + _box(b"moov", a.pointing(a.at())))
    moved = b.pointing(a.at() + len(a.samples), b.moov)
    forged = write(tmp_path / "forged.m4a", a.head + both + _box(b"moov", moved))
    assert played(ffmpeg, licensed) == played(ffmpeg, tones.a["m4a"])
    assert played(ffmpeg, forged) == played(ffmpeg, tones.b["m4a"])
    assert _naive(licensed) == _naive(forged)  # the old digest could not tell them apart
    # Now each names what it plays, and the licensed file keeps A's digest.
    assert essence_digest(licensed) == essence_digest(tones.a["m4a"])
    assert essence_digest(forged) == essence_digest(tones.b["m4a"])
    # Nothing ambiguous about the forged file itself: it signs, but A's grant does not cover it.
    signed = tmp_path / "signed.m4a"
    sign_file(forged, signed, spec, producer_signer)
    result = run_cli(
        "grant", "attach", signed, "--grant", refusal.grants["m4a"], "-o", tmp_path / "g.m4a",
        home=refusal.home.root,
    )  # fmt: skip
    assert result.returncode == 2
    assert "another recording" in result.stderr and str(signed) in result.stderr


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_samples_in_free_box(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    a, b = M4a.of(tones.a["m4a"]), M4a.of(tones.b["m4a"])
    mdat = _box(b"mdat", a.samples)
    hidden = a.at() + len(a.samples) + 8  # the body of the 'free' box after the mdat
    moov = b.pointing(hidden, b.moov)
    path = write(tmp_path / "x.m4a", a.head + mdat + _box(b"free", b.samples) + _box(b"moov", moov))
    assert _naive(path) == essence_digest(tones.a["m4a"])
    assert played(ffmpeg, path) == played(ffmpeg, tones.b["m4a"])
    assert "is not inside the 'mdat' box" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_two_mdat(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    a, b = M4a.of(tones.a["m4a"]), M4a.of(tones.b["m4a"])
    second = a.at() + len(a.samples) + 8
    moov = b.pointing(second, b.moov)
    mdats = _box(b"mdat", a.samples) + _box(b"mdat", b.samples)
    path = write(tmp_path / "x.m4a", a.head + mdats + _box(b"moov", moov))
    assert _naive(path) == essence_digest(tones.a["m4a"])
    assert played(ffmpeg, path) == played(ffmpeg, tones.b["m4a"])
    assert "2 'mdat' boxes" in refusal.check(path, tmp_path)


def _track(trak: bytes, offset: int, track_id: int, enabled: bool) -> bytes:
    def tkhd(body: bytes) -> bytes:
        changed = bytearray(body)
        changed[3] = (changed[3] & 0xFE) | int(enabled)
        changed[12:16] = struct.pack(">I", track_id)  # version 0: after the two times
        return bytes(changed)

    moved = _edit(trak, (b"mdia", b"minf", b"stbl", b"stco"), lambda _: _stco(offset))
    return _edit(moved, (b"tkhd",), tkhd)


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_two_audio_tracks(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    a, b = M4a.of(tones.a["m4a"]), M4a.of(tones.b["m4a"])
    items = []
    for kind, body in _children(a.moov):
        if kind == b"trak":  # A first, disabled; B second, enabled
            items.append((kind, _track(body, a.at(), 1, enabled=False)))
            trak_b = _get(b.moov, (b"trak",))
            items.append((kind, _track(trak_b, a.at() + len(a.samples), 2, enabled=True)))
        elif kind == b"mvhd":
            items.append((kind, body[:-4] + struct.pack(">I", 3)))  # next track id
        else:
            items.append((kind, body))
    path = write(
        tmp_path / "x.m4a",
        a.head + _box(b"mdat", a.samples + b.samples) + _box(b"moov", _join(items)),
    )
    # The first audio track, the one provsdk described, is A; ffmpeg plays the enabled one.
    assert played(ffmpeg, path) == played(ffmpeg, tones.b["m4a"])
    assert "2 audio tracks" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_fragmented(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    # B's fragment, its media data renamed 'free' (its run still points there), then A's mdat.
    items = []
    for kind, body in _children(tones.frag_b.read_bytes()):
        if kind == b"mdat":
            items += [(b"free", body), (b"mdat", M4a.of(tones.a["m4a"]).samples)]
        else:
            items.append((kind, body))
    path = write(tmp_path / "x.m4a", _join(items))
    assert _naive(path) == essence_digest(tones.a["m4a"])
    assert played(ffmpeg, path) == played(ffmpeg, tones.frag_b)
    assert played(ffmpeg, tones.frag_b) != played(ffmpeg, tones.frag_a)
    assert "fragmented" in refusal.check(path, tmp_path)


def _elst(entries: list[tuple[int, int]]) -> bytes:
    return _table([(duration, start, 1, 0) for duration, start in entries], ">Iihh")


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_edit_list_rearranges_a(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    a = M4a.of(tones.a["m4a"])
    duration, start = struct.unpack(">Ii", _get(a.moov, (b"trak", b"edts", b"elst"))[8:16])
    half = duration // 2
    swapped = _edit(a.moov, (b"trak", b"edts", b"elst"), lambda _: _elst(
        [(half, start + half), (half, start)]
    ))  # fmt: skip
    path = write(tmp_path / "x.m4a", a.head + _box(b"mdat", a.samples) + _box(b"moov", swapped))
    assert _naive(path) == essence_digest(tones.a["m4a"])
    heard, original = played(ffmpeg, path), played(ffmpeg, tones.a["m4a"])
    quarter = len(original) // 4 // 4 * 4
    assert heard[:quarter] == original[2 * quarter : 3 * quarter]  # A's second half first
    assert "edit list" in refusal.check(path, tmp_path)


@pytest.mark.slow
def test_grant_for_a_on_b_m4a_overlapping_chunks(
    tones: Tones, ffmpeg: Ffmpeg, refusal: Refusal, tmp_path: Path
) -> None:
    a = M4a.of(tones.a["m4a"])
    count = a.sample_count()
    first = struct.unpack(">I", _get(a.moov, (*STBL[1:], b"stsz"))[12:16])[0]
    # Two chunks of half the samples each; the second starts one sample into the first.
    moov = _edit(a.moov, (*STBL[1:], b"stsc"), lambda _: _table(
        [(1, count // 2, 1), (2, count - count // 2, 1)], ">III"
    ))  # fmt: skip
    moov = _edit(moov, (*STBL[1:], b"stco"), lambda _: _stco(a.at(), a.at() + first))
    path = write(tmp_path / "x.m4a", a.head + _box(b"mdat", a.samples) + _box(b"moov", moov))
    assert _naive(path) == essence_digest(tones.a["m4a"])
    assert played(ffmpeg, path) != played(ffmpeg, tones.a["m4a"])
    assert "share the bytes" in refusal.check(path, tmp_path)


def _stbl_edit(kind: bytes, change: Callable[[bytes], bytes]) -> Callable[[M4a], bytes]:
    return lambda m: _edit(m.moov, (*STBL[1:], kind), change)


def _second(kind: bytes) -> Callable[[M4a], bytes]:
    def twice(m: M4a) -> bytes:
        def stbl(body: bytes) -> bytes:
            return body + _box(kind, _get(body, (kind,)))

        return _edit(m.moov, STBL[1:], stbl)

    return twice


def _external(m: M4a) -> bytes:
    def dref(body: bytes) -> bytes:
        return body[:8] + _box(b"url ", b"\0\0\0\0file:///elsewhere.m4a\0")

    return _edit(m.moov, (b"trak", b"mdia", b"minf", b"dinf", b"dref"), dref)


def _u32_at(kind: bytes, at: int, value: Callable[[int], int]) -> Callable[[M4a], bytes]:
    """An edit of the 32-bit field at ``at`` in the body of the sample table box ``kind``."""

    def change(body: bytes) -> bytes:
        (old,) = struct.unpack(">I", body[at : at + 4])
        return body[:at] + struct.pack(">I", value(old)) + body[at + 4 :]

    return _stbl_edit(kind, change)


INCONSISTENT: dict[str, tuple[Callable[[M4a], bytes], str]] = {
    "stts-times-one-sample-more": (_u32_at(b"stts", 8, lambda n: n + 1), "time-to-sample"),
    "stsc-starts-at-chunk-2": (_u32_at(b"stsc", 8, lambda _: 2), "start at the first chunk"),
    "stsc-places-fewer-samples": (_u32_at(b"stsc", 12, lambda n: n - 1), "places"),
    "stsc-second-description": (_u32_at(b"stsc", 16, lambda _: 2), "description 2"),
    "two-stco": (_second(b"stco"), "'stco' or 'co64' boxes"),
    "two-stsz": (_second(b"stsz"), "'stsz' or 'stz2' boxes"),
    "samples-in-another-file": (_external, "another file"),
}


@pytest.mark.parametrize("case", INCONSISTENT, ids=str)
def test_m4a_tables_that_do_not_add_up_are_ambiguous(
    tones: Tones, tmp_path: Path, case: str
) -> None:
    change, why = INCONSISTENT[case]
    a = M4a.of(tones.a["m4a"])
    path = write(tmp_path / "x.m4a", a.head + _box(b"mdat", a.samples) + _box(b"moov", change(a)))
    info = probe(path)
    assert info.essence is None and info.essence_problem and why in info.essence_problem
    with pytest.raises(AmbiguousAudioError):
        essence_digest(path)


def test_m4a_second_moov_is_ambiguous(tones: Tones, ffmpeg: Ffmpeg, tmp_path: Path) -> None:
    # ffmpeg reads the first 'moov'; provsdk used to describe the last.
    a, b = M4a.of(tones.a["m4a"]), M4a.of(tones.b["m4a"])
    moovs = _box(b"moov", a.pointing(a.at())) + _box(b"moov", b.pointing(a.at(), b.moov))
    path = write(tmp_path / "x.m4a", a.head + _box(b"mdat", a.samples) + moovs)
    assert played(ffmpeg, path) == played(ffmpeg, tones.a["m4a"])
    assert "2 'moov' boxes" in (probe(path).essence_problem or "")


def _one_byte_samples(m: M4a, count: int) -> bytes:
    """Tables that agree on ``count`` one-byte samples in one chunk, with no size table."""
    moov = m.moov
    for kind, body in (
        (b"stsz", bytes(4) + struct.pack(">II", 1, count)),
        (b"stsc", _table([(1, count, 1)], ">III")),
        (b"stts", _table([(count, 1024)], ">II")),
    ):
        moov = _edit(moov, (*STBL[1:], kind), lambda _, body=body: body)
    return moov


HOSTILE: dict[str, Callable[[M4a], bytes]] = {
    "stsz-2^32-sizes": _u32_at(b"stsz", 8, lambda _: 0xFFFFFFFF),
    "stco-2^32-offsets": _u32_at(b"stco", 4, lambda _: 0xFFFFFFFF),
    "stsc-2^32-runs": _u32_at(b"stsc", 4, lambda _: 0xFFFFFFFF),
    "stts-2^32-entries": _u32_at(b"stts", 4, lambda _: 0xFFFFFFFF),
    "elst-2^32-edits": lambda m: _edit(
        m.moov, (b"trak", b"edts", b"elst"), lambda b: b[:4] + b"\xff\xff\xff\xff" + b[8:]
    ),
    "constant-size-2^32-samples": lambda m: _one_byte_samples(m, 0xFFFFFFFF),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE, ids=str)
def test_hostile_sample_tables_end_fast(tones: Tones, tmp_path: Path, case: str) -> None:
    a = M4a.of(tones.a["m4a"])
    moov = HOSTILE[case](a)
    path = write(tmp_path / "x.m4a", a.head + _box(b"mdat", a.samples) + _box(b"moov", moov))
    started = time.monotonic()
    try:
        info = probe(path)
    except CorruptAudioError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert info.essence is None and info.essence_problem
    with pytest.raises(InputError):
        essence_digest(path)
    assert time.monotonic() - started < 1.0


# --- ordinary files ----------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_ordinary_files_are_unambiguous_and_keep_their_digest_when_signed(
    tones: Tones,
    signed_files: dict[str, Path],
    vectors: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path: Path,
    ext: str,
) -> None:
    source = tones.a[ext]
    once, twice = tmp_path / f"once.{ext}", tmp_path / f"twice.{ext}"
    sign_file(source, once, spec, producer_signer)
    sign_file(once, twice, spec, producer_signer)  # over its own history, as attach does
    digests = {essence_digest(p) for p in (source, once, twice)}
    assert len(digests) == 1
    for path in (source, once, twice, signed_files[ext], vectors / f"sample1.{ext}"):
        info = probe(path)
        assert info.essence_problem is None and info.essence and len(info.essence) == 1, path
    assert essence_digest(signed_files[ext]) == essence_digest(vectors / f"sample1.{ext}")
    if ext == "m4a":  # the samples fill the one mdat in order: the digest is the old one
        for path in (source, once, twice, signed_files[ext], vectors / "sample1.m4a"):
            assert essence_digest(path) == _naive(path)


@pytest.mark.slow
def test_verify_reads_an_ambiguous_file_and_reports_why_the_grant_does_not_cover_it(
    tones: Tones,
    refusal: Refusal,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path: Path,
) -> None:
    # A's file, signed with A's grant; then B is added after the RIFF end, the attack of
    # test_grant_for_a_on_b_wav_data_chunk_after_the_riff_end on a file that carries the grant.
    token = refusal.grants["wav"].read_text()
    signed = tmp_path / "signed.wav"
    sign_file(tones.a["wav"], signed, dataclasses.replace(spec, grants=(token,)), producer_signer)
    path = write(
        tmp_path / "x.wav", signed.read_bytes() + _chunk(b"data", _wav_parts(tones.b["wav"])[1])
    )
    trust = TrustConfig.load(refusal.home)
    evidence = read_evidence(path, trust.producer)
    assert evidence.essence is None
    assert evidence.essence_problem and "RIFF" in evidence.essence_problem
    report = verify_file(path, trust=trust)
    (grant,) = report.grants.grants
    assert grant.covers is False
    result = run_cli("verify", path, home=refusal.home.root)
    assert result.returncode == 1, result.stderr
