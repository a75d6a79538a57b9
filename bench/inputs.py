"""Benchmark inputs, built fresh in a temporary folder: a WAV file and a development PKI.

Nothing is written inside the repository, so a run leaves no trace and never picks up keys
or files from an earlier run.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from provsdk.audio.formats import AudioFormat
from provsdk.credentials import Algorithm, Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec, manifest_definition
from provsdk.models import DigitalSourceType, SoftwareAgent

__all__ = [
    "Credentials",
    "bench_spec",
    "load_credentials",
    "make_credentials",
    "raw_definition",
    "write_noise_wav",
]

SAMPLE_RATE = 44_100
CHANNELS = 2
# Written in slices so a long file never needs its whole sample array in memory at once.
_SLICE_SECONDS = 10


def write_noise_wav(
    path: Path,
    seconds: float,
    seed: int = 1,
    *,
    sample_rate: int = SAMPLE_RATE,
    sample_width: int = 2,
    channels: int = CHANNELS,
) -> int:
    """A PCM WAV of white noise (16-bit stereo 44.1 kHz unless told); returns its size in bytes.

    Noise rather than silence so nothing downstream can take a shortcut on repeated bytes;
    the signing and verification cost depends only on the byte count, not on the music. Any
    byte string is valid PCM, so the noise is random bytes whatever the sample width.
    """
    rng = np.random.default_rng(seed)
    frames_left = round(seconds * sample_rate)
    frame_bytes = sample_width * channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(sample_width)
        out.setframerate(sample_rate)
        while frames_left > 0:
            n = min(frames_left, _SLICE_SECONDS * sample_rate)
            out.writeframesraw(rng.bytes(n * frame_bytes))
            frames_left -= n
    return path.stat().st_size


@dataclass(frozen=True)
class Credentials:
    """The producer credential both sides sign with, and the anchors both sides trust."""

    home: ProvsdkHome
    signer: KeySigner
    trust: TrustConfig
    key_pem: bytes
    chain_pem: bytes
    anchors_pem: str


def make_credentials(root: Path) -> Credentials:
    """A new dev PKI under ``root``, loaded."""
    init_dev_pki(ProvsdkHome(root), Algorithm.ES256)
    return load_credentials(root)


def load_credentials(root: Path) -> Credentials:
    """The producer credential under ``root``; the raw baseline gets the same key and chain."""
    home = ProvsdkHome(root)
    # use_env=False: a PROVSDK_SIGNING_KEY in the caller's shell must not replace the dev key.
    signer = load_signer(Role.PRODUCER, home=home, use_env=False)
    trust = TrustConfig.load(home)
    return Credentials(
        home=home,
        signer=signer,
        trust=trust,
        key_pem=home.key_path(Role.PRODUCER).read_bytes(),
        chain_pem=home.chain_path(Role.PRODUCER).read_bytes(),
        anchors_pem=trust.producer.pem(),
    )


def bench_spec() -> ManifestSpec:
    return ManifestSpec(
        title="bench.wav",
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("bench", "1"),
    )


def raw_definition() -> dict[str, Any]:
    """The same manifest definition provsdk signs, so both sides embed identical claims."""
    return manifest_definition(bench_spec(), AudioFormat.WAV)
