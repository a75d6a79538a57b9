"""Ogg (Vorbis and Opus): every page from the first byte to the last, CRC included.

An Ogg file carries no C2PA manifest: its manifest is a sidecar whose data hash covers every
byte of the file, so this check makes sure every byte belongs to a well-formed page (capture
pattern, version 0, a lacing table whose sum is the body, a CRC that matches) and the pages
form one logical stream of Vorbis or Opus audio that begins, continues and ends as the codec's
mapping says: identification header alone on a BOS page, then the codec's other header
packets, then audio, and an EOS page last.

What provsdk does not sign is refused as unsupported, by name, not as corrupt: another codec
in Ogg (Ogg FLAC, Speex, Theora...), several logical streams multiplexed side by side
(Skeleton with audio, audio with video), and chained streams (one stream after another, as
radio captures are). Each needs its own account of channels, rate and duration, and a player
may play only one link or one stream of them.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from provsdk.audio.containers._buffer import Bytes
from provsdk.audio.containers.info import AudioInfo
from provsdk.audio.formats import AudioFormat
from provsdk.errors import UnsupportedFormatError

__all__ = ["check_ogg", "ogg_crc"]

_PAGE = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, n
_CONTINUED, _BOS, _EOS = 0x01, 0x02, 0x04
# The identification header is 30 bytes (Vorbis) or at most 21 + 255 (Opus). A cap keeps the
# packet inside the bytes detect_format reads, so that both name the same codec.
_MAX_ID_HEADER = 1024
# Vorbis has three header packets (identification, comment, setup), Opus two (head, tags).
_HEADERS = {AudioFormat.OGG: (b"\x01vorbis", b"\x03vorbis", b"\x05vorbis"),
            AudioFormat.OPUS: (b"OpusHead", b"OpusTags")}  # fmt: skip
# Opus always decodes at 48 kHz, whatever rate the input had (RFC 7845 section 5.1).
_OPUS_RATE = 48_000
# A granule position implying more than this is not believed: the duration is left unknown.
_MAX_SECONDS = 1000 * 3600
# First-packet magic of the other codecs an Ogg stream may carry, to name what is refused.
_OTHER_CODECS = (
    (b"\x7fFLAC", "Ogg FLAC"),
    (b"Speex   ", "Ogg Speex"),
    (b"\x80theora", "Ogg Theora video"),
    (b"fishead\0", "Ogg Skeleton"),
    (b"CELT    ", "Ogg CELT"),
    (b"PCM     ", "Ogg PCM"),
    (b"\x80kate\0\0\0", "Ogg Kate"),
    (b"OVP80", "Ogg VP8 video"),
    (b"BBCD\0", "Ogg Dirac video"),
    (b"\x80daala", "Ogg Daala video"),
    (b"OpusHead", "Ogg Opus"),
    (b"\x01vorbis", "Ogg Vorbis"),
)

# Ogg's CRC is the MSB-first CRC-32 (polynomial 0x04C11DB7, initial value 0, no final xor).
# zlib computes the same polynomial LSB-first, at C speed: feeding it every byte bit-reversed
# and reversing its register gives Ogg's value (about 1 GB/s, where a Python table loop
# manages a few MB/s).
_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(*parts: bytes) -> int:
    """The Ogg CRC-32 of the concatenation of ``parts``."""
    register = 0xFFFFFFFF  # zlib inverts its start value: this starts the register at zero
    for part in parts:
        register = zlib.crc32(part.translate(_REVERSED), register)
    return int(f"{register ^ 0xFFFFFFFF:032b}"[::-1], 2)


class _Stream:
    """One logical stream, followed page by page."""

    def __init__(self, fmt: AudioFormat, serial: int, sequence: int, pre_skip: int) -> None:
        self.fmt = fmt
        self.serial = serial
        self.sequence = sequence  # the number the next page must have
        self.pre_skip = pre_skip
        self.packets = 0  # complete packets so far
        self.head = b""  # the first bytes of the packet in progress, to check header magic
        self.open_packet = False  # the last page ended inside a packet
        self.granule = -1
        self.ended = False


def check_ogg(buf: Bytes) -> AudioInfo:
    info, stream = _identification(buf)
    offset = 0
    while offset < buf.size:
        if stream.ended and buf.data[offset : offset + 4] != b"OggS":
            raise buf.corrupt(
                f"corrupt Ogg: {buf.size - offset} bytes that are not a page follow the end "
                f"of the stream (offset {offset})"
            )
        offset = _page(buf, offset, stream)
    if not stream.ended:
        raise buf.corrupt(
            "truncated Ogg: the last page does not end the stream (no end-of-stream flag)"
        )
    if stream.packets <= len(_HEADERS[stream.fmt]):
        raise buf.corrupt("Ogg stream holds no audio packets")
    # The sidecar's data hash covers the whole file and excludes nothing, so the whole file is
    # what the signature vouches for: the essence is every byte.
    return AudioInfo(
        info.format,
        info.sample_rate,
        info.channels,
        _duration(stream.granule - stream.pre_skip, info.sample_rate),
        essence=((0, buf.size),),
    )


class _Page(NamedTuple):
    flags: int
    granule: int
    serial: int
    sequence: int
    lacing: bytes
    data: bytes  # the body
    end: int  # where the next page starts


def _read_page(buf: Bytes, offset: int) -> _Page:
    """The page at ``offset``, its header well-formed, its body in the file, its CRC right."""
    if buf.take(offset, 4, "Ogg page") != b"OggS":
        raise buf.corrupt(f"corrupt Ogg: no page starts at offset {offset} (no 'OggS')")
    header = buf.take(offset, _PAGE.size, "Ogg page header")
    _, version, flags, granule, serial, sequence, crc, segments = _PAGE.unpack(header)
    if version != 0:
        raise buf.corrupt(f"corrupt Ogg: page at offset {offset} has stream version {version}")
    if flags & ~(_CONTINUED | _BOS | _EOS):
        raise buf.corrupt(f"corrupt Ogg: page at offset {offset} sets reserved flags {flags:#x}")
    lacing = buf.take(offset + _PAGE.size, segments, "Ogg lacing table")
    body = offset + _PAGE.size + segments
    data = buf.take(body, sum(lacing), f"Ogg page body (page at offset {offset})")
    if ogg_crc(header[:22], b"\0\0\0\0", header[26:], lacing, data) != crc:
        raise buf.corrupt(f"corrupt Ogg: page at offset {offset} fails its CRC check")
    return _Page(flags, granule, serial, sequence, lacing, data, body + len(data))


def _identification(buf: Bytes) -> tuple[AudioInfo, _Stream]:
    """The codec, channels and rate from the first page, which must open a Vorbis or Opus
    stream with the identification header alone."""
    page = _read_page(buf, 0)
    flags, lacing, length = page.flags, page.lacing, len(page.data)
    packet = page.data[:_MAX_ID_HEADER]
    if not flags & _BOS:
        raise buf.corrupt("corrupt Ogg: the first page does not begin a stream")
    fmt = next((f for f, magic in _HEADERS.items() if packet.startswith(magic[0])), None)
    if fmt is None:
        named = next((name for magic, name in _OTHER_CODECS if packet.startswith(magic)), None)
        raise UnsupportedFormatError(
            f"{named} is not a format provsdk signs (Ogg holds Vorbis or Opus only)"
            if named
            else f"Ogg stream of an unknown codec (first packet begins {packet[:8]!r})",
            path=buf.path,
            hint="convert the file to one of the supported formats first",
        )
    # Both mappings put the identification header alone on the first page.
    if not lacing or lacing[-1] == 255 or any(v < 255 for v in lacing[:-1]):
        raise buf.corrupt("corrupt Ogg: the first page holds more or less than one header")
    if length > _MAX_ID_HEADER:
        raise buf.corrupt(f"corrupt Ogg: a {length}-byte identification header")
    info, pre_skip = _vorbis(buf, packet) if fmt is AudioFormat.OGG else _opus(buf, packet)
    return info, _Stream(fmt, page.serial, page.sequence, pre_skip)


def _vorbis(buf: Bytes, packet: bytes) -> tuple[AudioInfo, int]:
    if len(packet) < 30:
        raise buf.corrupt(f"corrupt Ogg: Vorbis identification header is {len(packet)} bytes")
    version, channels, rate = struct.unpack_from("<IBI", packet, 7)
    blocks, framing = packet[28], packet[29]
    if version != 0:
        raise UnsupportedFormatError(f"Vorbis version {version} is not Vorbis I", path=buf.path)
    small, large = blocks & 0x0F, blocks >> 4
    if not channels or not rate or not 6 <= small <= large <= 13 or not framing & 1:
        raise buf.corrupt(
            f"corrupt Ogg: Vorbis header says {channels} channels, {rate} Hz, "
            f"block sizes 2^{small}/2^{large}, framing {framing}"
        )
    return AudioInfo(AudioFormat.OGG, rate, channels, None), 0


def _opus(buf: Bytes, packet: bytes) -> tuple[AudioInfo, int]:
    """(info, pre-skip): the samples at the start that the decoder drops."""
    if len(packet) < 19:
        raise buf.corrupt(f"corrupt Ogg: OpusHead is {len(packet)} bytes, needs 19")
    version, channels, pre_skip, _, _, family = struct.unpack_from("<BBHIhB", packet, 8)
    if version >> 4:
        # RFC 7845: a new major version is incompatible; minor versions are readable.
        raise UnsupportedFormatError(f"Opus header version {version} is not 0.x", path=buf.path)
    needed = 19 if family == 0 else 21 + channels
    if not channels or (family == 0 and channels > 2) or len(packet) < needed:
        raise buf.corrupt(
            f"corrupt Ogg: OpusHead says {channels} channels with mapping family {family} "
            f"in {len(packet)} bytes"
        )
    return AudioInfo(AudioFormat.OPUS, _OPUS_RATE, channels, None), pre_skip


def _page(buf: Bytes, offset: int, stream: _Stream) -> int:
    """Check the page at ``offset`` against ``stream`` and return where the next one starts."""
    page = _read_page(buf, offset)
    flags, serial, sequence = page.flags, page.serial, page.sequence
    if flags & _BOS and offset:
        if stream.ended:
            raise UnsupportedFormatError(
                f"chained Ogg (a second stream begins at offset {offset}) is not supported",
                path=buf.path,
                hint="split the links into separate files or re-encode to one stream",
            )
        if serial != stream.serial:
            raise UnsupportedFormatError(
                f"multiplexed Ogg (a second logical stream begins at offset {offset}) is "
                "not supported; provsdk signs Ogg with one audio stream",
                path=buf.path,
                hint="remux the audio stream alone into a new file",
            )
        raise buf.corrupt(f"corrupt Ogg: a stream begins at offset {offset} inside another")
    if serial != stream.serial:
        raise buf.corrupt(f"corrupt Ogg: page at offset {offset} belongs to no open stream")
    if stream.ended:
        raise buf.corrupt(f"corrupt Ogg: page at offset {offset} follows the end of its stream")
    if sequence != stream.sequence:
        raise buf.corrupt(
            f"corrupt Ogg: page at offset {offset} is number {sequence}, "
            f"expected {stream.sequence} (pages missing or out of order)"
        )
    if bool(flags & _CONTINUED) != stream.open_packet:
        state = "continues a packet that" if flags & _CONTINUED else "starts afresh, but"
        raise buf.corrupt(
            f"corrupt Ogg: page at offset {offset} {state} the previous page "
            + ("did not leave open" if flags & _CONTINUED else "left a packet open")
        )
    _packets(buf, offset, stream, page.lacing, page.data)
    stream.sequence = sequence + 1
    if page.granule != -1:  # -1: no packet ends on this page
        stream.granule = page.granule
    if flags & _EOS:
        if stream.open_packet:
            raise buf.corrupt(f"corrupt Ogg: the stream ends inside a packet (offset {offset})")
        stream.ended = True
    return page.end


def _packets(buf: Bytes, offset: int, stream: _Stream, lacing: bytes, data: bytes) -> None:
    """Count the packets that end on this page, checking the codec's header packets."""
    headers = _HEADERS[stream.fmt]
    if stream.packets > len(headers):  # past the headers and the first audio packet
        stream.open_packet = bool(lacing) and lacing[-1] == 255
        return
    at = 0
    for value in lacing:
        if len(stream.head) < 8:
            stream.head += data[at : at + min(value, 8 - len(stream.head))]
        at += value
        if value == 255:
            continue
        index = stream.packets
        if index < len(headers) and not stream.head.startswith(headers[index]):
            raise buf.corrupt(
                f"corrupt Ogg: header packet {index + 1} (page at offset {offset}) is not "
                f"the codec's {headers[index]!r} header"
            )
        stream.packets += 1
        stream.head = b""
        if stream.packets > len(headers):
            break
    stream.open_packet = bool(lacing) and lacing[-1] == 255


def _duration(samples: int, rate: int | None) -> float | None:
    """Seconds from the last granule position less Opus's pre-skip, or None (unknown) when
    that is negative (a granule of -1 says no packet ended) or an absurd length."""
    assert rate is not None
    if not 0 <= samples <= _MAX_SECONDS * rate:
        return None
    return samples / rate
