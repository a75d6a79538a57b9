"""Encoding and decoding the sidecar formats (Ogg Vorbis, Ogg Opus, AIFF) with the bundled
ffmpeg, and the generate command offering every format.

Files are made by the real encoder from a real two-second stereo signal (440 Hz left, 660 Hz
right), then read back by the real decoder; nothing is mocked.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from provsdk.audio.codec import decode, demuxer, encode, encode_stream, ffmpeg_executable
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import CorruptAudioError
from provsdk_cli.generate import generate

RATE = 44100
SECONDS = 2.0
TONES = (440.0, 660.0)  # one per channel, so a swapped or dropped channel shows
NEW = (AudioFormat.OGG, AudioFormat.OPUS, AudioFormat.AIFF)
# The rate a decoder gives back: Opus always decodes at 48 kHz (RFC 7845).
DECODED_RATE = {AudioFormat.OPUS: 48000, AudioFormat.WEBM: 48000}
TOLERANCE = 0.020  # seconds a decoded length may differ by


def _signal(seconds: float, rate: int, tones: tuple[float, ...] = TONES) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    columns = [np.sin(2 * np.pi * f * t) * 8000 for f in tones]
    return np.stack(columns, axis=1).astype(np.int16)


def _first_ogg_packet(data: bytes) -> bytes:
    """The start of the first packet of the first Ogg page (RFC 3533 page header)."""
    assert data[:4] == b"OggS"
    segments = data[26]
    return data[27 + segments : 27 + segments + 19]


def _dominant_hz(channel: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(channel.astype(np.float64)))
    return float(np.argmax(spectrum)) * rate / len(channel)


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return _signal(SECONDS, RATE)


@pytest.fixture(scope="module")
def encoded(
    tmp_path_factory: pytest.TempPathFactory, source: np.ndarray
) -> dict[AudioFormat, Path]:
    folder = tmp_path_factory.mktemp("sidecar-formats")
    made = {}
    for fmt in NEW:
        made[fmt] = folder / f"tone.{fmt.extension}"
        encode(source, RATE, fmt, made[fmt])
    return made


def test_ogg_vorbis_file_opens_with_the_vorbis_identification_header(
    encoded: dict[AudioFormat, Path],
) -> None:
    data = encoded[AudioFormat.OGG].read_bytes()
    packet = _first_ogg_packet(data)
    assert packet.startswith(b"\x01vorbis")
    # Vorbis identification header: version, channels, rate (little-endian).
    channels, rate = struct.unpack_from("<BI", packet, 11)
    assert (channels, rate) == (2, RATE)
    assert detect_format(encoded[AudioFormat.OGG]) is AudioFormat.OGG


def test_opus_file_opens_with_opushead_at_48_khz(encoded: dict[AudioFormat, Path]) -> None:
    packet = _first_ogg_packet(encoded[AudioFormat.OPUS].read_bytes())
    assert packet.startswith(b"OpusHead")
    # OpusHead: version, channel count, pre-skip, input sample rate (RFC 7845 5.1).
    channels, _pre_skip, input_rate = struct.unpack_from("<BHI", packet, 9)
    assert (channels, input_rate) == (2, 48000)
    assert detect_format(encoded[AudioFormat.OPUS]) is AudioFormat.OPUS


def test_aiff_file_is_a_form_aiff_whose_size_covers_the_file(
    encoded: dict[AudioFormat, Path],
) -> None:
    data = encoded[AudioFormat.AIFF].read_bytes()
    assert data[:4] == b"FORM" and data[8:12] == b"AIFF"
    assert struct.unpack(">I", data[4:8])[0] == len(data) - 8
    assert detect_format(encoded[AudioFormat.AIFF]) is AudioFormat.AIFF


@pytest.mark.parametrize("fmt", NEW, ids=str)
def test_decode_gives_back_rate_channels_length_and_tones(
    encoded: dict[AudioFormat, Path], fmt: AudioFormat
) -> None:
    samples, rate = decode(encoded[fmt], fmt)
    assert rate == DECODED_RATE.get(fmt, RATE)
    assert samples.dtype == np.int16 and samples.shape[1] == 2
    assert abs(samples.shape[0] / rate - SECONDS) <= TOLERANCE
    for channel, tone in enumerate(TONES):
        assert _dominant_hz(samples[:, channel], rate) == pytest.approx(tone, abs=2.0)


def test_aiff_decodes_to_the_very_samples_encoded(
    encoded: dict[AudioFormat, Path], source: np.ndarray
) -> None:
    samples, _ = decode(encoded[AudioFormat.AIFF], AudioFormat.AIFF)
    assert np.array_equal(samples, source)


@pytest.mark.parametrize(("rate", "channels"), [(RATE, 2), (16000, 1)])
def test_opus_is_resampled_to_48_khz_whatever_the_source_rate(
    tmp_path: Path, rate: int, channels: int
) -> None:
    # libopus also takes 16 kHz as it is: without the explicit resampling, OpusHead would
    # name 16000 and the file would differ from one made at 48 kHz.
    samples = _signal(1.0, rate, TONES[:channels])
    dest = tmp_path / "tone.opus"
    encode(samples, rate, AudioFormat.OPUS, dest)
    packet = _first_ogg_packet(dest.read_bytes())
    assert struct.unpack_from("<I", packet, 12)[0] == 48000
    decoded, decoded_rate = decode(dest, AudioFormat.OPUS)
    assert decoded_rate == 48000 and decoded.shape[1] == channels
    assert abs(decoded.shape[0] / 48000 - 1.0) <= TOLERANCE


@pytest.mark.parametrize("fmt", NEW, ids=str)
def test_same_samples_give_the_same_bytes_encoded_or_streamed(
    tmp_path: Path, encoded: dict[AudioFormat, Path], source: np.ndarray, fmt: AudioFormat
) -> None:
    # Another name, another folder, another run of ffmpeg: nothing of it may reach the bytes
    # (Ogg's stream serial number is random unless made reproducible).
    again = tmp_path / f"again.{fmt.extension}"
    encode(source, RATE, fmt, again)
    assert again.read_bytes() == encoded[fmt].read_bytes()
    streamed = tmp_path / f"streamed.{fmt.extension}"
    uneven = [source[at : at + 12345] for at in range(0, len(source), 12345)]
    encode_stream(uneven, RATE, fmt, streamed, channels=2, frames=len(source))
    assert streamed.read_bytes() == encoded[fmt].read_bytes()


def test_a_vorbis_file_named_opus_is_refused_not_decoded(encoded: dict[AudioFormat, Path]) -> None:
    with pytest.raises(CorruptAudioError, match="opus"):
        decode(encoded[AudioFormat.OGG], AudioFormat.OPUS)


@pytest.mark.parametrize("fmt", list(AudioFormat), ids=str)
def test_every_format_encodes_and_reads_back_through_its_demuxer(
    tmp_path: Path, fmt: AudioFormat
) -> None:
    # Over every AudioFormat member, so a format added later cannot lack an encoder, a
    # demuxer or a decoder.
    samples = _signal(0.5, 22050, TONES[:1])
    dest = tmp_path / f"short.{fmt.extension}"
    encode(samples, 22050, fmt, dest)
    read = subprocess.run(
        [
            *(ffmpeg_executable(), "-v", "error", "-nostdin"),
            *("-f", demuxer(fmt), "-i", f"file:{dest}", "-f", "null", "-"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert read.returncode == 0, read.stderr
    assert read.stderr == ""
    decoded, rate = decode(dest, fmt)
    assert rate == DECODED_RATE.get(fmt, 22050) and decoded.shape[1] == 1
    # MP3 and AAC may keep some encoder padding; the 20 ms bound is for the new formats.
    slack = TOLERANCE if fmt in NEW else 0.1
    assert abs(decoded.shape[0] / rate - 0.5) <= slack


def _format_option() -> click.Option:
    (option,) = (p for p in generate.params if p.name == "fmt")
    assert isinstance(option, click.Option)
    return option


def test_generate_offers_every_audio_format() -> None:
    option = _format_option()
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == [f.extension for f in AudioFormat]
    ctx = click.Context(generate)
    assert option.type.convert("OPUS", option, ctx) == "opus"
    with pytest.raises(click.BadParameter):
        option.type.convert("wma", option, ctx)


def test_generate_help_lists_the_new_formats_and_their_sidecar() -> None:
    result = CliRunner().invoke(generate, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "[wav|mp3|flac|m4a|ogg|opus|aiff|caf|webm|mka]" in result.output
    assert "ogg, opus, aiff, caf, webm, mka keep their manifest in a .c2pa sidecar" in (
        " ".join(result.output.split())
    )
