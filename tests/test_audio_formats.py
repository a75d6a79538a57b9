"""Format detection by content, structural probing of the containers, and encoding."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from provsdk.audio.codec import encode
from provsdk.audio.containers import AudioInfo, probe
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import CorruptAudioError, InputError, UnsupportedFormatError

GOOD = {
    "sample1.wav": AudioFormat.WAV,
    "sample1.mp3": AudioFormat.MP3,
    "sample1.flac": AudioFormat.FLAC,
    "sample1.m4a": AudioFormat.M4A,
    "sample1_signed.wav": AudioFormat.WAV,
}
HOSTILE = ("sample3.invalid.wav", "riff_bomb_1000.wav", "id3v23_compression_underflow.mp3")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _assert_one_line_naming(error: BaseException, path: Path) -> None:
    text = str(error)
    assert "\n" not in text
    assert path.name in text


def _wav(chunks: list[bytes], riff_size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    size = len(body) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size) + body


def _fmt_chunk(channels: int = 1, rate: int = 8000) -> bytes:
    align = 2 * channels
    return struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, channels, rate, rate * align, align, 16)


def _data_chunk(pcm: bytes, declared: int | None = None) -> bytes:
    return b"data" + struct.pack("<I", len(pcm) if declared is None else declared) + pcm


PCM = b"\x00\x01" * 800  # 0.1 s of mono 16-bit at 8 kHz


# --- detect_format ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), sorted(GOOD.items()))
def test_detect_format_of_vectors(vectors: Path, name: str, fmt: AudioFormat) -> None:
    assert detect_format(vectors / name) is fmt


def test_detect_format_ignores_the_name(vectors: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "really-an-mp3.wav"
    shutil.copyfile(vectors / "sample1.mp3", disguised)
    assert detect_format(disguised) is AudioFormat.MP3
    assert probe(disguised).format is AudioFormat.MP3
    flac_as_m4a = tmp_path / "flac.m4a"
    shutil.copyfile(vectors / "sample1.flac", flac_as_m4a)
    assert detect_format(flac_as_m4a) is AudioFormat.FLAC


def test_text_file_named_wav_is_unsupported(tmp_path: Path) -> None:
    path = _write(tmp_path / "notes.wav", b"this is a text file, not audio\n" * 10)
    with pytest.raises(UnsupportedFormatError) as info:
        detect_format(path)
    _assert_one_line_naming(info.value, path)
    assert isinstance(info.value, InputError)


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.wav", b"")
    for call in (detect_format, probe):
        with pytest.raises(InputError, match="empty") as info:
            call(path)
        assert type(info.value) is InputError
        _assert_one_line_naming(info.value, path)


def test_directory_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    for call in (detect_format, probe):
        with pytest.raises(InputError, match="directory"):
            call(folder)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        detect_format(tmp_path / "nope.wav")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"RIFF\x00\x00\x01\x00AVI LIST" + b"\x00" * 100, "RIFF"),
        (b"RIFF\x00\x00\x01\x00RMIDdata" + b"\x00" * 100, "RIFF"),
    ],
    ids=["riff-avi", "riff-midi"],
)
def test_recognised_but_unsupported_formats_are_named(
    tmp_path: Path, data: bytes, named: str
) -> None:
    path = _write(tmp_path / "song.wav", data)
    with pytest.raises(UnsupportedFormatError) as info:
        detect_format(path)
    assert named in str(info.value)
    _assert_one_line_naming(info.value, path)
    with pytest.raises(UnsupportedFormatError):
        probe(path)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"OggS\x00\x02" + b"\x00" * 100, AudioFormat.OGG),
        (b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead" + b"\x00" * 100, AudioFormat.OPUS),
        (b"FORM\x00\x00\x01\x00AIFFCOMM" + b"\x00" * 100, AudioFormat.AIFF),
        (b"FORM\x00\x00\x01\x00AIFCCOMM" + b"\x00" * 100, AudioFormat.AIFF),
        (b"caff\x00\x01\x00\x00desc" + b"\x00" * 100, AudioFormat.CAF),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\x82\x84webm" + b"\x00" * 100, AudioFormat.WEBM),
        (b"\x1aE\xdf\xa3" + b"\x00" * 100, AudioFormat.MKA),
    ],
    ids=["ogg", "opus", "aiff", "aifc", "caf", "webm", "matroska"],
)
def test_fake_sidecar_format_files_are_recognised_then_refused_as_corrupt(
    tmp_path: Path, data: bytes, fmt: AudioFormat
) -> None:
    """A magic number followed by zeros is named by its format, and its structure refused."""
    path = _write(tmp_path / "song.wav", data)
    assert detect_format(path) is fmt
    with pytest.raises(CorruptAudioError) as info:
        probe(path)
    _assert_one_line_naming(info.value, path)


def test_signed_flac_starts_with_id3_and_is_still_flac(signed_files: dict[str, Path]) -> None:
    signed = signed_files["flac"]
    data = signed.read_bytes()
    assert data.startswith(b"ID3")
    size = 0
    for byte in data[6:10]:  # syncsafe tag size
        size = (size << 7) | byte
    tag_end = 10 + size + (10 if data[5] & 0x10 else 0)
    assert data[tag_end : tag_end + 4] == b"fLaC"
    assert b"c2pa" in data[:tag_end]
    assert detect_format(signed) is AudioFormat.FLAC
    assert probe(signed).format is AudioFormat.FLAC


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "m4a"])
def test_signed_outputs_probe_like_their_inputs(
    vectors: Path, signed_files: dict[str, Path], ext: str
) -> None:
    before, after = probe(vectors / f"sample1.{ext}"), probe(signed_files[ext])
    assert (after.format, after.sample_rate, after.channels) == (
        before.format,
        before.sample_rate,
        before.channels,
    )
    assert before.duration is not None
    assert after.duration == pytest.approx(before.duration, rel=1e-3)


# --- probe on real vectors ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), sorted(GOOD.items()))
def test_probe_good_vectors_agree_with_ffmpeg(
    vectors: Path, ffmpeg, name: str, fmt: AudioFormat
) -> None:
    info = probe(vectors / name)
    assert isinstance(info, AudioInfo)
    assert info.format is fmt
    assert info.sample_rate in (8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000)
    assert info.channels in (1, 2)
    assert info.duration is not None and info.duration > 1
    expected = ffmpeg.duration(vectors / name)
    assert info.duration == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("name", HOSTILE)
def test_probe_hostile_vectors_raise_one_line_corrupt_audio(vectors: Path, name: str) -> None:
    path = vectors / name
    with pytest.raises(CorruptAudioError) as info:
        probe(path)
    _assert_one_line_naming(info.value, path)
    assert info.value.path == path


TRUNCATIONS = [("half", 0.5), ("ninety", 0.9), ("minus-one", -1), ("header20", 20), ("header8", 8)]


def _truncated(vectors: Path, tmp_path: Path, ext: str, how: float) -> Path:
    data = (vectors / f"sample1.{ext}").read_bytes()
    if isinstance(how, float):
        size = int(len(data) * how)
    elif how < 0:
        size = len(data) + how
    else:
        size = how
    return _write(tmp_path / f"cut.{ext}", data[:size])


def _truncation_params() -> list[object]:
    return [
        pytest.param(ext, how, id=f"{ext}-{label}")
        for ext in ("wav", "mp3", "flac", "m4a")
        for label, how in TRUNCATIONS
    ]


@pytest.mark.parametrize(("ext", "how"), _truncation_params())
def test_probe_truncated_files_raise_input_errors(
    vectors: Path, tmp_path: Path, ext: str, how: float
) -> None:
    path = _truncated(vectors, tmp_path, ext, how)
    with pytest.raises(InputError) as info:
        probe(path)
    assert (
        isinstance(info.value, (CorruptAudioError, UnsupportedFormatError))
        or type(info.value) is InputError
    )
    _assert_one_line_naming(info.value, path)


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "m4a"])
def test_probe_truncation_sweep_never_raises_anything_but_input_errors(
    vectors: Path, tmp_path: Path, ext: str
) -> None:
    """Cut each format at many points: any outcome but a non-InputError exception is fine."""
    data = (vectors / f"sample1.{ext}").read_bytes()
    cuts = [1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 16, 24, 36, 44, 45, 64, 100, 500, 4096, 50_000]
    cuts += [len(data) * k // 20 for k in range(1, 20)]
    path = tmp_path / f"cut.{ext}"
    for size in cuts:
        path.write_bytes(data[:size])
        try:
            probe(path)
        except InputError as exc:
            _assert_one_line_naming(exc, path)


# --- hostile constructions (small inputs, must end quickly with a clear error) ------------------


def test_wav_with_huge_chunk_size(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.wav", _wav([_fmt_chunk(), _data_chunk(PCM)]))
    info = probe(good)
    assert (info.sample_rate, info.channels, info.duration) == (8000, 1, pytest.approx(0.1))
    for name, chunks, riff in [
        ("data", [_fmt_chunk(), _data_chunk(PCM, declared=0xFFFFFFF0)], None),
        ("junk", [b"JUNK" + struct.pack("<I", 0xFFFFFFFF), _fmt_chunk(), _data_chunk(PCM)], None),
        ("riff", [_fmt_chunk(), _data_chunk(PCM)], 0xFFFFFFF0),
    ]:
        path = _write(tmp_path / f"{name}.wav", _wav(chunks, riff))
        with pytest.raises(CorruptAudioError) as info:
            probe(path)
        _assert_one_line_naming(info.value, path)


def test_wav_structural_errors(tmp_path: Path) -> None:
    cases = {
        "data-before-fmt": _wav([_data_chunk(PCM), _fmt_chunk()]),
        "no-data": _wav([_fmt_chunk()]),
        "empty-data": _wav([_fmt_chunk(), _data_chunk(b"")]),
        "no-fmt": _wav([b"LIST" + struct.pack("<I", 4) + b"INFO"]),
        "zero-rate": _wav([_fmt_chunk(rate=0), _data_chunk(PCM)]),
        "short-fmt": _wav([b"fmt " + struct.pack("<I", 4) + b"\x01\x00\x01\x00", _data_chunk(PCM)]),
        "many-chunks": _wav([_fmt_chunk(), *[b"JUNK\x00\x00\x00\x00"] * 20_000, _data_chunk(PCM)]),
    }
    for name, data in cases.items():
        path = _write(tmp_path / f"{name}.wav", data)
        with pytest.raises(CorruptAudioError) as info:
            probe(path)
        _assert_one_line_naming(info.value, path)


def test_mp4_with_box_size_ffffffff(vectors: Path, tmp_path: Path) -> None:
    m4a = (vectors / "sample1.m4a").read_bytes()
    ftyp_size = struct.unpack(">I", m4a[:4])[0]
    cases = {
        "ftyp": b"\xff\xff\xff\xff" + m4a[4:],
        "second-box": m4a[:ftyp_size] + b"\xff\xff\xff\xff" + m4a[ftyp_size + 4 :],
        "small": b"\xff\xff\xff\xffftypM4A " + b"\x00" * 100,
        "largesize": m4a[:ftyp_size]
        + struct.pack(">I", 1)
        + m4a[ftyp_size + 4 : ftyp_size + 8]
        + struct.pack(">Q", 2**64 - 1)
        + m4a[ftyp_size + 8 :],
        "too-small": m4a[:ftyp_size] + struct.pack(">I", 3) + m4a[ftyp_size + 4 :],
    }
    for name, data in cases.items():
        path = _write(tmp_path / f"{name}.m4a", data)
        with pytest.raises(CorruptAudioError) as info:
            probe(path)
        _assert_one_line_naming(info.value, path)


def test_mp4_without_required_boxes(tmp_path: Path) -> None:
    ftyp = struct.pack(">I", 16) + b"ftypM4A " + b"\x00\x00\x00\x00"
    free = struct.pack(">I", 8) + b"free"
    path = _write(tmp_path / "bare.m4a", ftyp + free)
    with pytest.raises(CorruptAudioError, match="moov"):
        probe(path)


def _flac_parts(vectors: Path) -> tuple[bytes, bytes]:
    """(STREAMINFO body, the audio frames) of the FLAC vector."""
    data = (vectors / "sample1.flac").read_bytes()
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0
    offset = 4
    while True:
        header = struct.unpack(">I", data[offset : offset + 4])[0]
        offset += 4 + (header & 0xFFFFFF)
        if header >> 31:
            return data[8:42], data[offset:]


def _flac_streaminfo(vectors: Path) -> bytes:
    return _flac_parts(vectors)[0]


def test_flac_with_20000_metadata_blocks(vectors: Path, tmp_path: Path) -> None:
    streaminfo, frames = _flac_parts(vectors)
    first = struct.pack(">I", 34) + streaminfo  # STREAMINFO, not last
    padding = struct.pack(">I", 1 << 24)  # PADDING, length 0, not last
    last = struct.pack(">I", (1 << 31) | (1 << 24))

    few = _write(tmp_path / "few.flac", b"fLaC" + first + padding * 3 + last + frames)
    info = probe(few)
    assert (info.format, info.sample_rate, info.channels) == (AudioFormat.FLAC, 44100, 2)

    many = _write(tmp_path / "many.flac", b"fLaC" + first + padding * 19_999 + last + frames)
    with pytest.raises(CorruptAudioError) as err:
        probe(many)
    _assert_one_line_naming(err.value, many)


def test_flac_structural_errors(vectors: Path, tmp_path: Path) -> None:
    streaminfo = _flac_streaminfo(vectors)
    frame = b"\xff\xf8" + b"\x00" * 64
    cases = {
        "no-streaminfo": b"fLaC"
        + struct.pack(">I", (1 << 31) | (1 << 24) | 34)
        + streaminfo
        + frame,
        "huge-block": b"fLaC"
        + struct.pack(">I", 34)
        + streaminfo
        + struct.pack(">I", (1 << 24) | 0xFFFFFF),
        "no-frame": b"fLaC" + struct.pack(">I", (1 << 31) | 34) + streaminfo + b"\x00" * 64,
        "block-127": b"fLaC" + struct.pack(">I", 34) + streaminfo + struct.pack(">I", 127 << 24),
    }
    for name, data in cases.items():
        path = _write(tmp_path / f"{name}.flac", data)
        with pytest.raises(CorruptAudioError) as info:
            probe(path)
        _assert_one_line_naming(info.value, path)


@pytest.mark.parametrize(
    "garbage",
    [bytes(range(256)) * 20, b"A" * 5000, b"\x00" * 5000],
    ids=["bytes", "letters", "zeros"],
)
def test_mp3_with_garbage_in_the_middle(vectors: Path, tmp_path: Path, garbage: bytes) -> None:
    mp3 = (vectors / "sample1.mp3").read_bytes()
    middle = len(mp3) // 2
    path = _write(tmp_path / "garbage.mp3", mp3[:middle] + garbage + mp3[middle:])
    with pytest.raises(CorruptAudioError) as info:
        probe(path)
    _assert_one_line_naming(info.value, path)


def test_mp3_structural_errors(vectors: Path, tmp_path: Path) -> None:
    mp3 = (vectors / "sample1.mp3").read_bytes()
    cases = {
        "id3-too-long": b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + mp3[10:],
        "no-frames": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 5000,
        "sync-only": b"\xff\xfb" + b"\x00" * 100,
    }
    for name, data in cases.items():
        path = _write(tmp_path / f"{name}.mp3", data)
        with pytest.raises(CorruptAudioError) as info:
            probe(path)
        _assert_one_line_naming(info.value, path)


# --- encode ---------------------------------------------------------------------------------


def _tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    left = np.sin(2 * np.pi * 440 * t) * 8000
    rng = np.random.default_rng(7)
    columns = [left] + [rng.normal(0, 2000, t.shape) for _ in range(channels - 1)]
    return np.stack(columns, axis=1).astype(np.int16)


@pytest.mark.parametrize("fmt", list(AudioFormat), ids=str)
@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (22050, 1)])
def test_encode_each_format(
    tmp_path: Path, ffmpeg, fmt: AudioFormat, rate: int, channels: int
) -> None:
    samples = _tone(1.0, rate, channels)
    dest = tmp_path / f"tone.{fmt.extension}"
    encode(samples, rate, fmt, dest)
    info = probe(dest)
    # Opus decodes at 48 kHz whatever the input rate was.
    decoded_rate = 48000 if fmt in (AudioFormat.OPUS, AudioFormat.WEBM) else rate
    assert (info.format, info.sample_rate, info.channels) == (fmt, decoded_rate, channels)
    assert detect_format(dest) is fmt
    assert info.duration is not None
    # Lossy codecs add encoder delay and padding frames; PCM and FLAC are exact.
    if fmt in (AudioFormat.WAV, AudioFormat.FLAC, AudioFormat.AIFF):
        assert info.duration == pytest.approx(1.0, abs=1e-3)
    else:
        assert 0.95 < info.duration < 1.3
    decoded = ffmpeg.decode(dest)
    assert decoded.returncode == 0
    assert decoded.stderr == ""


def test_encode_is_deterministic(tmp_path: Path) -> None:
    samples = _tone(0.5, 22050, 1)
    for fmt in AudioFormat:
        a, b = tmp_path / f"a.{fmt.extension}", tmp_path / f"b.{fmt.extension}"
        encode(samples, 22050, fmt, a)
        encode(samples, 22050, fmt, b)
        assert a.read_bytes() == b.read_bytes(), fmt


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((100, 1), dtype=np.float32),
        np.zeros(100, dtype=np.int16),
        np.zeros((0, 2), dtype=np.int16),
    ],
    ids=["float", "1d", "empty"],
)
def test_encode_rejects_bad_sample_arrays(tmp_path: Path, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="int16"):
        encode(bad, 8000, AudioFormat.WAV, tmp_path / "x.wav")
