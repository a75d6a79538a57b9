"""Structural checks of Ogg (Vorbis, Opus) and AIFF/AIFF-C, the formats signed with a sidecar.

Every file is made by ffmpeg; the damaged ones are real files cut, flipped or rebuilt here with
Ogg pages resealed by an independent, table-driven CRC, so each damage is the only thing wrong.
"""

from __future__ import annotations

import hashlib
import math
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provsdk.audio.containers import probe
from provsdk.audio.containers.aiff import extended_to_float
from provsdk.audio.containers.ogg import ogg_crc
from provsdk.audio.essence import ESSENCE_PREFIX, essence_digest
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import CorruptAudioError, InputError, UnsupportedFormatError

# file name: (tone sample rate, channels, ffmpeg codec arguments, the format probe reports).
# libopus takes 48 kHz only: ffmpeg resamples the 44.1 kHz tone, and the header keeps 44100 as
# the input rate.
MADE: dict[str, tuple[int, int, list[str], AudioFormat]] = {
    "vorbis-44k-mono.ogg": (44100, 1, ["-c:a", "libvorbis"], AudioFormat.OGG),
    "vorbis-48k-stereo.ogg": (48000, 2, ["-c:a", "libvorbis"], AudioFormat.OGG),
    "opus-48k-mono.opus": (48000, 1, ["-c:a", "libopus"], AudioFormat.OPUS),
    "opus-44k-stereo.opus": (44100, 2, ["-c:a", "libopus"], AudioFormat.OPUS),
    "aiff-44k-mono.aiff": (44100, 1, ["-c:a", "pcm_s16be"], AudioFormat.AIFF),
    "aiff-48k-stereo-s24.aiff": (48000, 2, ["-c:a", "pcm_s24be"], AudioFormat.AIFF),
    "aifc-48k-stereo-sowt.aifc": (48000, 2, ["-c:a", "pcm_s16le", "-f", "aiff"], AudioFormat.AIFF),
    "aifc-44k-mono-fl32.aifc": (44100, 1, ["-c:a", "pcm_f32be", "-f", "aiff"], AudioFormat.AIFF),
    "aiff-44k-mono-id3.aiff": (
        44100,
        1,
        ["-c:a", "pcm_s16be", "-write_id3v2", "1", "-metadata", "title=tone"],
        AudioFormat.AIFF,
    ),
    "aifc-44k-mono-ima4.aifc": (44100, 1, ["-c:a", "adpcm_ima_qt", "-f", "aiff"], AudioFormat.AIFF),
    "flac-in-ogg.oga": (44100, 1, ["-c:a", "flac", "-f", "ogg"], AudioFormat.OGG),
}
# Ogg FLAC is refused; IMA ADPCM counts its frames in packets of 64, so it has no duration.
GOOD = [name for name in MADE if not name.endswith((".oga", "-ima4.aifc"))]


def _lavfi(exe: str) -> list[str]:
    return [exe, "-nostdin", "-v", "error", "-f", "lavfi", "-i"]


@pytest.fixture(scope="session")
def made(ffmpeg, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two seconds of a 440 Hz tone in each layout of MADE."""
    folder = tmp_path_factory.mktemp("ogg-aiff")
    out = {}
    for name, (rate, channels, args, _) in MADE.items():
        dest = folder / name
        tone = f"sine=frequency=440:duration=2:sample_rate={rate}"
        subprocess.run(
            [*_lavfi(ffmpeg.exe), tone, "-ac", str(channels), *args, str(dest)],
            check=True,
            timeout=60,
        )
        out[name] = dest
    return out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _refused(path: Path, error: type[InputError] = CorruptAudioError) -> str:
    """The one-line error naming ``path`` that probing it raises, as text."""
    with pytest.raises(error) as info:
        probe(path)
    text = str(info.value)
    assert "\n" not in text
    assert path.name in text
    assert info.value.path == path
    return text


# --- Ogg helpers: a test-side page parser and an independent CRC -------------------------------


def _reference_crc(data: bytes) -> int:
    """Ogg's CRC-32 bit by bit, as RFC 3533 describes it: MSB first, polynomial 0x04C11DB7."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def _split_pages(data: bytes) -> list[bytes]:
    pages, at = [], 0
    while at < len(data):
        assert data[at : at + 4] == b"OggS"
        segments = data[at + 26]
        end = at + 27 + segments + sum(data[at + 27 : at + 27 + segments])
        pages.append(data[at:end])
        at = end
    return pages


def _reseal(page: bytes) -> bytes:
    """``page`` with its CRC field recomputed, so only the damage done to it is wrong."""
    blank = page[:22] + b"\0\0\0\0" + page[26:]
    return page[:22] + struct.pack("<I", _reference_crc(blank)) + page[26:]


def _page(flags: int, granule: int, serial: int, sequence: int, packets: list[bytes]) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    return _reseal(header + lacing + b"".join(packets))


def _with_granule(page: bytes, granule: int) -> bytes:
    return _reseal(page[:6] + struct.pack("<q", granule) + page[14:])


# --- good files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD)
def test_probe_reads_what_ffmpeg_wrote(made: dict[str, Path], name: str) -> None:
    path = made[name]
    rate, channels, _, fmt = MADE[name]
    info = probe(path)
    assert detect_format(path) is fmt
    assert info.format is fmt
    # Opus decodes at 48 kHz whatever rate went in.
    assert info.sample_rate == (48000 if fmt is AudioFormat.OPUS else rate)
    assert info.channels == channels
    assert info.duration == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("name", GOOD)
def test_the_essence_is_the_whole_file(made: dict[str, Path], name: str) -> None:
    """The sidecar hashes every byte, so the digest of the essence is that of the file."""
    path = made[name]
    info = probe(path)
    assert info.essence == ((0, path.stat().st_size),)
    assert info.manifest is None and info.essence_problem is None
    whole = hashlib.sha256(path.read_bytes()).hexdigest()
    assert essence_digest(path, info) == ESSENCE_PREFIX + whole


def test_ffmpeg_wrote_the_aifc_codings_under_test(made: dict[str, Path]) -> None:
    """pcm_s16le in an AIFF muxer becomes AIFF-C 'sowt', pcm_f32be 'fl32'; plain is AIFF."""
    assert made["aifc-48k-stereo-sowt.aifc"].read_bytes()[8:12] == b"AIFC"
    assert b"sowt" in made["aifc-48k-stereo-sowt.aifc"].read_bytes()[:100]
    assert b"fl32" in made["aifc-44k-mono-fl32.aifc"].read_bytes()[:100]
    assert made["aiff-44k-mono.aiff"].read_bytes()[8:12] == b"AIFF"
    assert b"ID3 " in made["aiff-44k-mono-id3.aiff"].read_bytes()


def test_compressed_aifc_is_read_without_a_duration(made: dict[str, Path]) -> None:
    path = made["aifc-44k-mono-ima4.aifc"]
    assert b"ima4" in path.read_bytes()[:100]
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == (AudioFormat.AIFF, 44100, 1)
    assert info.duration is None
    assert info.essence == ((0, path.stat().st_size),)


def test_ogg_crc_matches_the_bitwise_definition() -> None:
    data = bytes(range(256)) * 3 + b"OggS"
    for chunk in (b"", b"\x00", b"\x80", b"OggS", data):
        assert ogg_crc(chunk) == _reference_crc(chunk)
    assert ogg_crc(data[:100], data[100:]) == _reference_crc(data)


def test_ogg_crc_of_every_ffmpeg_page(made: dict[str, Path]) -> None:
    for name in ("vorbis-44k-mono.ogg", "opus-48k-mono.opus"):
        for page in _split_pages(made[name].read_bytes()):
            stored = struct.unpack("<I", page[22:26])[0]
            assert ogg_crc(page[:22], b"\0\0\0\0", page[26:]) == stored


def test_trailing_zeros_after_the_form_chunk_are_padding(
    made: dict[str, Path], tmp_path: Path
) -> None:
    data = made["aiff-44k-mono.aiff"].read_bytes()
    path = _write(tmp_path / "padded.aiff", data + b"\0" * 4096)
    assert probe(path).duration == pytest.approx(2.0, abs=0.05)


# --- damaged Ogg ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vorbis-48k-stereo.ogg", "opus-44k-stereo.opus"])
def test_ogg_truncated_anywhere(made: dict[str, Path], tmp_path: Path, name: str) -> None:
    data = made[name].read_bytes()
    pages = _split_pages(data)
    at_page_end = len(pages[0]) + len(pages[1])
    cuts = {
        "after-capture": 5,
        "in-header": 20,
        "in-lacing": 27,
        "in-first-body": len(pages[0]) - 5,
        "at-a-page-boundary": at_page_end,  # whole pages, but the stream never ends
        "half": len(data) // 2,
        "last-byte": len(data) - 1,
        "before-the-last-page": len(data) - len(pages[-1]),
    }
    for label, size in cuts.items():
        path = _write(tmp_path / f"{label}-{name}", data[:size])
        text = _refused(path)
        assert "truncated" in text or "corrupt" in text, label


def test_ogg_page_body_with_a_flipped_byte_fails_the_crc(
    made: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(made["vorbis-48k-stereo.ogg"].read_bytes())
    pages = _split_pages(bytes(data))
    third = len(pages[0]) + len(pages[1])
    data[third + len(pages[2]) - 10] ^= 0x01
    text = _refused(_write(tmp_path / "flipped.ogg", bytes(data)))
    assert "CRC" in text and f"offset {third}" in text


def test_ogg_garbage_between_pages(made: dict[str, Path], tmp_path: Path) -> None:
    data = made["opus-48k-mono.opus"].read_bytes()
    pages = _split_pages(data)
    at = sum(len(p) for p in pages[:3])
    path = _write(tmp_path / "garbage.opus", data[:at] + b"\x00JUNK" * 20 + data[at:])
    text = _refused(path)
    assert f"offset {at}" in text and "OggS" in text


def test_ogg_bytes_after_the_last_page(made: dict[str, Path], tmp_path: Path) -> None:
    data = made["vorbis-44k-mono.ogg"].read_bytes()
    for label, tail in (("zeros", b"\0" * 64), ("text", b"hidden payload")):
        text = _refused(_write(tmp_path / f"tail-{label}.ogg", data + tail))
        assert f"offset {len(data)}" in text


def test_ogg_page_length_past_the_end(made: dict[str, Path], tmp_path: Path) -> None:
    data = made["vorbis-44k-mono.ogg"].read_bytes()
    pages = _split_pages(data)
    last = bytearray(pages[-1])
    assert last[27 + last[26] - 1] < 254
    last[27 + last[26] - 1] = 254  # the last lacing value: the body now runs past the file
    path = _write(tmp_path / "long-page.ogg", b"".join(pages[:-1]) + _reseal(bytes(last)))
    assert "truncated" in _refused(path)


def test_ogg_pages_out_of_order(made: dict[str, Path], tmp_path: Path) -> None:
    pages = _split_pages(made["opus-48k-mono.opus"].read_bytes())
    assert len(pages) > 4
    swapped = [*pages[:2], pages[3], pages[2], *pages[4:]]
    assert "expected" in _refused(_write(tmp_path / "swapped.opus", b"".join(swapped)))


def test_ogg_bos_page_of_an_unknown_codec(tmp_path: Path) -> None:
    bos = _page(0x02, 0, 7, 0, [b"\x42wavelet-codec v9" + b"\0" * 20])
    eos = _page(0x04, 4800, 7, 1, [b"\x00" * 40])
    path = _write(tmp_path / "unknown.ogg", bos + eos)
    assert detect_format(path) is AudioFormat.OGG
    assert "unknown codec" in _refused(path, UnsupportedFormatError)


@pytest.mark.parametrize(
    ("magic", "named"),
    [(b"Speex   ", "Speex"), (b"\x80theora", "Theora"), (b"fishead\0", "Skeleton")],
)
def test_ogg_bos_page_of_another_known_codec_is_named(
    tmp_path: Path, magic: bytes, named: str
) -> None:
    bos = _page(0x02, 0, 7, 0, [magic + b"\0" * 72])
    path = _write(tmp_path / "other.ogg", bos + _page(0x04, 0, 7, 1, [b"\0" * 8]))
    assert named in _refused(path, UnsupportedFormatError)


def test_ogg_flac_made_by_ffmpeg_is_named(made: dict[str, Path]) -> None:
    assert "Ogg FLAC" in _refused(made["flac-in-ogg.oga"], UnsupportedFormatError)


def test_ogg_chained_streams_are_refused_by_name(made: dict[str, Path], tmp_path: Path) -> None:
    first = made["vorbis-44k-mono.ogg"].read_bytes()
    path = _write(tmp_path / "chained.ogg", first + made["vorbis-48k-stereo.ogg"].read_bytes())
    text = _refused(path, UnsupportedFormatError)
    assert "chained" in text and f"offset {len(first)}" in text


def test_ogg_multiplexed_streams_are_refused_by_name(ffmpeg, tmp_path: Path) -> None:
    path = tmp_path / "two-streams.ogg"
    tone = "sine=frequency={}:duration=0.5"
    subprocess.run(
        [
            *_lavfi(ffmpeg.exe),
            tone.format(440),
            *("-f", "lavfi", "-i", tone.format(660)),
            *("-map", "0", "-map", "1", "-c:a", "libvorbis", str(path)),
        ],
        check=True,
        timeout=60,
    )
    assert "multiplexed" in _refused(path, UnsupportedFormatError)


def test_opus_head_sharing_its_page_with_another_packet(tmp_path: Path) -> None:
    """The identification header must be alone on its page: with 40 more lacing values the
    head would also lie past what detect_format reads, and the two would disagree."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    bos = _page(0x02, 0, 9, 0, [head] + [b"\0"] * 40)
    path = _write(tmp_path / "crowded.opus", bos + _page(0x04, 960, 9, 1, [b"\0" * 8]))
    assert "one header" in _refused(path)


def test_ogg_without_audio_packets(made: dict[str, Path], tmp_path: Path) -> None:
    pages = _split_pages(made["opus-48k-mono.opus"].read_bytes())
    assert pages[1][26] == 1  # OpusTags alone on the second page
    tags = bytearray(pages[1])
    tags[5] |= 0x04  # end the stream right after the headers
    path = _write(tmp_path / "headers-only.opus", pages[0] + _reseal(bytes(tags)))
    assert "no audio" in _refused(path)


@pytest.mark.parametrize(
    ("label", "granule"), [("negative", -5), ("below-pre-skip", 10), ("absurd", 2**62)]
)
def test_ogg_unbelievable_last_granule_gives_no_duration(
    made: dict[str, Path], tmp_path: Path, label: str, granule: int
) -> None:
    pages = _split_pages(made["opus-48k-mono.opus"].read_bytes())
    pages[-1] = _with_granule(pages[-1], granule)
    info = probe(_write(tmp_path / f"{label}.opus", b"".join(pages)))
    assert info.format is AudioFormat.OPUS and info.channels == 1
    assert info.duration is None


# --- damaged AIFF -----------------------------------------------------------------------------


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, at = [], 12
    while at + 8 <= len(data):
        size = struct.unpack(">I", data[at + 4 : at + 8])[0]
        out.append((data[at : at + 4], data[at + 8 : at + 8 + size]))
        at += 8 + size + (size & 1)
    return out


def _form(kind: bytes, chunks: list[tuple[bytes, bytes]], size: int | None = None) -> bytes:
    body = kind + b"".join(
        cid + struct.pack(">I", len(cb)) + cb + b"\0" * (len(cb) & 1) for cid, cb in chunks
    )
    return b"FORM" + struct.pack(">I", len(body) if size is None else size) + body


def _rebuilt(made: dict[str, Path], change: Callable[[list[tuple[bytes, bytes]]], None]) -> bytes:
    data = made["aiff-44k-mono.aiff"].read_bytes()
    chunks = _chunks(data)
    assert [cid for cid, _ in chunks] == [b"COMM", b"SSND"]
    change(chunks)
    return _form(data[8:12], chunks)


def _rate(chunks: list[tuple[bytes, bytes]], raw: bytes) -> None:
    comm = chunks[0][1]
    chunks[0] = (b"COMM", comm[:8] + raw + comm[18:])


NAN = b"\x7f\xff\xc0\x00\x00\x00\x00\x00\x00\x00"
INFINITY = b"\x7f\xff\x80\x00\x00\x00\x00\x00\x00\x00"
ZERO = b"\x00" * 10
NEGATIVE = b"\xc0\x0e\xac\x44\x00\x00\x00\x00\x00\x00"  # -44100
HUGE = b"\x40\x7e\x80" + b"\x00" * 7  # 2^127 Hz


AIFF_DAMAGE: list[tuple[str, Callable[[list[tuple[bytes, bytes]]], None], str]] = [
    ("two-ssnd-chunks", lambda c: c.append(c[1]), "two SSND chunks"),
    ("two-comm-chunks", lambda c: c.insert(1, c[0]), "two COMM chunks"),
    ("no-comm", lambda c: c.pop(0), "no COMM"),
    ("no-ssnd", lambda c: c.pop(1), "no SSND"),
    ("nan-rate", lambda c: _rate(c, NAN), "sample rate"),
    ("zero-rate", lambda c: _rate(c, ZERO), "sample rate"),
    ("infinite-rate", lambda c: _rate(c, INFINITY), "sample rate"),
    ("negative-rate", lambda c: _rate(c, NEGATIVE), "sample rate"),
    ("absurd-rate", lambda c: _rate(c, HUGE), "sample rate"),
    ("zero-channels", lambda c: c.__setitem__(0, (b"COMM", b"\0\0" + c[0][1][2:])), "0 channels"),
    ("short-comm", lambda c: c.__setitem__(0, (b"COMM", c[0][1][:10])), "COMM chunk is 10"),
    ("ssnd-short-of-frames", lambda c: c.__setitem__(1, (b"SSND", c[1][1][:-2])), "SSND"),
    ("ssnd-offset-past-end", lambda c: c.__setitem__(1, (b"SSND", b"\xff" * 8)), "offset"),
    (
        "chunk-count-bomb",
        lambda c: c.__setitem__(slice(0, 0), [(b"JUNK", b"")] * 20_000),
        "more than 10000 chunks",
    ),
    ("binary-chunk-id", lambda c: c.insert(1, (b"\x00\x01\x02\x03", b"")), "no chunk starts"),
]


@pytest.mark.parametrize(
    ("damage", "change", "says"), AIFF_DAMAGE, ids=[damage for damage, _, _ in AIFF_DAMAGE]
)
def test_aiff_structural_damage(
    made: dict[str, Path],
    tmp_path: Path,
    damage: str,
    change: Callable[[list[tuple[bytes, bytes]]], None],
    says: str,
) -> None:
    path = _write(tmp_path / f"{damage}.aiff", _rebuilt(made, change))
    assert says in _refused(path)


def test_aiff_form_size_past_the_end(made: dict[str, Path], tmp_path: Path) -> None:
    data = made["aiff-44k-mono.aiff"].read_bytes()
    path = _write(tmp_path / "long-form.aiff", data[:4] + b"\xff\xff\xff\xf0" + data[8:])
    assert "FORM header declares" in _refused(path)


def test_aiff_trailing_garbage_after_the_form(made: dict[str, Path], tmp_path: Path) -> None:
    data = made["aifc-48k-stereo-sowt.aifc"].read_bytes()
    path = _write(tmp_path / "tail.aifc", data + b"\0\0ID3 hidden SSND")
    assert f"offset {len(data)}" in _refused(path)


def test_aiff_chunk_running_past_the_form(made: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(made["aiff-44k-mono.aiff"].read_bytes())
    data[16:20] = b"\x7f\x00\x00\x00"  # COMM claims 2 GB
    assert "'COMM'" in _refused(_write(tmp_path / "long-comm.aiff", bytes(data)))


@pytest.mark.parametrize("name", ["aiff-48k-stereo-s24.aiff", "aifc-48k-stereo-sowt.aifc"])
def test_aiff_truncated_anywhere(made: dict[str, Path], tmp_path: Path, name: str) -> None:
    data = made[name].read_bytes()
    # Below 12 bytes 'FORM....AIFF' is incomplete and the file is not recognised at all.
    for size in (12, 20, 40, 60, len(data) // 2, len(data) - 1):
        path = _write(tmp_path / f"cut-{size}-{name}", data[:size])
        _refused(path)


def test_aiff_truncated_with_the_form_size_mended(made: dict[str, Path], tmp_path: Path) -> None:
    """Cut short and the FORM and SSND sizes rewritten to match: COMM's frames are missing."""
    data = made["aiff-44k-mono.aiff"].read_bytes()
    chunks = _chunks(data)
    chunks[1] = (b"SSND", chunks[1][1][: len(chunks[1][1]) // 2])
    path = _write(tmp_path / "mended.aiff", _form(b"AIFF", chunks))
    assert "COMM declares frames" in _refused(path)


# --- the 80-bit sample rate -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"\x40\x0e\xac\x44" + b"\0" * 6, 44100.0),
        (b"\x40\x0e\xbb\x80" + b"\0" * 6, 48000.0),
        (b"\x40\x0b\xfa\x00" + b"\0" * 6, 8000.0),
        (b"\x3f\xff\x80" + b"\0" * 7, 1.0),
        (b"\x40\x0d\xad\xdd\x17\x45\xd1\x74\x5d\x17", 22254.545454545454),  # the classic Mac rate
        (ZERO, 0.0),
        (NEGATIVE, -44100.0),
        (INFINITY, math.inf),
    ],
)
def test_extended_to_float(raw: bytes, value: float) -> None:
    assert extended_to_float(raw) == pytest.approx(value, rel=1e-12)


def test_extended_to_float_nan_and_overflow() -> None:
    assert math.isnan(extended_to_float(NAN))
    assert extended_to_float(b"\x7f\xfe" + b"\xff" * 8) == math.inf
